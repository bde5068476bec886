// Package httpapi builds the HTTP surface shared by every domain: the huma API
// under /api/v1 with its OpenAPI document, the one table that maps the error
// vocabulary to HTTP statuses with Chinese problem details, and the embedded
// console SPA.
package httpapi

import (
	"net/http"
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

var multipartOnce sync.Once

// NewAPI returns a huma API mounted on mux. Domain packages register their
// operations on it with paths that start with /api/v1.
func NewAPI(mux *http.ServeMux, version string) huma.API {
	// Uploads up to 2 MB (snapshots, photos, most workbooks) are parsed in
	// memory; larger ones (firmware) go to temporary files as before. The
	// limit is humago's, for the whole process: it is set once, so that a
	// second API built in the same process does not write it while the
	// first one's requests read it.
	multipartOnce.Do(func() { humago.MultipartMaxMemory = 2 << 20 })
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
	return humago.New(mux, cfg)
}

// Binary documents that op answers with a file of contentType rather than
// JSON, so that the API document and generated clients treat it as bytes.
func Binary(op huma.Operation, contentType, description string) huma.Operation {
	if op.Responses == nil {
		op.Responses = map[string]*huma.Response{}
	}
	op.Responses["200"] = &huma.Response{
		Description: description,
		Content:     map[string]*huma.MediaType{contentType: {Schema: &huma.Schema{Type: "string", Format: "binary"}}},
	}
	return op
}

// Op returns the operation id at path under tags: creating (POST) answers
// 201 and deleting answers 204, as the console's lists expect.
func Op(id, method, path, summary string, tags ...string) huma.Operation {
	o := huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Tags: tags}
	switch method {
	case http.MethodPost:
		o.DefaultStatus = http.StatusCreated
	case http.MethodDelete:
		o.DefaultStatus = http.StatusNoContent
	}
	return o
}
