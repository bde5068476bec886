// Package apptest starts the whole Linli HTTP system on a real listener and a
// real database for tests, and gives each test actor its own cookie session.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"linli/internal/app"
	"linli/internal/config"
	"linli/internal/storetest"
	"linli/internal/syncbuf"
)

// Passwords used by the fixtures.
const (
	AdminInitial  = "Admin-Initial-1"
	AdminPassword = "Linli-Operator-2026"
	StaffPassword = "Linli-Staff-2026"
)

// Server is a running Linli for one test.
type Server struct {
	URL  string
	App  *app.App
	tb   testing.TB
	stop func()
	cfg  config.Config
	logs *syncbuf.Buffer // what the server logged
}

// Logs returns what the server logged so far.
func (s *Server) Logs() string { return s.logs.String() }

// DataDir returns the server's data directory.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// Start starts Linli on backend b with a fresh database.
func Start(tb testing.TB, b storetest.Backend) *Server {
	tb.Helper()
	// The fake cameras of the tests listen on loopback.
	return StartWith(tb, config.Config{DataDir: tb.TempDir(), DBURL: b.URL(tb), AdminAccount: "admin", AdminPassword: AdminInitial, MQTTAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0",
		CamerasOnLoopback: true})
}

// StartWith starts Linli with cfg; Stop (or the end of the test) stops it.
func StartWith(tb testing.TB, cfg config.Config) *Server {
	tb.Helper()
	logs := &syncbuf.Buffer{}
	var out io.Writer = logs
	if testing.Verbose() {
		out = io.MultiWriter(logs, &tbWriter{tb})
	}
	logger := slog.New(slog.NewTextHandler(out, nil))
	a, err := app.New(context.Background(), cfg, logger)
	if err != nil {
		tb.Fatalf("start app: %v", err)
	}
	ts := httptest.NewUnstartedServer(a.Handler())
	if cfg.HTTPAddr != "" {
		// A fixed address, so that clients find the server after a restart.
		l, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			tb.Fatalf("listen %s: %v", cfg.HTTPAddr, err)
		}
		ts.Listener.Close()
		ts.Listener = l
	}
	ts.Start()
	s := &Server{URL: ts.URL, App: a, tb: tb, cfg: cfg, logs: logs}
	s.stop = func() {
		ts.Close()
		a.Close()
	}
	tb.Cleanup(s.Stop)
	return s
}

// Stop stops the server; calling it again does nothing.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

type tbWriter struct{ tb testing.TB }

func (w *tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Client is one browser: its own cookie jar.
type Client struct {
	s    *Server
	http *http.Client
	Name string
	// Bearer, when set, is sent as "Authorization: Bearer <Bearer>" with
	// every request that names no Authorization of its own, as devices and
	// the residents' app send their tokens.
	Bearer string
}

// Client returns a new anonymous client.
func (s *Server) Client(name string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{s: s, http: &http.Client{Jar: jar}, Name: name}
}

// Response is an HTTP answer.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// JSON decodes the body into v, failing the test on error.
func (r Response) JSON(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Detail returns the problem detail of an error answer.
func (r Response) Detail() string {
	var p struct {
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(r.Body, &p)
	return p.Detail
}

// Do sends a request; body is JSON-encoded unless it is a string or []byte,
// which are sent as they are with contentType.
func (c *Client) Do(method, path string, body any) Response {
	c.s.tb.Helper()
	return c.DoType(method, path, "application/json", body)
}

// DoType is Do with an explicit content type.
func (c *Client) DoType(method, path, contentType string, body any) Response {
	c.s.tb.Helper()
	return c.do(method, path, map[string]string{"Content-Type": contentType}, body)
}

// DoHeaders is Do with extra request headers.
func (c *Client) DoHeaders(method, path string, headers map[string]string, body any) Response {
	c.s.tb.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	return c.do(method, path, h, body)
}

func (c *Client) do(method, path string, headers map[string]string, body any) Response {
	c.s.tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.s.tb.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.s.URL+path, rd)
	if err != nil {
		c.s.tb.Fatalf("request: %v", err)
	}
	if c.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.Bearer)
	}
	for k, v := range headers {
		switch {
		case k == "Host":
			req.Host = v
		case k != "Content-Type" || rd != nil:
			req.Header.Set(k, v)
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.s.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Body: data, Header: res.Header}
}

// Must sends a request and fails the test unless the status is want.
func (c *Client) Must(want int, method, path string, body any) Response {
	c.s.tb.Helper()
	r := c.Do(method, path, body)
	if r.Status != want {
		c.s.tb.Fatalf("%s: %s %s = %d %s, want %d", c.Name, method, path, r.Status, r.Body, want)
	}
	return r
}

// Login signs c in and returns the answer.
func (c *Client) Login(account, password string, remember bool) Response {
	c.s.tb.Helper()
	return c.Do(http.MethodPost, "/api/v1/session", map[string]any{"account": account, "password": password, "remember": remember})
}

// Cookie returns the value of the session cookie c holds.
func (c *Client) Cookie(name string) string {
	for _, ck := range c.http.Jar.Cookies(mustURL(c.s.URL)) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// SetCookie replaces the session cookie of c.
func (c *Client) SetCookie(name, value string) {
	c.http.Jar.SetCookies(mustURL(c.s.URL), []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Operator returns a client signed in as the first operator, with its
// initial password already changed.
func (s *Server) Operator() *Client {
	s.tb.Helper()
	c := s.Client("operator")
	if r := c.Login("admin", AdminPassword, false); r.Status == http.StatusOK {
		return c
	}
	c.Login("admin", AdminInitial, false)
	c.Must(http.StatusOK, http.MethodPut, "/api/v1/me/password", map[string]string{"old_password": AdminInitial, "new_password": AdminPassword})
	return c
}
