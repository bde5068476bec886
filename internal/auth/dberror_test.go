package auth

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"linli/internal/store"
	"linli/internal/storetest"
)

// TestSessionLookupFailure: when the database cannot be read, a console
// request with a session cookie is answered with the standard problem
// document (and the failure is logged), not plain text.
func TestSessionLookupFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		var logs strings.Builder
		s := NewService(db, testBox(t), nil, slog.New(slog.NewTextHandler(&logs, nil)))
		db.Close()
		h := s.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("the request went on") }))
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.AddCookie(&http.Cookie{Name: CookieName, Value: "some-session"})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(body), `"detail":"服务器内部错误，请稍后再试"`) {
			t.Errorf("answer %d %s %s", rec.Code, rec.Header().Get("Content-Type"), body)
		}
		if !strings.Contains(logs.String(), "authenticate") {
			t.Error("the failure was not logged")
		}
	})
}
