package httpapi

import (
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// Gzip compresses the responses of next for clients that accept gzip. A
// full whitelist of 50,000 cards is 3.4 MB of JSON and 0.3 MB compressed.
// It is meant for JSON answers, not for files served with range requests.
func Gzip(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		gz := gzipWriters.Get().(*gzip.Writer)
		gz.Reset(w)
		gw := &gzipResponse{ResponseWriter: w, gz: gz}
		defer func() {
			if gw.started {
				_ = gz.Close()
			}
			gzipWriters.Put(gz)
		}()
		w.Header().Add("Vary", "Accept-Encoding")
		next.ServeHTTP(gw, r)
	})
}

func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

type gzipResponse struct {
	http.ResponseWriter
	gz      *gzip.Writer
	started bool // headers sent, body compressed
	plain   bool // headers sent, body as is (no body, or already encoded)
}

func (g *gzipResponse) WriteHeader(status int) {
	if g.started || g.plain {
		return
	}
	h := g.ResponseWriter.Header()
	if status == http.StatusNoContent || status == http.StatusNotModified || h.Get("Content-Encoding") != "" {
		g.plain = true
	} else {
		g.started = true
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
	}
	g.ResponseWriter.WriteHeader(status)
}

func (g *gzipResponse) Write(p []byte) (int, error) {
	if !g.started && !g.plain {
		g.WriteHeader(http.StatusOK)
	}
	if g.plain {
		return g.ResponseWriter.Write(p)
	}
	return g.gz.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (g *gzipResponse) Unwrap() http.ResponseWriter { return g.ResponseWriter }
