package application

import (
	"sync"
	"time"
)

// limiter allows n events per key in each fixed window. It guards the public
// status lookup against phone-number enumeration; it lives in memory, so
// each server instance counts on its own.
type limiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	counts map[string]int
	start  time.Time
}

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{n: n, window: window, counts: map[string]int{}}
}

// allow records an event for key and reports whether it is within the limit.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= l.window {
		l.start, l.counts = now, map[string]int{}
	}
	l.counts[key]++
	return l.counts[key] <= l.n
}
