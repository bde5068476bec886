package sip

import (
	"context"
	"os"
	"testing"
	"time"

	"linli/internal/store"
	"linli/internal/storetest"
)

// Two instances on one PostgreSQL database: the monitor registers through
// instance 2, the door station calls through instance 1, and the call
// still reaches the monitor (instance 1 relays the branch to instance 2).
// twoStores opens two stores on one fresh PostgreSQL database, as two
// instances of the server would.
func twoStores(t *testing.T) (*store.Store, *store.Store) {
	t.Helper()
	base := os.Getenv("TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("TEST_POSTGRES_URL not set: several instances need PostgreSQL")
	}
	url := storetest.FreshPostgres(t, base)
	open := func() *store.Store {
		db, err := store.Open(context.Background(), url, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return open(), open()
}

func TestTwoInstancesShareRegistrations(t *testing.T) {
	needSipp(t)
	db1, db2 := twoStores(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RoomID: 7, RingTime: 10 * time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}}})
	log1, log2 := newMemCallLog(), newMemCallLog()
	s1 := startServer(t, db1, dir, log1, func(c *Config) { c.InstanceID = "one" })
	s2 := startServer(t, db2, dir, log2, func(c *Config) { c.InstanceID = "two" })

	monPort := freePort(t)
	register(t, s2, "i1", "monitor-secret", monPort)
	regs, err := s1.Registrations(context.Background(), []string{"i1"})
	if err != nil || len(regs["i1"]) != 1 || regs["i1"][0].Instance != "two" {
		t.Fatalf("instance 1 sees %+v, %v", regs, err)
	}
	// The INVITE must come down instance 2's flow: its Via on top.
	mon := startSipp(t, s2, "monitor-answer.xml", monPort, map[string]string{"ring": "200", "expect": "Via: SIP/2.0/UDP " + s2.Addr() + ";branch"}, "-s", "i1")
	waitBound(t, monPort)
	doorCall(t, s1, "0502", "300").wait(t, "door station on instance 1")
	mon.wait(t, "monitor on instance 2")
	c := log1.ended(t, 1)[0]
	if c.Result != ResultAnswered || c.Answerer != "室内分机" {
		t.Fatalf("call record: %+v", c)
	}
	log2.mu.Lock()
	defer log2.mu.Unlock()
	if len(log2.events) != 0 {
		t.Fatalf("instance 2 recorded the relayed leg as a call: %v", log2.events)
	}
}

// A door station on instance 1 hangs up while the room rings on a monitor
// registered through instance 2 and an app registered through instance 1:
// both branches get the CANCEL.
func TestCancelAcrossInstances(t *testing.T) {
	needSipp(t)
	db1, db2 := twoStores(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RoomID: 7, RingTime: 10 * time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}, {Username: "a1", Who: "张三"}}})
	log1 := newMemCallLog()
	s1 := startServer(t, db1, dir, log1, func(c *Config) { c.InstanceID = "one" })
	s2 := startServer(t, db2, dir, newMemCallLog(), func(c *Config) { c.InstanceID = "two" })
	p1, p2 := freePort(t), freePort(t)
	register(t, s2, "i1", "monitor-secret", p1)
	register(t, s1, "a1", "app-secret-1", p2)
	c1 := startSipp(t, s2, "monitor-cancelled.xml", p1, map[string]string{"reason": "cause=487"}, "-s", "i1")
	c2 := startSipp(t, s1, "monitor-cancelled.xml", p2, map[string]string{"reason": "cause=487"}, "-s", "a1")
	waitBound(t, p1, p2)
	startSipp(t, s1, "door-cancel.xml", freePort(t), map[string]string{"user": "d1"},
		"-s", "0502", "-au", "d1", "-ap", "door-secret", "-auth_uri", "0502@"+s1.Addr()).wait(t, "door station")
	c1.wait(t, "monitor on instance 2")
	c2.wait(t, "app on instance 1")
	if c := log1.ended(t, 1)[0]; c.Result != ResultCancelled || c.Code != 487 {
		t.Fatalf("call record: %+v", c)
	}
}
