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
	"sync/atomic"

	"github.com/danielgtaylor/huma/v2"
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

// InstallErrors makes huma answer every error as a problem document with a
// Chinese detail, and logs internal errors with logger. It replaces huma's
// package-level error constructor, so call it once at start.
func InstallErrors(logger *slog.Logger) {
	errorLogger.Store(logger)
	installOnce.Do(install)
}

var (
	installOnce sync.Once
	errorLogger atomic.Pointer[slog.Logger]
)

func install() {
	// Lists are always sent as arrays, never null.
	huma.DefaultArrayNullable = false
	translateValidation()
	huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, es ...error) huma.StatusError {
		ctx := context.Background()
		path := ""
		if hctx != nil {
			ctx = hctx.Context()
			path = hctx.Operation().Method + " " + hctx.URL().Path
		}
		logger := errorLogger.Load()
		for _, e := range es {
			if ae, ok := errs.As(e); ok {
				return fromAppError(ctx, logger, path, ae)
			}
		}
		if status >= 500 {
			logger.ErrorContext(ctx, "request failed", "op", path, "status", status, "msg", msg, "err", errors.Join(es...))
			return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: "服务器内部错误，请稍后再试"}
		}
		return fromHuma(status, msg, es)
	}
	huma.NewError = func(status int, msg string, es ...error) huma.StatusError {
		return huma.NewErrorWithContext(nil, status, msg, es...)
	}
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
// content type, size) into Chinese, naming each field.
func fromHuma(status int, msg string, es []error) huma.StatusError {
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
		d.Message = detailMessage(status, d)
		p.Errors = append(p.Errors, d)
		parts = append(parts, d.Message)
	}
	switch {
	case status == http.StatusUnsupportedMediaType:
		p.Detail = "不支持的请求格式，请以 application/json 提交"
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
func detailMessage(status int, d *huma.ErrorDetail) string {
	loc := d.Location
	if field, ok := strings.CutPrefix(d.Message, requiredPrefix); ok {
		return FieldLabel(field) + "：必填"
	}
	if d.Message == "required form parameter is missing" || d.Message == "File required" {
		return FieldLabel(loc) + "：必填"
	}
	if loc == "" || (loc == "body" && status == http.StatusBadRequest) {
		if status == http.StatusBadRequest && loc == "body" {
			return "格式错误（" + d.Message + "）"
		}
		return d.Message
	}
	return FieldLabel(loc) + "：" + d.Message
}

// FieldLabel turns a location such as "body.floors" or "query.size" into a
// label a person recognises: "楼层数（floors）".
func FieldLabel(loc string) string {
	name := loc
	if i := strings.LastIndexByte(loc, '.'); i >= 0 {
		name = loc[i+1:]
	}
	if name == "body" {
		return "请求内容"
	}
	if label, ok := fieldLabels[name]; ok {
		return label + "（" + name + "）"
	}
	return name
}

var fieldLabels = map[string]string{
	"account":                  "账号",
	"password":                 "密码",
	"old_password":             "原密码",
	"new_password":             "新密码",
	"remember":                 "自动登录",
	"name":                     "名称",
	"phone":                    "电话",
	"email":                    "邮箱",
	"role":                     "角色",
	"community_ids":            "所属小区",
	"region_code":              "所在城市",
	"address":                  "详细地址",
	"management_station_count": "管理机数量",
	"wall_station_count":       "围墙机数量",
	"card_type":                "门禁卡类型",
	"community_password":       "小区密码",
	"resident_roles":           "业主角色组",
	"number":                   "编号",
	"parking_lot_no":           "车场编号",
	"parking_lot_key":          "车场密钥",
	"area_id":                  "区域",
	"building_id":              "楼栋",
	"unit_id":                  "单元",
	"type":                     "单元类型",
	"device_count":             "设备数量",
	"floor":                    "楼层编号",
	"floors":                   "楼层数",
	"rooms_per_floor":          "每层房间数",
	"page":                     "页码",
	"size":                     "每页条数",
	"cid":                      "小区编号",
	"id":                       "编号",
	"uid":                      "单元编号",
	"kind":                     "设备类型",
	"serial":                   "序列号",
	"slot":                     "安装位置",
	"index":                    "编号",
	"community_id":             "小区编号",
	"orientation":              "屏幕方向",
	"resident_id":              "业主",
	"unit_ids":                 "可开的单元",
	"valid_until":              "有效时间",
	"format":                   "卡号格式",
	"mode":                     "卡模式",
	"since":                    "版本号",
	"reason":                   "打回原因",
	"gender":                   "性别",
	"id_number":                "身份证号",
	"hometown_code":            "户籍城市",
	"room_id":                  "房间",
	"contact_phone":            "联系人手机",
	"q":                        "姓名或手机号",
	"status":                   "状态",
	"username":                 "用户名",
	"sdp":                      "SDP",
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
