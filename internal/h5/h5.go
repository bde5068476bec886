// Package h5 serves the mobile web pages (H5) that people open from a phone:
// today the 业主申请 page behind the community's QR code. The pages are plain
// HTML, CSS and JavaScript embedded in the binary and talk to /app/v1.
package h5

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Handler serves /h5/apply/{token} and the page's assets under /h5/assets/.
func Handler() http.Handler {
	assets, _ := fs.Sub(static, "static")
	files := http.StripPrefix("/h5/assets/", http.FileServerFS(assets))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		switch {
		case strings.HasPrefix(r.URL.Path, "/h5/assets/"):
			h.Set("Cache-Control", "public, max-age=3600")
			files.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/h5/apply/"):
			page, err := static.ReadFile("static/apply.html")
			if err != nil {
				http.Error(w, "页面不存在", http.StatusNotFound)
				return
			}
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			_, _ = w.Write(page)
		default:
			http.NotFound(w, r)
		}
	})
}
