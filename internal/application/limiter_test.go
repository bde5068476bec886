package application

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(3, time.Minute)
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	for i := range 3 {
		if !l.allow("10.0.0.1", now) {
			t.Fatalf("lookup %d refused within the limit", i+1)
		}
	}
	if l.allow("10.0.0.1", now.Add(time.Second)) {
		t.Fatal("fourth lookup in the window allowed")
	}
	if !l.allow("10.0.0.2", now.Add(time.Second)) {
		t.Fatal("another address is limited too")
	}
	if !l.allow("10.0.0.1", now.Add(time.Minute)) {
		t.Fatal("still refused in the next window")
	}
}
