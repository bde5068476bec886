package sip

import (
	"strings"
	"testing"
	"time"
)

// estate is a small community: door station d1, indoor monitor i1 of room
// 0502, two app installations a1 and a2 of its residents.
func estate() *memDirectory {
	dir := newMemDirectory()
	dir.add(Account{Username: "d1", Password: "door-secret", Kind: KindDoor, CommunityID: 1, DeviceID: 1, Label: "1-1-1-门口机1"})
	dir.add(Account{Username: "i1", Password: "monitor-secret", Kind: KindIndoor, CommunityID: 1, DeviceID: 2})
	dir.add(Account{Username: "a1", Password: "app-secret-1", Kind: KindApp, CommunityID: 1, ResidentID: 11, Phone: "13800000011"})
	dir.add(Account{Username: "a2", Password: "app-secret-2", Kind: KindApp, CommunityID: 1, ResidentID: 12, Phone: "13800000012"})
	return dir
}

func doorCall(t *testing.T, s *Server, number string, talk string) *sippRun {
	t.Helper()
	return startSipp(t, s, "door-call.xml", freePort(t), map[string]string{"user": "d1", "talk": talk},
		"-s", number, "-au", "d1", "-ap", "door-secret", "-auth_uri", number+"@"+s.Addr())
}

func TestCallRingsMonitor(t *testing.T) {
	needSipp(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RoomID: 7, RingTime: 10 * time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}}})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, nil)
	monPort := freePort(t)
	register(t, s, "i1", "monitor-secret", monPort)
	mon := startSipp(t, s, "monitor-answer.xml", monPort, map[string]string{"ring": "200", "expect": "INVITE sip:i1@127.0.0.1"}, "-s", "i1")
	waitBound(t, monPort)
	door := doorCall(t, s, "0502", "300")
	door.wait(t, "door station")
	mon.wait(t, "indoor monitor")
	calls := log.ended(t, 1)
	c := calls[0]
	if c.Result != ResultAnswered || c.Code != 200 || c.Answerer != "室内分机" || c.Caller.Username != "d1" ||
		c.Route.RoomID != 7 || c.AnsweredAt.IsZero() || c.EndedAt.Before(c.AnsweredAt) {
		t.Fatalf("call record: %+v", c)
	}
}

func TestCallForksAndCancelsTheOthers(t *testing.T) {
	needSipp(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RoomID: 7, RingTime: 10 * time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}, {Username: "a1", Who: "张三"}, {Username: "a2", Who: "李四"}}})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, nil)
	p1, p2, p3 := freePort(t), freePort(t), freePort(t)
	register(t, s, "i1", "monitor-secret", p1)
	register(t, s, "a1", "app-secret-1", p2)
	register(t, s, "a2", "app-secret-2", p3)
	elsewhere := `cause=200;text="Call completed elsewhere"`
	c1 := startSipp(t, s, "monitor-cancelled.xml", p1, map[string]string{"reason": elsewhere}, "-s", "i1")
	answer := startSipp(t, s, "monitor-answer.xml", p2, map[string]string{"ring": "500", "expect": "INVITE sip:a1@"}, "-s", "a1")
	c3 := startSipp(t, s, "monitor-cancelled.xml", p3, map[string]string{"reason": elsewhere}, "-s", "a2")
	waitBound(t, p1, p2, p3)
	doorCall(t, s, "0502", "300").wait(t, "door station")
	answer.wait(t, "answering app")
	c1.wait(t, "cancelled monitor")
	c3.wait(t, "cancelled app")
	c := log.ended(t, 1)[0]
	if c.Result != ResultAnswered || c.Answerer != "张三" || c.AnswererID != 11 {
		t.Fatalf("call record: %+v", c)
	}
}

