package sip

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Parallel wrong guesses cannot all slip under the limit: each is counted
// before its password is checked.
func TestLimiterCountsBeforeVerifying(t *testing.T) {
	now := time.Now()
	l := newLimiter(time.Minute, 5, 100, func() time.Time { return now })
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, allowed := l.reserve("d1", "10.0.0.1"); allowed {
				ok.Add(1) // a wrong password: the reservation stays
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 5 {
		t.Fatalf("%d parallel attempts let through, want 5", ok.Load())
	}
	// A right password gives its reservation back; the window passes.
	l2 := newLimiter(time.Minute, 2, 100, func() time.Time { return now })
	for range 10 {
		release, allowed := l2.reserve("d2", "10.0.0.2")
		if !allowed {
			t.Fatal("right passwords throttled")
		}
		release()
	}
	now = now.Add(2 * time.Minute)
	if _, allowed := l.reserve("d1", "10.0.0.1"); !allowed {
		t.Fatal("still throttled after the window")
	}
}

// Wrong passwords for a username from one address do not keep the device
// from registering from its own address; the guessing address stays
// throttled for that username.
func TestLimiterThrottlesTheGuesser(t *testing.T) {
	now := time.Now()
	l := newLimiter(time.Minute, 3, 100, func() time.Time { return now })
	for range 3 {
		if _, ok := l.reserve("d1", "192.0.2.66"); !ok {
			t.Fatal("wrong guess refused before the limit")
		}
	}
	if _, ok := l.reserve("d1", "192.0.2.66"); ok {
		t.Fatal("the guessing address is not throttled")
	}
	release, ok := l.reserve("d1", "192.0.2.10")
	if !ok {
		t.Fatal("the device's own address is throttled by another's guesses")
	}
	release()
}
