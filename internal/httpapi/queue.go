package httpapi

import (
	"net/http"
	"runtime"
	"time"
)

// queueWait is how long a device request waits for its turn before it is
// answered 503; devices retry a failed sync later.
const queueWait = 30 * time.Second

// DeviceQueue lets a bounded number of the device requests that a
// reconnecting estate makes (sync, bind, upgrade progress: the database's
// work alone) run at once; the others wait their turn before anything is
// read or built for them. When a whole estate reconnects at once (after a
// restart or a network outage) thousands of devices sync within a second:
// run together, each would hold its query results, its answer and a deep
// stack at the same time, and the server's memory would grow by hundreds of
// megabytes for that minute. Run a few at a time they finish as soon,
// because the database serves them one after another anyway. Requests that
// read or write files (event snapshots, ad pictures, firmware) do not
// queue: a slow file store must not hold up the syncs behind them. A
// request that waits 30 s is answered 503 "服务器繁忙".
func DeviceQueue(next http.Handler) http.Handler {
	return deviceQueue(next, max(16, 4*runtime.GOMAXPROCS(0)), queueWait)
}

// queued are the paths of the requests DeviceQueue bounds.
var queued = map[string]bool{"/device/v1/sync": true, "/device/v1/bind": true, "/device/v1/upgrade": true}

func deviceQueue(next http.Handler, n int, wait time.Duration) http.Handler {
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !queued[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		t := time.NewTimer(wait)
		select {
		case slots <- struct{}{}:
			t.Stop()
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
			w.Header().Set("Retry-After", "10")
			WriteProblem(w, http.StatusServiceUnavailable, "服务器繁忙，请稍后重试")
			return
		}
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}
