package sip

import (
	"strings"
	"testing"
	"time"
)

// Wrong passwords given to one instance throttle the account on another
// instance of the same database, and on an instance started afterwards.
func TestThrottleSharedBetweenInstances(t *testing.T) {
	needSipp(t)
	dir := newMemDirectory()
	dir.add(Account{Username: "d1", Password: "door-secret", Kind: KindDoor, CommunityID: 1})
	db := openStore(t)
	shared := func(c *Config) { c.UserFailures = 2; c.FailureFeedInterval = 50 * time.Millisecond }
	s1 := startServer(t, db, dir, newMemCallLog(), shared)
	s2 := startServer(t, db, dir, newMemCallLog(), shared)

	// One wrong password at each instance: neither alone reached the limit.
	for _, s := range []*Server{s1, s2} {
		startSipp(t, s, "register.xml", freePort(t), map[string]string{"expires": "300", "code": "403"},
			"-s", "d1", "-au", "d1", "-ap", "guess").wait(t, "wrong password")
	}
	for _, s := range []*Server{s1, s2} {
		waitFor(t, "the other instance's failure counted", func() bool { return failuresOf(s.auth.limit, "d1") == 2 })
		// The right password is refused on both instances.
		startSipp(t, s, "register.xml", freePort(t), map[string]string{"expires": "300", "code": "403"},
			"-s", "d1", "-au", "d1", "-ap", "door-secret").wait(t, "throttled")
	}
	// A new instance reads the window's failures at start.
	s3 := startServer(t, db, dir, newMemCallLog(), shared)
	startSipp(t, s3, "register.xml", freePort(t), map[string]string{"expires": "300", "code": "403"},
		"-s", "d1", "-au", "d1", "-ap", "door-secret").wait(t, "throttled after a restart")
}

// A failure this instance wrote is not counted again when the feed reads it.
func TestFeedSkipsOwnFailures(t *testing.T) {
	db := openStore(t)
	now := time.Now()
	lim := newLimiter(10*time.Minute, 3, 100, func() time.Time { return now })
	f := newFailureFeed(db, lim, func() time.Time { return now })
	if err := f.load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok := lim.reserve("u1", "192.0.2.9"); !ok {
		t.Fatal("first attempt refused")
	}
	if err := f.record(t.Context(), "u1", "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	if err := f.poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := failuresOf(lim, "u1"); n != 1 {
		t.Fatalf("failures counted for u1: %d, want 1", n)
	}
}

// failuresOf counts user's wrong passwords from every address.
func failuresOf(l *limiter, user string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, ts := range l.users {
		if strings.HasPrefix(k, user+" ") {
			n += len(ts)
		}
	}
	return n
}
