package app

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestRoutes checks that every route says who may call it and where it is
// declared, and that the plain routes are those Handler adds to its mux.
func TestRoutes(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..")
	routes, err := Routes()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 100 {
		t.Fatalf("%d routes, want every operation", len(routes))
	}
	for _, r := range routes {
		if r.Access == "" || r.Handler == "" {
			t.Errorf("%s %s: access %q, handler %q; want both", r.Method, r.Path, r.Access, r.Handler)
			continue
		}
		file, _, ok := strings.Cut(r.Handler, ":")
		if !ok {
			t.Errorf("%s %s: handler %q is not file:line", r.Method, r.Path, r.Handler)
			continue
		}
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			t.Errorf("%s %s: handler %s: %v", r.Method, r.Path, r.Handler, err)
		}
	}

	src, err := os.ReadFile(filepath.Join(root, "internal/app/app.go"))
	if err != nil {
		t.Fatal(err)
	}
	var handled []string
	for _, m := range regexp.MustCompile(`mux\.Handle\("([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		handled = append(handled, m[1])
	}
	var listed []string
	for _, r := range plainRoutes() {
		listed = append(listed, strings.TrimSpace(r.Method+" "+r.Path))
	}
	if strings.Join(handled, ",") != strings.Join(listed, ",") {
		t.Errorf("app.go handles %q, plainRoutes lists %q", handled, listed)
	}
}
