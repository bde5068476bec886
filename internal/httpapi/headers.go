package httpapi

import (
	"net/http"
	"strings"
)

// Headers adds the headers every answer of the server carries: nosniff, so
// that no browser reads a JSON answer or an uploaded picture as a page or a
// script, and, under the API prefixes (/api/, /app/, /device/), no-store, so
// that no browser or proxy keeps a copy of what a signed-in person was
// shown. They are set before next runs: a handler that names its own
// Cache-Control (a picture, a file download) replaces no-store.
func Headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if apiPath(r.URL.Path) {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// apiPrefixes are the paths of the three APIs: the console's, the
// residents' app's and the devices'.
var apiPrefixes = []string{"/api/", "/app/", "/device/"}

func apiPath(p string) bool {
	for _, prefix := range apiPrefixes {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}
