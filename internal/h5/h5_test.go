package h5

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func get(tb testing.TB, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func testSite(tb testing.TB) *site {
	tb.Helper()
	s, err := load(static)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestRoutes(t *testing.T) {
	s := testSite(t)
	v := s.version
	cases := []struct {
		path, status, cache, contentType, contains string
	}{
		{"/h5/", "200", "no-cache", "text/html", `src="/h5/assets/` + v + `/app.js"`},
		{"/h5/pass/Ab-9_x", "200", "no-cache", "text/html", `/h5/assets/` + v + `/pass.js`},
		{"/h5/apply/tok123", "200", "no-cache", "text/html", `/h5/assets/` + v + `/apply.js`},
		{"/h5/assets/" + v + "/app.js", "200", "public, max-age=31536000, immutable", "text/javascript", "import"},
		{"/h5/assets/" + v + "/pages/doors.js", "200", "public, max-age=31536000, immutable", "text/javascript", "/doors"},
		{"/h5/assets/" + v + "/app.css", "200", "public, max-age=31536000, immutable", "text/css", ".btn"},
		{"/h5/assets/v-0123456789ab/app.js", "200", "no-cache", "text/javascript", "import"}, // a page of an older binary
		{"/h5/assets/apply.js", "200", "no-cache", "text/javascript", "apply"},
		{"/h5/nope", "404", "no-cache", "text/plain", "页面不存在"},
		{"/h5/app/doors", "404", "no-cache", "text/plain", ""},
		{"/h5/pass/", "404", "", "text/plain", ""},
		{"/h5/pass/a/b", "404", "", "text/plain", ""},
		{"/h5/pass/%3Cscript%3E", "404", "", "text/plain", ""},
		{"/h5/apply/", "404", "", "text/plain", ""},
		{"/h5/assets/missing.js", "404", "", "text/plain", ""},
		{"/h5/assets/" + v + "/missing.js", "404", "", "text/plain", ""},
		{"/h5/assets/app.html", "404", "", "text/plain", ""},
		{"/h5/assets/" + v + "/pass.html", "404", "", "text/plain", ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			w := get(t, s, c.path)
			if got := w.Result().Status[:3]; got != c.status {
				t.Fatalf("status %s, want %s", got, c.status)
			}
			h := w.Header()
			if got := h.Get("Content-Security-Policy"); got != CSP {
				t.Errorf("CSP %q", got)
			}
			if CSP != "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'" {
				t.Errorf("the CSP changed: %s", CSP)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("headers %v", h)
			}
			if c.cache != "" && h.Get("Cache-Control") != c.cache {
				t.Errorf("Cache-Control %q, want %q", h.Get("Cache-Control"), c.cache)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), c.contentType) {
				t.Errorf("Content-Type %q, want %s", h.Get("Content-Type"), c.contentType)
			}
			if !strings.Contains(w.Body.String(), c.contains) {
				t.Errorf("body lacks %q", c.contains)
			}
			if c.status == "200" && h.Get("ETag") == "" {
				t.Error("no ETag")
			}
		})
	}
}

// TestMounted checks the handler behind the mux pattern app.go uses.
func TestMounted(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /h5/", Handler())
	if w := get(t, mux, "/h5/"); w.Code != http.StatusOK {
		t.Fatalf("/h5/: %d", w.Code)
	}
	if w := get(t, mux, "/h5"); w.Code/100 != 3 || w.Header().Get("Location") != "/h5/" {
		t.Fatalf("/h5: %d", w.Code)
	}
	r := httptest.NewRequest(http.MethodHead, "/h5/", nil)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Security-Policy") != CSP {
		t.Fatalf("HEAD /h5/: %d, %d bytes", w.Code, w.Body.Len())
	}
}

func TestGzip(t *testing.T) {
	s := testSite(t)
	for _, p := range []string{"/h5/", "/h5/assets/" + s.version + "/core.js", "/h5/pass/x"} {
		plain := get(t, s, p)
		if plain.Header().Get("Content-Encoding") != "" {
			t.Fatalf("%s: gzip without Accept-Encoding", p)
		}
		if plain.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s: Vary %q", p, plain.Header().Get("Vary"))
		}
		zipped := get(t, s, p, "Accept-Encoding", "br, gzip;q=0.8, deflate")
		if zipped.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: not gzipped", p)
		}
		if zipped.Body.Len() >= plain.Body.Len() {
			t.Errorf("%s: gzip %d >= plain %d", p, zipped.Body.Len(), plain.Body.Len())
		}
		zr, err := gzip.NewReader(bytes.NewReader(zipped.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		un, _ := io.ReadAll(zr)
		if !bytes.Equal(un, plain.Body.Bytes()) {
			t.Errorf("%s: gzip body differs", p)
		}
		if zipped.Header().Get("ETag") == plain.Header().Get("ETag") {
			t.Errorf("%s: the gzip and plain bodies share an ETag", p)
		}
		if get(t, s, p, "Accept-Encoding", "gzip;q=0").Header().Get("Content-Encoding") != "" {
			t.Errorf("%s: gzip;q=0 still gzipped", p)
		}
	}
}

