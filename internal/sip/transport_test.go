package sip

import (
	"context"
	"testing"
	"time"
)

// A device registers and calls over TCP; the call forks to a monitor
// registered over UDP and the in-dialog requests cross the transports.
func TestRegisterAndCallOverTCP(t *testing.T) {
	needSipp(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RoomID: 7, RingTime: 10 * time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}}})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, nil)

	startSipp(t, s, "register.xml", freePort(t), map[string]string{"expires": "300", "code": "200"},
		"-t", "t1", "-s", "d1", "-au", "d1", "-ap", "door-secret").wait(t, "register over TCP")
	regs, err := s.Registrations(context.Background(), []string{"d1"})
	if err != nil || len(regs["d1"]) != 1 || regs["d1"][0].Transport != "tcp" {
		t.Fatalf("registration over TCP: %+v, %v", regs, err)
	}

	monPort := freePort(t)
	register(t, s, "i1", "monitor-secret", monPort)
	mon := startSipp(t, s, "monitor-answer.xml", monPort, map[string]string{"ring": "200", "expect": "INVITE sip:i1@127.0.0.1"}, "-s", "i1")
	waitBound(t, monPort)
	startSipp(t, s, "door-call.xml", freePort(t), map[string]string{"user": "d1", "talk": "300"},
		"-t", "t1", "-s", "0502", "-au", "d1", "-ap", "door-secret", "-auth_uri", "0502@"+s.Addr()).wait(t, "door station over TCP")
	mon.wait(t, "indoor monitor over UDP")
	if c := log.ended(t, 1)[0]; c.Result != ResultAnswered || c.Answerer != "室内分机" {
		t.Fatalf("call record: %+v", c)
	}
}

// An INVITE with a nonce past its lifetime is answered 407 stale=true and
// goes through with the fresh nonce.
func TestInviteWithStaleNonce(t *testing.T) {
	needSipp(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RoomID: 7, RingTime: 10 * time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}}})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, func(c *Config) { c.NonceTTL = time.Second })
	monPort := freePort(t)
	register(t, s, "i1", "monitor-secret", monPort)
	mon := startSipp(t, s, "monitor-answer.xml", monPort, map[string]string{"ring": "200", "expect": "INVITE sip:i1@127.0.0.1"}, "-s", "i1")
	waitBound(t, monPort)
	startSipp(t, s, "door-stale.xml", freePort(t), map[string]string{"user": "d1", "talk": "300", "wait": "1500"},
		"-s", "0502", "-au", "d1", "-ap", "door-secret", "-auth_uri", "0502@"+s.Addr()).wait(t, "door station with a stale nonce")
	mon.wait(t, "indoor monitor")
	if c := log.ended(t, 1)[0]; c.Result != ResultAnswered {
		t.Fatalf("call record: %+v", c)
	}
}
