package sip

import (
	"slices"
	"sync"
	"time"
)

// limiter throttles wrong passwords per username and source address, and
// per source address, in a sliding window. A username is throttled only
// for the address that guessed: wrong passwords sent from elsewhere must
// not keep the real door station from registering. (Device passwords are
// long random secrets; guessing from many addresses gets nowhere.) reserve
// counts an attempt before it is verified; a successful attempt releases
// its reservation.
type limiter struct {
	window         time.Duration
	perUser, perIP int
	now            func() time.Time
	mu             sync.Mutex
	users, addrs   map[string][]time.Time
	maxKeys        int
}

func newLimiter(window time.Duration, perUser, perIP int, now func() time.Time) *limiter {
	return &limiter{window: window, perUser: perUser, perIP: perIP, now: now,
		users: map[string][]time.Time{}, addrs: map[string][]time.Time{}, maxKeys: 100_000}
}

// userKey is the key of users: a username as tried from one address.
func userKey(user, ip string) string { return user + " " + ip }

func (l *limiter) reserve(user, ip string) (release func(), ok bool) {
	user = userKey(user, ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cut := now.Add(-l.window)
	u := prune(l.users[user], cut)
	a := prune(l.addrs[ip], cut)
	if len(u) >= l.perUser || len(a) >= l.perIP {
		l.users[user], l.addrs[ip] = u, a
		return nil, false
	}
	if len(l.users) >= l.maxKeys || len(l.addrs) >= l.maxKeys {
		l.sweepLocked()
	}
	l.users[user] = append(u, now)
	l.addrs[ip] = append(a, now)
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.users[user] = dropOne(l.users[user], now)
		l.addrs[ip] = dropOne(l.addrs[ip], now)
		if len(l.users[user]) == 0 {
			delete(l.users, user)
		}
		if len(l.addrs[ip]) == 0 {
			delete(l.addrs, ip)
		}
	}, true
}

// add counts a wrong password seen elsewhere (another instance) at t.
func (l *limiter) add(user, ip string, t time.Time) {
	user = userKey(user, ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.Before(l.now().Add(-l.window)) {
		return
	}
	if len(l.users) >= l.maxKeys || len(l.addrs) >= l.maxKeys {
		l.sweepLocked()
	}
	l.users[user] = insertSorted(l.users[user], t)
	l.addrs[ip] = insertSorted(l.addrs[ip], t)
}

func insertSorted(ts []time.Time, t time.Time) []time.Time {
	i, _ := slices.BinarySearchFunc(ts, t, func(a, b time.Time) int { return a.Compare(b) })
	return slices.Insert(ts, i, t)
}

func (l *limiter) sweep() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked()
}

func (l *limiter) sweepLocked() {
	cut := l.now().Add(-l.window)
	for _, m := range []map[string][]time.Time{l.users, l.addrs} {
		for k, ts := range m {
			if ts = prune(ts, cut); len(ts) == 0 {
				delete(m, k)
			} else {
				m[k] = ts
			}
		}
	}
}

func prune(ts []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	return ts[i:]
}

func dropOne(ts []time.Time, t time.Time) []time.Time {
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(t) {
			return append(ts[:i:i], ts[i+1:]...)
		}
	}
	return ts
}