func TestETag(t *testing.T) {
	s := testSite(t)
	for _, p := range []string{"/h5/", "/h5/assets/" + s.version + "/app.css", "/h5/apply/t"} {
		for _, enc := range []string{"", "gzip"} {
			first := get(t, s, p, "Accept-Encoding", enc)
			tag := first.Header().Get("ETag")
			if !regexp.MustCompile(`^"[0-9a-f]{20}(-gz)?"$`).MatchString(tag) {
				t.Fatalf("%s: ETag %q", p, tag)
			}
			again := get(t, s, p, "Accept-Encoding", enc, "If-None-Match", tag)
			if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
				t.Errorf("%s (%s): If-None-Match gives %d with %d bytes", p, enc, again.Code, again.Body.Len())
			}
			if again.Header().Get("Content-Security-Policy") != CSP {
				t.Errorf("%s: 304 without CSP", p)
			}
			if other := get(t, s, p, "Accept-Encoding", enc, "If-None-Match", `"0000"`); other.Code != http.StatusOK {
				t.Errorf("%s: a stale ETag gives %d", p, other.Code)
			}
		}
	}
}

// TestPagesStayStrict: nothing inline that the CSP would block, nothing from
// elsewhere, and every asset a page or module names exists.
func TestPagesStayStrict(t *testing.T) {
	s := testSite(t)
	ref := regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	imp := regexp.MustCompile(`(?:from|import)\s*\(?\s*'(\.[^']+)'`)
	for name, f := range s.files {
		body := string(f.body)
		switch path.Ext(name) {
		case ".html":
			if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(body) && !strings.Contains(body, "<noscript>") {
				t.Errorf("%s: inline script", name)
			}
			for _, bad := range []string{"<style", " style=", " onclick=", " onload=", "javascript:", "http://", "https://"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s: contains %q", name, bad)
				}
			}
			for _, m := range ref.FindAllStringSubmatch(body, -1) {
				u := m[1]
				if strings.HasPrefix(u, "#") {
					continue
				}
				if !strings.HasPrefix(u, "/h5/assets/"+s.version+"/") {
					t.Errorf("%s: asset %s is not versioned", name, u)
					continue
				}
				if s.files[strings.TrimPrefix(u, "/h5/assets/"+s.version+"/")] == nil {
					t.Errorf("%s: %s does not exist", name, u)
				}
			}
		case ".js":
			for _, bad := range []string{"innerHTML", "eval(", "new Function", "insertAdjacentHTML", "http://", "https://"} {
				if strings.Contains(body, bad) {
					t.Errorf("%s: uses %q", name, bad)
				}
			}
			for _, m := range imp.FindAllStringSubmatch(body, -1) {
				target := path.Join(path.Dir(name), m[1])
				if s.files[target] == nil {
					t.Errorf("%s imports %s, which does not exist", name, m[1])
				}
			}
		}
	}
}

// TestFirstPageWeight: what the sign-in screen needs, gzipped, stays far
// under the 100 KB a slow connection allows.
func TestFirstPageWeight(t *testing.T) {
	s := testSite(t)
	total := 0
	for _, name := range []string{"app.html", "app.css", "app.js", "core.js"} {
		f := s.files[name]
		n := len(f.body)
		if f.gz != nil {
			n = len(f.gz)
		}
		t.Logf("%s: %d bytes, %d gzipped", name, len(f.body), n)
		total += n
	}
	t.Logf("first page: %d bytes gzipped", total)
	if total > 40*1024 {
		t.Errorf("the sign-in screen needs %d bytes gzipped; keep it under 40 KB", total)
	}
}

func TestVersionFollowsContent(t *testing.T) {
	a := testSite(t)
	sub, _ := fs.Sub(static, "static")
	files := map[string][]byte{}
	_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files[p], _ = fs.ReadFile(sub, p)
		}
		return err
	})
	files["app.js"] = append(files["app.js"], '\n')
	changed := fstest.MapFS{}
	for p, b := range files {
		changed["static/"+p] = &fstest.MapFile{Data: b}
	}
	b, err := load(changed)
	if err != nil {
		t.Fatal(err)
	}
	if a.version == b.version {
		t.Fatal("a changed file keeps the asset version")
	}
}
