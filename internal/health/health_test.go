package health

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadiness(t *testing.T) {
	hung := make(chan struct{})
	defer close(hung)
	ok := func(context.Context) error { return nil }
	for _, tt := range []struct {
		name   string
		checks []Check
		status int
		want   map[string]string
	}{
		{"all up", []Check{{Key: "database", Probe: ok}, {Key: "mqtt", Probe: func(context.Context) error { return ErrDisabled }}},
			200, map[string]string{"database": "ok", "mqtt": "disabled"}},
		{"one down", []Check{{Key: "database", Probe: ok}, {Key: "files", Down: "文件存储不可写", Probe: func(context.Context) error { return errors.New("read-only") }}},
			503, map[string]string{"database": "ok", "files": "down"}},
		// A probe that ignores its context still answers within Timeout.
		{"hung", []Check{{Key: "database", Down: "数据库无响应", Probe: func(context.Context) error { <-hung; return nil }}},
			503, map[string]string{"database": "down"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := NewChecker(slog.New(slog.DiscardHandler), tt.checks...)
			rec := httptest.NewRecorder()
			start := time.Now()
			c.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if took := time.Since(start); took > Timeout+time.Second {
				t.Errorf("/readyz took %v", took)
			}
			var rep Report
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || rec.Code != tt.status {
				t.Fatalf("/readyz = %d %s", rec.Code, rec.Body)
			}
			for key, want := range tt.want {
				if got := rep.Checks[key]; got.Status != want || (want == "down") != (got.Message != "") {
					t.Errorf("%s: %+v, want %s", key, got, want)
				}
			}
			if tt.name == "hung" && !strings.Contains(rep.Checks["database"].Message, "超时") {
				t.Errorf("a hung check: %+v", rep.Checks["database"])
			}
		})
	}
	rec := httptest.NewRecorder()
	Live().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Errorf("/healthz = %d %s", rec.Code, rec.Body)
	}
}
