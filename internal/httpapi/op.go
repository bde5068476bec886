package httpapi

import (
	"fmt"
	"maps"
	"runtime"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// HandlerKey is the key of an operation's Metadata that holds where the
// operation is declared, as file:line relative to the repository root
// (internal/card/api.go:160); `linli routes` lists it. Metadata is not part
// of the OpenAPI document.
const HandlerKey = "handler"

// Option sets one property of an operation built by Op.
type Option func(*huma.Operation)

// Op returns the operation id: method at path (the full path, one literal,
// so that searching for it lands here) with summary, callable by whom access
// says (auth.Needs, auth.Open, auth.Public, auth.AnySession,
// auth.OperatorOnly, auth.DeviceOnly, auth.ResidentOnly). Everything else
// is an option; nothing is implied by the method.
func Op(id, method, path, summary string, access map[string]any, opts ...Option) huma.Operation {
	o := huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Metadata: maps.Clone(access)}
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	if _, file, line, ok := runtime.Caller(1); ok {
		o.Metadata[HandlerKey] = fmt.Sprintf("%s:%d", strings.TrimPrefix(file, repoRoot()), line)
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// repoRoot returns the directory the source files were compiled from, with
// a trailing slash: the path of this file less internal/httpapi/op.go
// (a module path such as "linli/" when built with -trimpath).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return strings.TrimSuffix(file, "internal/httpapi/op.go")
}

// Tags files the operation under the document's tags (the console's menus).
func Tags(tags ...string) Option {
	return func(o *huma.Operation) { o.Tags = tags }
}

// Describe sets the operation's description.
func Describe(description string) Option {
	return func(o *huma.Operation) { o.Description = description }
}

// Status sets the status of the operation's successful answer.
func Status(status int) Option {
	return func(o *huma.Operation) { o.DefaultStatus = status }
}

// MaxBody sets the largest request body the operation accepts, in bytes
// (huma's default is 1 MiB).
func MaxBody(n int64) Option {
	return func(o *huma.Operation) { o.MaxBodyBytes = n }
}

// Security names the security scheme of the API document the operation
// takes its credentials from ("device", "app").
func Security(scheme string) Option {
	return func(o *huma.Operation) { o.Security = []map[string][]string{{scheme: {}}} }
}

// Response documents the answer with status code (e.g. "202") as r.
func Response(code string, r *huma.Response) Option {
	return func(o *huma.Operation) {
		if o.Responses == nil {
			o.Responses = map[string]*huma.Response{}
		}
		o.Responses[code] = r
	}
}

// Binary documents that the operation answers with a file of contentType
// rather than JSON, so that the API document and generated clients treat it
// as bytes.
func Binary(contentType, description string) Option {
	return Response("200", &huma.Response{
		Description: description,
		Content:     map[string]*huma.MediaType{contentType: {Schema: &huma.Schema{Type: "string", Format: "binary"}}},
	})
}