func TestCallForwardsToPhoneAfterRingTime(t *testing.T) {
	needSipp(t)
	dir := estate()
	gwPort := freePort(t)
	dir.route("0502", Route{Target: "1-1-1-0502", RoomID: 7, RingTime: time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}},
		Forwards: []Forward{{Phone: "13812341234", Who: "张三"}},
		Gateway:  "sip:127.0.0.1:" + itoa(gwPort)})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, nil)
	monPort := freePort(t)
	register(t, s, "i1", "monitor-secret", monPort)
	mon := startSipp(t, s, "monitor-cancelled.xml", monPort, map[string]string{"reason": "cause="}, "-s", "i1")
	gw := startSipp(t, s, "monitor-answer.xml", gwPort, map[string]string{"ring": "100", "expect": "INVITE sip:13812341234@127.0.0.1:" + itoa(gwPort)}, "-s", "gw")
	waitBound(t, monPort, gwPort)
	doorCall(t, s, "0502", "300").wait(t, "door station")
	mon.wait(t, "monitor cancelled after the ring time")
	gw.wait(t, "phone gateway")
	c := log.ended(t, 1)[0]
	if c.Result != ResultForwarded || c.Answerer != "电话转移 138****1234" {
		t.Fatalf("call record: %+v", c)
	}
}

func TestCallRefusals(t *testing.T) {
	needSipp(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RingTime: 10 * time.Second, Branches: []Branch{{Username: "i1", Who: "室内分机"}}})
	dir.route("0601", Route{Target: "forbidden"})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, nil)
	for _, tc := range []struct{ number, code string }{
		{"0502", "480"}, // nobody registered
		{"9999", "404"}, // not in the plan
		{"0601", "403"}, // not reachable
	} {
		startSipp(t, s, "door-refused.xml", freePort(t), map[string]string{"user": "d1", "code": tc.code},
			"-s", tc.number, "-au", "d1", "-ap", "door-secret", "-auth_uri", tc.number+"@"+s.Addr()).wait(t, "call "+tc.number)
	}
	// Every refused call of a station is recorded, so none stays 呼叫中.
	byNumber := map[string]Call{}
	for _, c := range log.ended(t, 3) {
		byNumber[c.Route.Number] = c
	}
	if c := byNumber["0502"]; c.Result != ResultMissed || c.Code != 480 || !strings.HasPrefix(c.Route.Target, "1-1-1") {
		t.Fatalf("call record of 0502: %+v", c)
	}
	for number, code := range map[string]int{"9999": 404, "0601": 403} {
		if c := byNumber[number]; c.Result != ResultFailed || c.Code != code || c.Caller.Username != "d1" {
			t.Errorf("call record of %s: %+v", number, c)
		}
	}
}

func TestCallBusyBranchDoesNotEndTheCall(t *testing.T) {
	needSipp(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RingTime: 10 * time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}, {Username: "a1", Who: "张三"}}})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, nil)
	p1, p2 := freePort(t), freePort(t)
	register(t, s, "i1", "monitor-secret", p1)
	register(t, s, "a1", "app-secret-1", p2)
	busy := startSipp(t, s, "monitor-busy.xml", p1, map[string]string{"ring": "100"}, "-s", "i1")
	answer := startSipp(t, s, "monitor-answer.xml", p2, map[string]string{"ring": "600", "expect": "INVITE sip:a1@"}, "-s", "a1")
	waitBound(t, p1, p2)
	doorCall(t, s, "0502", "200").wait(t, "door station")
	busy.wait(t, "busy monitor")
	answer.wait(t, "answering app")
	if c := log.ended(t, 1)[0]; c.Result != ResultAnswered || c.Answerer != "张三" {
		t.Fatalf("call record: %+v", c)
	}
}

func TestCallEveryoneBusy(t *testing.T) {
	needSipp(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RingTime: 10 * time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}, {Username: "a1", Who: "张三"}},
		Forwards: []Forward{{Phone: "13812341234"}}, Gateway: "sip:127.0.0.1:9"})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, nil)
	p1, p2 := freePort(t), freePort(t)
	register(t, s, "i1", "monitor-secret", p1)
	register(t, s, "a1", "app-secret-1", p2)
	b1 := startSipp(t, s, "monitor-busy.xml", p1, map[string]string{"ring": "100"}, "-s", "i1")
	b2 := startSipp(t, s, "monitor-busy.xml", p2, map[string]string{"ring": "300"}, "-s", "a1")
	waitBound(t, p1, p2)
	startSipp(t, s, "door-refused.xml", freePort(t), map[string]string{"user": "d1", "code": "486"},
		"-s", "0502", "-au", "d1", "-ap", "door-secret", "-auth_uri", "0502@"+s.Addr()).wait(t, "door station")
	b1.wait(t, "busy monitor")
	b2.wait(t, "busy app")
	if c := log.ended(t, 1)[0]; c.Result != ResultBusy || c.Code != 486 {
		t.Fatalf("call record: %+v", c)
	}
}

