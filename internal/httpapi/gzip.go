package httpapi

import (
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// gzipMin is the smallest body worth compressing: below it the answer goes
// out as it is, and no compressor (about 1 MB of tables) is taken.
const gzipMin = 4 << 10

var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// Gzip compresses the JSON answers of next for clients that accept gzip,
// when they are larger than a few kilobytes: a full whitelist of 50,000
// cards is 3.4 MB of JSON and 0.3 MB compressed. Files (pictures,
// workbooks, firmware served with range requests) go out as they are, and
// protocol upgrades (the browsers' call socket, /webcall/ws) keep the
// server's own ResponseWriter, which they must hijack: browsers send
// Accept-Encoding: gzip with their WebSocket handshake.
func Gzip(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Accept-Encoding")
		gw := &gzipResponse{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(gw, r)
		gw.finish()
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

// gzipResponse holds the start of a body until it knows whether the body is
// large enough to compress.
type gzipResponse struct {
	http.ResponseWriter
	status  int
	buf     []byte
	decided bool
	gz      *gzip.Writer // nil: the body goes out as it is
}

func (g *gzipResponse) WriteHeader(status int) {
	if !g.decided {
		g.status = status
	}
}

func (g *gzipResponse) Write(p []byte) (int, error) {
	if !g.decided {
		if len(g.buf)+len(p) < gzipMin {
			g.buf = append(g.buf, p...)
			return len(p), nil
		}
		g.decide(true)
	}
	if g.gz != nil {
		return g.gz.Write(p)
	}
	return g.ResponseWriter.Write(p)
}

// decide sends the headers, compressing when big is true and the handler
// has not encoded the body itself, then the held bytes.
func (g *gzipResponse) decide(big bool) {
	g.decided = true
	h := g.ResponseWriter.Header()
	if big && isJSON(h.Get("Content-Type")) && h.Get("Content-Encoding") == "" && g.status != http.StatusNoContent && g.status != http.StatusNotModified {
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		g.gz = gzipWriters.Get().(*gzip.Writer)
		g.gz.Reset(g.ResponseWriter)
	}
	g.ResponseWriter.WriteHeader(g.status)
	if len(g.buf) > 0 {
		if g.gz != nil {
			_, _ = g.gz.Write(g.buf)
		} else {
			_, _ = g.ResponseWriter.Write(g.buf)
		}
		g.buf = nil
	}
}

// isJSON reports whether contentType is JSON: application/json or any
// +json type (problem details, the OpenAPI document).
func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// finish flushes what is held and ends the compressed stream.
func (g *gzipResponse) finish() {
	if !g.decided {
		g.decide(false)
	}
	if g.gz != nil {
		_ = g.gz.Close()
		gzipWriters.Put(g.gz)
		g.gz = nil
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (g *gzipResponse) Unwrap() http.ResponseWriter { return g.ResponseWriter }
