package apptest

import (
	"testing"
	"time"
)

// pollEvery is how often the waiting helpers check their condition.
const pollEvery = 20 * time.Millisecond

// Within reports whether cond holds within d, checking it every 20 ms; it
// returns as soon as cond holds.
func Within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollEvery)
	}
	return true
}

// Eventually waits until cond holds and fails the test if it does not
// within d; what names the condition in the failure.
func Eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Within(d, cond) {
		tb.Fatalf("gave up after %s waiting for %s", d, what)
	}
}
