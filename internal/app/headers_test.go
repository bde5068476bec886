package app_test

import (
	"strings"
	"testing"

	"linli/internal/apptest"
	"linli/internal/httpapi"
	"linli/internal/storetest"
)

// TestAPIPathsAnswerProblems checks that a path under any API prefix that no
// operation has is answered with a JSON 404, never with the console's page.
func TestAPIPathsAnswerProblems(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	anon, op := s.Client("anonymous"), s.Operator()
	tests := []struct {
		name   string
		c      *apptest.Client
		method string
		path   string
	}{
		{"console API", op, "GET", "/api/v1/nothing-here"},
		{"app API", anon, "GET", "/app/v1/nonexistent"},
		{"app API, list with a slash", anon, "GET", "/app/v1/passes/"},
		{"app API, signed-in operator", op, "GET", "/app/v1/nonexistent"},
		{"device API", anon, "GET", "/device/v1/nope"},
		{"device API, POST", anon, "POST", "/device/v1/nope"},
		{"device API, deeper", anon, "GET", "/device/v1/sync/x/y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.Do(tt.method, tt.path, nil)
			if r.Status != 404 || r.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(r.Detail(), "接口不存在") {
				t.Errorf("%s %s: %d %s %.80s, want a 404 problem", tt.method, tt.path, r.Status, r.Header.Get("Content-Type"), r.Body)
			}
		})
	}
}

// TestSecurityHeaders checks the headers every answer carries: nosniff
// everywhere, no-store on the APIs' answers unless the operation names its
// own caching, and the console's Content-Security-Policy on its pages.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	anon, op := s.Client("anonymous"), s.Operator()
	tests := []struct {
		name   string
		c      *apptest.Client
		path   string
		status int
		cache  string // "": any
		csp    string // "": none
	}{
		{"signed-in JSON", op, "/api/v1/me", 200, "no-store", ""},
		{"list", op, "/api/v1/communities", 200, "no-store", ""},
		{"refusal", anon, "/api/v1/me", 401, "no-store", ""},
		{"own caching kept", op, "/api/v1/regions", 200, "private, max-age=86400", ""},
		{"app API refusal", anon, "/app/v1/me", 401, "no-store", ""},
		{"device API refusal", anon, "/device/v1/sync", 401, "no-store", ""},
		{"unknown API path", anon, "/device/v1/nope", 404, "no-store", ""},
		{"console page", anon, "/", 200, "no-cache", httpapi.ConsoleCSP},
		{"console sign-in page", anon, "/login", 200, "no-cache", httpapi.ConsoleCSP},
		{"console route", anon, "/communities/1/residents", 200, "no-cache", httpapi.ConsoleCSP},
		{"console file", anon, "/favicon.svg", 200, "", httpapi.ConsoleCSP},
		{"health", anon, "/healthz", 200, "no-store", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.Do("GET", tt.path, nil)
			h := r.Header
			if r.Status != tt.status {
				t.Fatalf("GET %s: %d %.80s, want %d", tt.path, r.Status, r.Body, tt.status)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", tt.path, got)
			}
			if got := h.Values("Cache-Control"); tt.cache != "" && (len(got) != 1 || got[0] != tt.cache) {
				t.Errorf("GET %s: Cache-Control %q, want %q", tt.path, got, tt.cache)
			}
			if got := h.Get("Content-Security-Policy"); got != tt.csp {
				t.Errorf("GET %s: Content-Security-Policy %q, want %q", tt.path, got, tt.csp)
			}
		})
	}
}