func TestCallerCancelsEveryBranch(t *testing.T) {
	needSipp(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RingTime: 10 * time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}, {Username: "a1", Who: "张三"}}})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, nil)
	p1, p2 := freePort(t), freePort(t)
	register(t, s, "i1", "monitor-secret", p1)
	register(t, s, "a1", "app-secret-1", p2)
	c1 := startSipp(t, s, "monitor-cancelled.xml", p1, map[string]string{"reason": "cause=487"}, "-s", "i1")
	c2 := startSipp(t, s, "monitor-cancelled.xml", p2, map[string]string{"reason": "cause=487"}, "-s", "a1")
	waitBound(t, p1, p2)
	startSipp(t, s, "door-cancel.xml", freePort(t), map[string]string{"user": "d1"},
		"-s", "0502", "-au", "d1", "-ap", "door-secret", "-auth_uri", "0502@"+s.Addr()).wait(t, "door station")
	c1.wait(t, "monitor")
	c2.wait(t, "app")
	if c := log.ended(t, 1)[0]; c.Result != ResultCancelled || c.Code != 487 {
		t.Fatalf("call record: %+v", c)
	}
}

func TestCallLateAnswerIsHungUp(t *testing.T) {
	needSipp(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RingTime: 10 * time.Second,
		Branches: []Branch{{Username: "i1", Who: "室内分机"}, {Username: "a1", Who: "张三"}}})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, nil)
	p1, p2 := freePort(t), freePort(t)
	register(t, s, "i1", "monitor-secret", p1)
	register(t, s, "a1", "app-secret-1", p2)
	answer := startSipp(t, s, "monitor-answer.xml", p1, map[string]string{"ring": "300", "expect": "INVITE sip:i1@"}, "-s", "i1")
	late := startSipp(t, s, "monitor-late.xml", p2, nil, "-s", "a1")
	waitBound(t, p1, p2)
	doorCall(t, s, "0502", "300").wait(t, "door station")
	answer.wait(t, "answering monitor")
	late.wait(t, "app answering late")
	if c := log.ended(t, 1)[0]; c.Result != ResultAnswered || c.Answerer != "室内分机" {
		t.Fatalf("call record: %+v", c)
	}
}

// An answered call nobody hangs up is ended by the server after the
// longest call time: BYE both ways, recorded as answered and ended.
func TestCallEndsAfterLongestCallTime(t *testing.T) {
	needSipp(t)
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RingTime: 10 * time.Second, Branches: []Branch{{Username: "i1", Who: "室内分机"}}})
	log := newMemCallLog()
	s := startServer(t, openStore(t), dir, log, func(c *Config) { c.MaxCallTime = time.Second })
	monPort := freePort(t)
	register(t, s, "i1", "monitor-secret", monPort)
	mon := startSipp(t, s, "monitor-answer.xml", monPort, map[string]string{"ring": "100", "expect": "INVITE sip:i1@"}, "-s", "i1")
	waitBound(t, monPort)
	startSipp(t, s, "door-hung-up.xml", freePort(t), map[string]string{"user": "d1"},
		"-s", "0502", "-au", "d1", "-ap", "door-secret", "-auth_uri", "0502@"+s.Addr()).wait(t, "door station")
	mon.wait(t, "monitor")
	c := log.ended(t, 1)[0]
	if c.Result != ResultAnswered || c.EndedAt.Sub(c.AnsweredAt) < time.Second {
		t.Fatalf("call record: %+v", c)
	}
}
