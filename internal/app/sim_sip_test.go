package app_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/sim"
	"linli/internal/sip/ua"
	"linli/internal/storetest"
)

// TestSimulatorCallsOverSIP: a simulated door station bound to the real
// server, with the SIP account binding gave it, calls a simulated indoor
// monitor (peer to peer: the monitor's agent stands where the SIP server
// will be), RTP flows both ways, the monitor's unlock key opens the door by
// RFC 4733 and then by SIP INFO, and the call's snapshot and the 通话中开锁
// reach 开锁记录 and 呼叫记录 on the server.
func TestSimulatorCallsOverSIP(t *testing.T) {
	t.Parallel()
	b := storetest.Backends()[0]
	cfg := config.Config{DataDir: t.TempDir(), DBURL: b.URL(t), AdminAccount: "admin", AdminPassword: apptest.AdminInitial,
		HTTPAddr: freeAddr(t), MQTTAddr: freeAddr(t)}
	s := apptest.StartWith(t, cfg)
	a := s.NewCommunity(t, s.Operator(), "通话小区", "CL")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()

	// The monitor registers with a server that is not there: its agent
	// keeps retrying in the background while it answers calls.
	monitor := sim.New(sim.Config{Server: s.URL, MQTTAddr: cfg.MQTTAddr, CommunityID: a.ID, Password: "pwCLx9",
		Slot: sim.Slot{Kind: "indoor", RoomID: a.RoomID}, Serial: "SIM-MON", SIPAddr: freeAddr(t),
		Answer: ua.AnswerPolicy{Mode: ua.AnswerAfter, Delay: 300 * time.Millisecond}}, logger)
	if err := monitor.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	if err := monitor.StartSIP(ctx); err != nil {
		t.Fatal(err)
	}
	runSim(t, monitor)
	mon := monitor.Status().SIP
	if mon == nil || !strings.HasPrefix(mon.Username, "d") || mon.AnswerMode != ua.AnswerAfter {
		t.Fatalf("monitor's SIP side: %+v", mon)
	}
	monitorAddr := monitor.SIPAddr()

	door := sim.New(sim.Config{Server: s.URL, MQTTAddr: cfg.MQTTAddr, CommunityID: a.ID, Password: "pwCLx9",
		Slot: sim.Slot{Kind: "door", UnitID: a.UnitID, Index: 1}, Serial: "SIM-DOOR", SIPAddr: monitorAddr}, logger)
	if err := door.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	if err := door.StartSIP(ctx); err != nil {
		t.Fatal(err)
	}
	runSim(t, door)

	call, err := door.PlaceCall(ctx, "0502")
	if err != nil {
		t.Fatal(err)
	}
	if call.ID == "" || call.State != ua.StateCalling {
		t.Fatalf("placed call: %+v", call)
	}
	doorCall := func() ua.CallInfo { return door.Status().SIP.Calls[0] }
	waitFor(t, "the monitor answers and RTP flows both ways", func() bool {
		c, m := doorCall(), monitor.Status().SIP.Calls
		return c.State == ua.StateAnswered && c.PacketsReceived >= 10 && len(m) == 1 && m[0].PacketsReceived >= 10
	})
	if got := monitor.Status().SIP.Calls[0]; got.ID != call.ID || got.Direction != "in" {
		t.Fatalf("monitor's call: %+v", got)
	}
	waitFor(t, "the door's H.264 reaches the monitor", func() bool { return monitor.Status().SIP.Calls[0].VideoReceived >= 30 })

	// The resident opens the door: RFC 4733 first, then SIP INFO.
	if _, err := monitor.SendUnlock(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the door opens on the RFC 4733 key", func() bool { return len(door.Status().Unlocks) == 1 })
	if _, err := monitor.SendUnlock(ctx, "info"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the door opens on the INFO key", func() bool { return len(door.Status().Unlocks) == 2 })
	for i, via := range []string{"rtp", "info"} {
		if u := door.Status().Unlocks[i]; u.Type != "call" || u.CallID != call.ID || u.Via != via {
			t.Errorf("unlock %d: %+v", i, u)
		}
	}
	if _, err := door.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the monitor sees the BYE", func() bool { return monitor.Status().SIP.Calls[0].State == ua.StateEnded })
	if _, err := door.Hangup(); err == nil {
		t.Error("hang up without a call succeeded")
	}

	// The monitor is busy: the next call is refused with 486; then it
	// never answers, and the door gives up while it rings (CANCEL).
	if err := monitor.SetAnswerMode(ua.AnswerPolicy{Mode: ua.AnswerReject, Code: 486}); err != nil {
		t.Fatal(err)
	}
	if _, err := door.PlaceCall(ctx, "0502"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal", func() bool { c := door.Status().SIP.Calls; return len(c) == 2 && c[1].State == ua.StateEnded })
	if c := door.Status().SIP.Calls[1]; c.Code != 486 || c.AnsweredAt != nil {
		t.Errorf("refused call: %+v", c)
	}
	if err := monitor.SetAnswerMode(ua.AnswerPolicy{Mode: ua.AnswerNever}); err != nil {
		t.Fatal(err)
	}
	if _, err := door.PlaceCall(ctx, "0502"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the third call rings", func() bool { c := monitor.Status().SIP.Calls; return len(c) == 3 && c[2].State == ua.StateRinging })
	if got, err := door.Hangup(); err != nil || got.Code != 487 {
		t.Fatalf("hang up while ringing: %+v %v", got, err)
	}
	waitFor(t, "the monitor stops ringing", func() bool { return monitor.Status().SIP.Calls[2].State == ua.StateEnded })

	// The call's snapshot and both openings reached the server.
	waitFor(t, "three events of the first call uploaded", func() bool {
		n := 0
		for _, ev := range door.Status().Events {
			if ev.CallID == call.ID && ev.Status == "sent" {
				n++
			}
		}
		return n == 3
	})
	var unlocks, calls recordList
	a.Manager.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &unlocks)
	if unlocks.Total != 2 || unlocks.Items[0].UnlockTypeName != "通话中开锁" {
		t.Errorf("开锁记录: %+v", unlocks)
	}
	waitFor(t, "the three calls' snapshots uploaded", func() bool {
		a.Manager.Must(200, "GET", a.Path("/records/calls"), nil).JSON(t, &calls)
		return calls.Total == 3
	})
	if calls.Items[0].Target != "0502" || !calls.Items[0].HasSnapshot {
		t.Errorf("呼叫记录: %+v", calls)
	}
}
