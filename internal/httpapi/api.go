// Package httpapi builds the HTTP surface shared by every domain: the huma API
// under /api/v1 with its OpenAPI document, the one table that maps the error
// vocabulary to HTTP statuses with Chinese problem details, and the embedded
// console SPA.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// Title and paths of the API document.
const (
	Title       = "Linli 邻里 API"
	OpenAPIPath = "/api/openapi" // serves /api/openapi.json and .yaml
	DocsPath    = "/api/docs"
)

// NewAPI returns a huma API mounted on mux. Domain packages register their
// operations on it with paths that start with /api/v1. Errors of its
// requests are logged with logger and name fields by the labels its own
// operations document, so several APIs in one process stay independent.
func NewAPI(mux *http.ServeMux, version string, logger *slog.Logger) huma.API {
	setProcessDefaults()
	cfg := huma.DefaultConfig(Title, version)
	cfg.OpenAPIPath = OpenAPIPath
	cfg.DocsPath = DocsPath
	cfg.SchemasPath = "/api/schemas"
	cfg.CreateHooks = nil // no $schema links in bodies
	cfg.Info.Description = "邻里智慧社区平台的管理后台接口。错误以 RFC 9457 问题文档返回，detail 为可直接展示的中文说明。"
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"session": {Type: "apiKey", In: "cookie", Name: "linli_session"},
		"device":  {Type: "http", Scheme: "bearer", Description: "设备绑定时得到的 token"},
		"app":     {Type: "http", Scheme: "bearer", Description: "业主 APP 验证码登录得到的 token"},
	}
	api := humago.New(mux, cfg)
	srv := &server{logger: logger, api: api}
	// First of the API's middlewares, so that errors of every later one
	// find the server too.
	api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
		next(huma.WithValue(ctx, serverKey{}, srv))
	})
	api.UseMiddleware(limitForms(api))
	return api
}

// limitForms applies an operation's body limit to multipart forms, which
// huma reads (spooling files to disk) without it: a body declared larger
// is refused before anything is read, and one that turns out larger stops
// being read at the limit.
func limitForms(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		limit := ctx.Operation().MaxBodyBytes
		if limit <= 0 || !strings.HasPrefix(ctx.Header("Content-Type"), "multipart/") {
			next(ctx)
			return
		}
		r, w := humago.Unwrap(ctx)
		if r.ContentLength > limit {
			_ = huma.WriteErr(api, ctx, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("上传的内容太大：%.1f MB，最大 %.1f MB", float64(r.ContentLength)/1e6, float64(limit)/1e6))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next(ctx)
	}
}

// server is what the error constructor needs of the API a request came to.
type server struct {
	logger *slog.Logger
	api    huma.API

	labelsOnce sync.Once
	labels     *fieldLabels
}

type serverKey struct{}

// serverOf returns the server of the request ctx belongs to. Errors raised
// outside any API's request (huma.NewError without a context) get the
// default logger and the hand-written labels.
func serverOf(ctx context.Context) *server {
	if srv, ok := ctx.Value(serverKey{}).(*server); ok {
		return srv
	}
	return &server{logger: slog.Default()}
}
