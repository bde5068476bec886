// Package h5 serves the mobile web pages (H5) that people open from a phone:
// the residents' site under /h5/ (sign-in, 我的房屋, 开门, 访客通行, 家人,
// 人脸, 通知, 通话记录, 免打扰), the public visitor pass page
// /h5/pass/{share_token} and the 业主申请 page behind the community's QR
// code. The pages are plain HTML, CSS and JavaScript modules embedded in the
// binary (no build step) and talk to /app/v1.
//
// Assets are served under /h5/assets/v-<version>/ where the version is a
// digest of every embedded file: those URLs never change meaning, so they are
// cached for a year, and a new binary changes every page's asset URLs at once
// (the JavaScript modules import each other relatively and so stay within
// one version). HTML is answered with no-cache and an ETag. Every file is
// gzipped once at start-up and sent gzipped when the browser accepts it.
package h5

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every H5 response: nothing inline,
// nothing from elsewhere, never framed.
const CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"

const assetPrefix = "/h5/assets/"

// file is one embedded file ready to serve.
type file struct {
	body, gz    []byte // gz is nil when gzip does not make it smaller
	etag        string // strong ETag of body, without quotes
	contentType string
}

// site holds the embedded files and the version of this build's assets.
type site struct {
	version string
	files   map[string]*file // by path under static/, e.g. "app.js"
}

// Handler serves the residents' pages (/h5/, routed in the browser by the
// URL fragment), /h5/pass/{share_token}, /h5/apply/{token} and their assets
// under /h5/assets/. Anything else under /h5/ is 404.
func Handler() http.Handler {
	s, err := load(static)
	if err != nil {
		panic("h5: embedded files: " + err.Error()) // the embed is fixed at build time
	}
	return s
}

func load(fsys fs.FS) (*site, error) {
	root, err := fs.Sub(fsys, "static")
	if err != nil {
		return nil, err
	}
	raw := map[string][]byte{}
	var names []string
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		raw[p] = b
		names = append(names, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(raw[n])
	}
	s := &site{version: "v-" + hex.EncodeToString(h.Sum(nil))[:12], files: map[string]*file{}}
	for _, n := range names {
		b := raw[n]
		if strings.HasSuffix(n, ".html") {
			// Pages name their assets unversioned; they are served versioned.
			b = bytes.ReplaceAll(b, []byte(`"`+assetPrefix), []byte(`"`+assetPrefix+s.version+"/"))
		}
		s.files[n] = newFile(n, b)
	}
	return s, nil
}

func newFile(name string, b []byte) *file {
	sum := sha256.Sum256(b)
	f := &file{body: b, etag: hex.EncodeToString(sum[:])[:20], contentType: contentType(name)}
	if compressible(f.contentType) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		if buf.Len() < len(b) {
			f.gz = buf.Bytes()
		}
	}
	return f
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".json", ".webmanifest":
		return "application/json"
	}
	return "application/octet-stream"
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "svg") || strings.Contains(ct, "json")
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", CSP)
	p := r.URL.Path
	switch {
	case p == "/h5/":
		s.page(w, r, "app.html")
	case strings.HasPrefix(p, "/h5/pass/") && token(p[len("/h5/pass/"):]):
		s.page(w, r, "pass.html")
	case strings.HasPrefix(p, "/h5/apply/") && token(p[len("/h5/apply/"):]):
		s.page(w, r, "apply.html")
	case strings.HasPrefix(p, assetPrefix):
		s.asset(w, r, p[len(assetPrefix):])
	default:
		notFound(w)
	}
}

// token says whether t looks like one path segment of a link token.
func token(t string) bool {
	if t == "" || len(t) > 200 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return false
		}
	}
	return true
}

func (s *site) page(w http.ResponseWriter, r *http.Request, name string) {
	w.Header().Set("Cache-Control", "no-cache")
	s.serve(w, r, s.files[name])
}

// asset serves rest, "v-<version>/name" or (for pages cached before the
// versions) "name". Only the current version is cached for long; a page of an
// older binary gets today's file and must revalidate it.
func (s *site) asset(w http.ResponseWriter, r *http.Request, rest string) {
	cache := "no-cache"
	if v, name, ok := strings.Cut(rest, "/"); ok && strings.HasPrefix(v, "v-") {
		rest = name
		if v == s.version {
			cache = "public, max-age=31536000, immutable"
		}
	}
	f := s.files[rest]
	if f == nil || strings.HasSuffix(rest, ".html") {
		notFound(w)
		return
	}
	w.Header().Set("Cache-Control", cache)
	s.serve(w, r, f)
}

func (s *site) serve(w http.ResponseWriter, r *http.Request, f *file) {
	if f == nil {
		notFound(w)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	body, etag := f.body, f.etag
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = f.gz, f.etag+"-gz"
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", `"`+etag+`"`)
	// ServeContent answers If-None-Match with 304, HEAD without a body and
	// ranges of the (possibly gzipped) bytes.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

func notFound(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("页面不存在"))
}
