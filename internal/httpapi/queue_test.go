package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDeviceQueue(t *testing.T) {
	const slots = 3
	release := make(chan struct{})
	var running, most atomic.Int32
	h := deviceQueue(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if r.URL.Path == "/device/v1/sync" {
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	}), slots, 200*time.Millisecond)

	// Ten syncs at once: three run, the others wait.
	var wg sync.WaitGroup
	codes := make(chan int, 10)
	for range 10 {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/device/v1/sync?since=0", nil))
			codes <- rec.Code
		})
	}
	for running.Load() < slots {
		time.Sleep(time.Millisecond)
	}
	// The console, and device requests that read or write files, do not
	// queue behind the syncs.
	for _, path := range []string{"/api/v1/session", "/device/v1/firmware/1", "/device/v1/events", "/device/v1/ads/3"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusNoContent {
			t.Errorf("%s waited behind the devices: %d", path, rec.Code)
		}
	}
	// Those that wait longer than the queue allows are told to come back.
	time.Sleep(300 * time.Millisecond)
	close(release)
	wg.Wait()
	close(codes)
	served, busy := 0, 0
	for c := range codes {
		switch c {
		case http.StatusNoContent:
			served++
		case http.StatusServiceUnavailable:
			busy++
		default:
			t.Errorf("status %d", c)
		}
	}
	if most.Load() > slots+1 { // one of the requests above ran beside them
		t.Errorf("%d requests ran at once, more than %d", most.Load(), slots)
	}
	if served < slots || busy == 0 || served+busy != 10 {
		t.Errorf("%d served and %d told the server is busy", served, busy)
	}

	// A waiting request answers 503 with a message and Retry-After.
	block, started := make(chan struct{}), make(chan struct{})
	h = deviceQueue(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { close(started); <-block }), 1, 50*time.Millisecond)
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/device/v1/sync", nil))
	<-started
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/device/v1/bind", nil))
	close(block)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "服务器繁忙") {
		t.Errorf("a request that waited too long: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
}
