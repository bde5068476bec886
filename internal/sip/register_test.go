package sip

import (
	"context"
	"testing"
	"time"
)

func TestRegisterDigest(t *testing.T) {
	needSipp(t)
	db := openStore(t)
	dir := newMemDirectory()
	dir.add(Account{Username: "d1", Password: "door-secret", Kind: KindDoor, CommunityID: 1, DeviceID: 1})
	dir.add(Account{Username: "d2", Password: "other-secret", Kind: KindDoor, CommunityID: 1, DeviceID: 2})
	s := startServer(t, db, dir, newMemCallLog(), nil)
	ctx := context.Background()

	port := freePort(t)
	register(t, s, "d1", "door-secret", port)
	regs, err := s.Registrations(ctx, []string{"d1", "d2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(regs["d1"]) != 1 || len(regs["d2"]) != 0 {
		t.Fatalf("registrations after REGISTER: %+v", regs)
	}
	r := regs["d1"][0]
	if r.Transport != "udp" || r.Received != "127.0.0.1:"+itoa(port) || r.UserAgent != "sipp-test" ||
		time.Until(r.ExpiresAt) < 290*time.Second {
		t.Fatalf("registration: %+v", r)
	}

	// A wrong password is refused and registers nothing.
	startSipp(t, s, "register.xml", freePort(t), map[string]string{"expires": "300", "code": "403"},
		"-s", "d2", "-au", "d2", "-ap", "guess").wait(t, "wrong password")
	// Valid credentials of d2 cannot register d1.
	startSipp(t, s, "register.xml", freePort(t), map[string]string{"expires": "300", "code": "403"},
		"-s", "d1", "-au", "d2", "-ap", "other-secret").wait(t, "another account")
	// Too short an interval: 423.
	startSipp(t, s, "register.xml", freePort(t), map[string]string{"expires": "10", "code": "423"},
		"-s", "d2", "-au", "d2", "-ap", "other-secret").wait(t, "interval too brief")
	regs, _ = s.Registrations(ctx, []string{"d1", "d2"})
	if len(regs["d1"]) != 1 || len(regs["d2"]) != 0 {
		t.Fatalf("registrations after refusals: %+v", regs)
	}

	// Unregister: Expires 0 from the same contact.
	startSipp(t, s, "register.xml", port, map[string]string{"expires": "0", "code": "200"},
		"-s", "d1", "-au", "d1", "-ap", "door-secret").wait(t, "unregister")
	regs, _ = s.Registrations(ctx, []string{"d1"})
	if len(regs["d1"]) != 0 {
		t.Fatalf("registrations after unregister: %+v", regs)
	}
}

func TestRegisterStaleNonce(t *testing.T) {
	needSipp(t)
	dir := newMemDirectory()
	dir.add(Account{Username: "d1", Password: "door-secret", Kind: KindDoor, CommunityID: 1})
	s := startServer(t, openStore(t), dir, newMemCallLog(), func(c *Config) { c.NonceTTL = time.Second })
	startSipp(t, s, "register-stale.xml", freePort(t), map[string]string{"wait": "1500"},
		"-s", "d1", "-au", "d1", "-ap", "door-secret").wait(t, "stale nonce")
	regs, _ := s.Registrations(context.Background(), []string{"d1"})
	if len(regs["d1"]) != 1 {
		t.Fatalf("registrations: %+v", regs)
	}
}

func TestRegisterThrottle(t *testing.T) {
	needSipp(t)
	dir := newMemDirectory()
	dir.add(Account{Username: "d1", Password: "door-secret", Kind: KindDoor, CommunityID: 1})
	s := startServer(t, openStore(t), dir, newMemCallLog(), func(c *Config) { c.UserFailures = 2 })
	for range 2 {
		startSipp(t, s, "register.xml", freePort(t), map[string]string{"expires": "300", "code": "403"},
			"-s", "d1", "-au", "d1", "-ap", "guess").wait(t, "wrong password")
	}
	// The right password is refused too while the username is throttled.
	startSipp(t, s, "register.xml", freePort(t), map[string]string{"expires": "300", "code": "403"},
		"-s", "d1", "-au", "d1", "-ap", "door-secret").wait(t, "throttled")
	n, err := s.db.LoginFailure.Query().Count(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("login failures recorded: %d, %v", n, err)
	}
}
