package app

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/h5"
	"linli/internal/httpapi"
	"linli/internal/webcall"
	"linli/web"
)

// Route is one route of the HTTP server as `linli routes` lists it.
type Route struct {
	Method string // "" for a route of every method
	Path   string
	// Access says who may call it: see auth.Access; "ticket" for the
	// browsers' call socket, which redeems a one-time ticket.
	Access string
	// Handler is where the route is declared or served, file:line relative
	// to the repository root.
	Handler string
}

// Routes returns every route of the server, sorted by path then method:
// the API's operations, built as OpenAPI builds them (no database), and the
// plain routes Handler adds to the mux beside the API.
func Routes() ([]Route, error) {
	var out []Route
	err := withOfflineAPI(func(api huma.API) error {
		for _, item := range api.OpenAPI().Paths {
			for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Patch, item.Delete} {
				if op == nil {
					continue
				}
				where, _ := op.Metadata[httpapi.HandlerKey].(string)
				out = append(out, Route{Method: op.Method, Path: op.Path, Access: auth.Access(op.Metadata), Handler: where})
			}
		}
		return nil
	})
	out = append(out, plainRoutes()...)
	slices.SortFunc(out, func(a, b Route) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Method, b.Method))
	})
	return out, err
}

// plainRoutes are the routes Handler serves with mux.Handle rather than
// through the API; a test holds the list to Handler's mux.Handle calls.
func plainRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/webcall/ws", Access: "ticket", Handler: methodSource(webcall.Off(), "ServeHTTP")},
		{Method: http.MethodGet, Path: "/healthz", Access: "public", Handler: operationsSource},
		{Method: http.MethodGet, Path: "/readyz", Access: "public", Handler: operationsSource},
		{Method: http.MethodGet, Path: "/metrics", Access: "public", Handler: operationsSource},
		{Method: http.MethodGet, Path: "/h5/", Access: "public", Handler: methodSource(h5.Handler(), "ServeHTTP")},
		{Path: "/api/", Access: "public", Handler: funcSource(apiNotFound())},
		{Path: "/app/v1/", Access: "public", Handler: funcSource(apiNotFound())},
		{Path: "/device/v1/", Access: "public", Handler: funcSource(apiNotFound())},
		{Path: "/", Access: "public", Handler: funcSource(httpapi.SPA(web.Dist()))},
	}
}

// WriteRoutes writes routes as aligned columns: method, path, access,
// handler; a route of every method shows "*".
func WriteRoutes(w io.Writer, routes []Route) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, r := range routes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cmp.Or(r.Method, "*"), r.Path, r.Access, r.Handler)
	}
	return tw.Flush()
}

// operationsSource is where /healthz, /readyz and /metrics are served.
var operationsSource = source(reflect.ValueOf((*App).operations).Pointer())

// methodSource returns file:line of the method name of v's type.
func methodSource(v any, name string) string {
	m, ok := reflect.TypeOf(v).MethodByName(name)
	if !ok {
		return ""
	}
	return source(m.Func.Pointer())
}

// funcSource returns file:line of the function an http.HandlerFunc wraps.
func funcSource(h http.Handler) string {
	return source(reflect.ValueOf(h).Pointer())
}

func source(pc uintptr) string {
	fn := runtime.FuncForPC(pc)
	if fn == nil {
		return ""
	}
	file, line := fn.FileLine(pc)
	_, self, _, _ := runtime.Caller(0)
	root := strings.TrimSuffix(self, "internal/app/routes.go")
	return fmt.Sprintf("%s:%d", strings.TrimPrefix(file, root), line)
}
