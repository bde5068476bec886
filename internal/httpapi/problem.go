package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/danielgtaylor/huma/v2/validation"

	"linli/internal/errs"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[errs.Code]int{
	errs.Invalid:      http.StatusUnprocessableEntity,
	errs.NotFound:     http.StatusNotFound,
	errs.Conflict:     http.StatusConflict,
	errs.Forbidden:    http.StatusForbidden,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.TooMany:      http.StatusTooManyRequests,
	errs.Unavailable:  http.StatusServiceUnavailable,
	errs.Timeout:      http.StatusGatewayTimeout,
	errs.MustChange:   http.StatusForbidden,
	errs.Internal:     http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for err.
func StatusOf(err error) int {
	if s, ok := statusOf[errs.CodeOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is the RFC 9457 problem document Linli answers errors with.
type Problem = huma.ErrorModel

// processDefaults are huma's package-level settings that have no per-API
// alternative. They are the same for every server Linli builds, so they are
// set exactly once per process, before the first API is built; everything
// that differs between servers (the error logger, the field labels) is
// taken from the request's context by the error constructor instead.
var processDefaults sync.Once

func setProcessDefaults() {
	processDefaults.Do(func() {
		// Uploads up to 2 MB (snapshots, photos, most workbooks) are parsed
		// in memory; larger ones (firmware) go to temporary files.
		humago.MultipartMaxMemory = 2 << 20
		// Lists are always sent as arrays, never null.
		huma.DefaultArrayNullable = false
		// huma's validation messages are package variables: Chinese text,
		// the same for every server.
		translateValidation()
		// huma's one hook for building errors; it finds the server whose
		// request failed (its logger and labels) in the request's context.
		huma.NewErrorWithContext = newError
		huma.NewError = func(status int, msg string, es ...error) huma.StatusError {
			return newError(nil, status, msg, es...)
		}
	})
}

// newError answers every error as a problem document with a Chinese detail
// and logs internal errors with the logger of the API the request came to.
func newError(hctx huma.Context, status int, msg string, es ...error) huma.StatusError {
	ctx := context.Background()
	path, opID := "", ""
	if hctx != nil {
		ctx = hctx.Context()
		path = hctx.Operation().Method + " " + hctx.URL().Path
		opID = hctx.Operation().OperationID
	}
	srv := serverOf(ctx)
	for _, e := range es {
		if ae, ok := errs.As(e); ok {
			return fromAppError(ctx, srv.logger, path, ae)
		}
	}
	if status == 0 && len(es) > 0 {
		// A failure without a status (a middleware's, passed on as it
		// came) is an internal one. (huma itself asks for an error of
		// status 0 without a cause, for its schema.)
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		srv.logger.ErrorContext(ctx, "request failed", "op", path, "status", status, "msg", msg, "err", errors.Join(es...))
		return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: "服务器内部错误，请稍后再试"}
	}
	return srv.fromHuma(opID, status, msg, es)
}

func fromAppError(ctx context.Context, logger *slog.Logger, path string, e *errs.Error) huma.StatusError {
	status := StatusOf(e)
	if status >= 500 && e.Code != errs.Unavailable && e.Code != errs.Timeout {
		logger.ErrorContext(ctx, "request failed", "op", path, "err", e)
		return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: "服务器内部错误，请稍后再试"}
	}
	if e.Code == errs.Unavailable {
		// A part the request needs is busy or down: the message says what
		// to do (try again later); the cause goes to the log.
		logger.WarnContext(ctx, "request failed: unavailable", "op", path, "err", e)
	}
	p := &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: e.Message}
	for _, f := range e.Fields {
		loc := f.Location
		if loc == "" {
			loc = "body." + f.Field
		}
		p.Errors = append(p.Errors, &huma.ErrorDetail{Location: loc, Message: f.Message})
	}
	return p
}

