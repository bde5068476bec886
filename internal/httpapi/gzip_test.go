package httpapi

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestGzipLeavesUpgradesAlone: a WebSocket handshake from a browser
// (which sends Accept-Encoding: gzip) reaches the handler with a writer it
// can hijack; an ordinary request with the same headers is wrapped.
func TestGzipLeavesUpgradesAlone(t *testing.T) {
	for _, tc := range []struct {
		name     string
		upgrade  string
		hijacker bool
	}{
		{"websocket handshake", "websocket", true},
		{"ordinary request", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bool
			h := Gzip(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, got = w.(http.Hijacker)
			}))
			r := httptest.NewRequest(http.MethodGet, "/webcall/ws", nil)
			r.Header.Set("Accept-Encoding", "gzip, deflate, br")
			if tc.upgrade != "" {
				r.Header.Set("Connection", "Upgrade")
				r.Header.Set("Upgrade", tc.upgrade)
			}
			h.ServeHTTP(hijackable{httptest.NewRecorder()}, r)
			if got != tc.hijacker {
				t.Errorf("handler's writer is a Hijacker: %v, want %v", got, tc.hijacker)
			}
		})
	}
}

// hijackable is a recorder that says it can be hijacked, as the server's
// own ResponseWriter can.
type hijackable struct{ *httptest.ResponseRecorder }

func (hijackable) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, _ := net.Pipe()
	return c, bufio.NewReadWriter(bufio.NewReader(strings.NewReader("")), bufio.NewWriter(c)), nil
}
