package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/httpapi"
)

// TestErrorsLogToTheirOwnServer builds two APIs in one process, each with its
// own logger, and checks that each failing request is logged by the logger of
// the API it came to and by no other.
func TestErrorsLogToTheirOwnServer(t *testing.T) {
	t.Parallel()
	type server struct {
		name string
		log  bytes.Buffer
		h    http.Handler
	}
	servers := []*server{{name: "first"}, {name: "second"}}
	for _, s := range servers {
		mux := http.NewServeMux()
		api := httpapi.NewAPI(mux, "test", slog.New(slog.NewTextHandler(&s.log, nil)))
		name := s.name
		huma.Register(api, httpapi.Op("fail", http.MethodGet, "/api/v1/fail", "失败", nil), func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			return nil, errors.New("broken in " + name)
		})
		s.h = mux
	}
	for _, s := range servers {
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/fail", nil))
		if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "服务器内部错误") {
			t.Fatalf("%s: %d %s, want 500 with a Chinese detail", s.name, w.Code, w.Body)
		}
	}
	for _, s := range servers {
		for _, other := range servers {
			logged := strings.Contains(s.log.String(), "broken in "+other.name)
			if want := other == s; logged != want {
				t.Errorf("%s's log has %s's error: %v, want %v\n%s", s.name, other.name, logged, want, s.log.String())
			}
		}
	}
}

// TestFieldLabelsFromDocs checks that a validation error names the field by
// the label its own operation documents: two APIs, and two operations in
// each, document the same field differently, and each error uses its own.
func TestFieldLabelsFromDocs(t *testing.T) {
	t.Parallel()
	type input struct {
		Body struct {
			Count int `json:"count" minimum:"1"`
		}
	}
	for _, labels := range [][]string{{"房间数量", "车位数量"}, {"楼栋数量", "单元数量"}} {
		mux := http.NewServeMux()
		api := httpapi.NewAPI(mux, "test", slog.New(slog.DiscardHandler))
		for i, label := range labels {
			op := httpapi.Op(fmt.Sprintf("count-%d", i), http.MethodPost, fmt.Sprintf("/api/v1/count/%d", i), "数量", nil)
			op.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{"application/json": {Schema: &huma.Schema{
				Type:                 "object",
				Required:             []string{"count"},
				AdditionalProperties: false,
				Properties:           map[string]*huma.Schema{"count": {Type: "integer", Minimum: ptr(1.0), Description: label + "（至少 1）"}},
			}}}}
			huma.Register(api, op, func(ctx context.Context, in *input) (*struct{}, error) { return nil, nil })
		}
		for i, label := range labels {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/api/v1/count/%d", i), strings.NewReader(`{"count":0}`))
			r.Header.Set("Content-Type", "application/json")
			mux.ServeHTTP(w, r)
			if want := label + "（count）：不能小于 1"; w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), want) {
				t.Errorf("%d %s, want 422 with %q", w.Code, w.Body, want)
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestMiddlewareFailureWithoutStatus checks that an error a middleware
// writes without a status of its own (a plain error from a token lookup) is
// answered 500 through the compressing writer, not a status of 0.
func TestMiddlewareFailureWithoutStatus(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	var log bytes.Buffer
	api := httpapi.NewAPI(mux, "test", slog.New(slog.NewTextHandler(&log, nil)))
	api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
		_ = huma.WriteErr(api, ctx, 0, "", errors.New("token store down"))
	})
	huma.Register(api, httpapi.Op("never", http.MethodGet, "/api/v1/never", "不会执行", nil), func(ctx context.Context, _ *struct{}) (*struct{}, error) {
		return nil, nil
	})
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/api/v1/never", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	httpapi.Gzip(mux).ServeHTTP(w, r)
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "服务器内部错误") {
		t.Fatalf("%d %s, want 500 with a Chinese detail", w.Code, w.Body)
	}
	if !strings.Contains(log.String(), "token store down") {
		t.Errorf("the cause is not logged: %s", log.String())
	}
}