// fromHuma translates huma's own request errors (validation, parsing,
// content type, size) of the operation opID into Chinese, naming each field.
func (srv *server) fromHuma(opID string, status int, msg string, es []error) huma.StatusError {
	p := &huma.ErrorModel{Status: status, Title: http.StatusText(status)}
	var parts []string
	for _, e := range es {
		if e == nil {
			continue
		}
		d := &huma.ErrorDetail{Message: e.Error()}
		var hd huma.ErrorDetailer
		if errors.As(e, &hd) {
			d = hd.ErrorDetail()
		}
		d.Message = srv.detailMessage(opID, status, d)
		p.Errors = append(p.Errors, d)
		parts = append(parts, d.Message)
	}
	switch {
	case status == http.StatusUnsupportedMediaType:
		p.Detail = "不支持的请求格式，请以 application/json 提交"
	case status == http.StatusRequestEntityTooLarge && msg != "" && utf8.RuneCountInString(msg) != len(msg):
		p.Detail = msg // ours, already in Chinese (limitForms)
	case status == http.StatusRequestEntityTooLarge:
		p.Detail = "请求内容太大"
	case status == http.StatusBadRequest && msg == "request body is required":
		p.Detail = "请求内容不能为空"
	case status == http.StatusBadRequest && len(parts) > 0 && isBodyParse(p.Errors):
		p.Detail = "请求内容不是有效的 JSON：" + parts[0]
	case len(parts) > 0:
		p.Detail = "请求参数有误：" + strings.Join(parts, "；")
	case status == http.StatusNotFound:
		p.Detail = "请求的资源不存在"
	case status == http.StatusMethodNotAllowed:
		p.Detail = "不支持该请求方法"
	case status == http.StatusNotAcceptable:
		p.Detail = "无法提供所请求的格式"
	default:
		p.Detail = fmt.Sprintf("请求无法处理（%d）", status)
	}
	return p
}

func isBodyParse(ds []*huma.ErrorDetail) bool {
	return len(ds) == 1 && ds[0].Location == "body"
}

// detailMessage prefixes a validation message with the field it is about.
func (srv *server) detailMessage(opID string, status int, d *huma.ErrorDetail) string {
	loc := d.Location
	if field, ok := strings.CutPrefix(d.Message, requiredPrefix); ok {
		return srv.label(opID, field) + "：必填"
	}
	if d.Message == "required form parameter is missing" || d.Message == "File required" {
		return srv.label(opID, loc) + "：必填"
	}
	if loc == "" || (loc == "body" && status == http.StatusBadRequest) {
		if status == http.StatusBadRequest && loc == "body" {
			return "格式错误（" + d.Message + "）"
		}
		return d.Message
	}
	return srv.label(opID, loc) + "：" + d.Message
}

const requiredPrefix = "缺少必填字段 "

// translateValidation puts huma's validation messages into Chinese.
func translateValidation() {
	validation.MsgUnexpectedProperty = "不认识的字段"
	validation.MsgExpectedRFC5322Email = "不是有效的邮箱地址：%v"
	validation.MsgExpectedBoolean = "应为布尔值 true 或 false"
	validation.MsgExpectedNumber = "应为数字"
	validation.MsgExpectedInteger = "应为整数"
	validation.MsgExpectedString = "应为文本"
	validation.MsgExpectedArray = "应为数组"
	validation.MsgExpectedObject = "应为对象"
	validation.MsgExpectedArrayItemsUnique = "不能有重复项"
	validation.MsgExpectedOneOf = "只能是以下之一：%s"
	validation.MsgExpectedMinimumNumber = "不能小于 %v"
	validation.MsgExpectedExclusiveMinimumNumber = "必须大于 %v"
	validation.MsgExpectedMaximumNumber = "不能大于 %v"
	validation.MsgExpectedExclusiveMaximumNumber = "必须小于 %v"
	validation.MsgExpectedMinLength = "至少需要 %d 个字符"
	validation.MsgExpectedMaxLength = "不能超过 %d 个字符"
	validation.MsgExpectedMatchPattern = "格式不正确（应匹配 %s）"
	validation.MsgExpectedBePattern = "格式不正确（应为 %s）"
	validation.MsgExpectedMinItems = "至少需要 %d 项"
	validation.MsgExpectedMaxItems = "不能超过 %d 项"
	validation.MsgExpectedRequiredProperty = requiredPrefix + "%s"
	validation.MsgExpectedRFC3339DateTime = "应为 RFC 3339 时间"
	validation.MsgExpectedRFC3339Date = "应为日期（YYYY-MM-DD）"
}

// WriteProblem writes a problem document outside huma (router fallbacks,
// CSRF refusals).
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(&huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: detail})
}
