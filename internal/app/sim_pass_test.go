package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/sim"
)

// holdsPass reports whether simulated device d has pass id on its whitelist.
func holdsPass(d *sim.Device, id int) bool {
	return slices.Contains(d.Status().Whitelist, fmt.Sprintf("pass:%d", id))
}

// TestSimulatedVisitorPass: a pass for 2 uses reaches both door stations
// of its unit; its QR code opens once at each, and the third scan is
// refused at either, because the server counts the uses of both and the
// used-up pass leaves their whitelists. A revoked pass's PIN stops working.
func TestSimulatedVisitorPass(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "访客模拟小区", "SV")
		a.Manager.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "甲", "role": "业主", "phone": "13911160001"})
		h := appSignInAs(t, s, "13911160001", "")
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		var doors []*sim.Device
		for i := 1; i <= 2; i++ {
			d := sim.New(sim.Config{Server: s.URL, MQTTAddr: s.App.MQTTAddr().String(), CommunityID: a.ID, Password: "pwSVx9",
				Slot: sim.Slot{Kind: "door", UnitID: a.UnitID, Index: i}, Serial: fmt.Sprintf("SIM-SV-%d", i), SIPAddr: "off"}, logger)
			if err := d.Bind(context.Background()); err != nil {
				t.Fatal(err)
			}
			runSim(t, d)
			doors = append(doors, d)
		}
		waitFor(t, "both door stations synced", func() bool { return doors[0].Status().Syncs > 0 && doors[1].Status().Syncs > 0 })

		created := time.Now()
		p := createPass(t, s, h, 201, map[string]any{"room_id": a.RoomID, "visitor_name": "张来访", "kind": "visitor",
			"valid_to": time.Now().Add(3 * time.Hour).Format(time.RFC3339), "max_uses": 2})
		waitFor(t, "the pass reaches both door stations", func() bool { return holdsPass(doors[0], p.ID) && holdsPass(doors[1], p.ID) })
		t.Logf("the pass reached both door stations in %s", time.Since(created))

		ctx := context.Background()
		if r := doors[0].ScanQR(ctx, p.QR); !r.Opened || r.Event == nil || r.Event.Status != "sent" {
			t.Fatalf("first scan at door 1: %+v", r)
		}
		if r := doors[1].ScanQR(ctx, p.QR); !r.Opened {
			t.Fatalf("second scan at door 2: %+v", r)
		}
		waitFor(t, "the used-up pass leaves both door stations", func() bool { return !holdsPass(doors[0], p.ID) && !holdsPass(doors[1], p.ID) })
		for i, d := range doors {
			if r := d.ScanQR(ctx, p.QR); r.Opened {
				t.Errorf("third scan at door %d opened: %+v", i+1, r)
			}
		}
		var got appPass
		s.Client("app").DoHeaders("GET", fmt.Sprintf("/app/v1/passes/%d", p.ID), h, nil).JSON(t, &got)
		if got.Uses != 2 || got.Status != "已用完" {
			t.Errorf("the pass after two scans: %+v", got)
		}

		// A PIN opens until the resident revokes the pass.
		q := createPass(t, s, h, 201, map[string]any{"room_id": a.RoomID, "visitor_name": "钟点工", "kind": "visitor",
			"valid_to": time.Now().Add(3 * time.Hour).Format(time.RFC3339), "max_uses": 0})
		waitFor(t, "the second pass reaches door 2", func() bool { return holdsPass(doors[1], q.ID) })
		if r := doors[1].EnterPIN(ctx, q.PIN); !r.Opened {
			t.Fatalf("PIN at door 2: %+v", r)
		}
		s.Client("app").DoHeaders("DELETE", fmt.Sprintf("/app/v1/passes/%d", q.ID), h, nil)
		waitFor(t, "the revoked pass leaves door 2", func() bool { return !holdsPass(doors[1], q.ID) })
		if r := doors[1].EnterPIN(ctx, q.PIN); r.Opened {
			t.Errorf("the PIN of a revoked pass opened: %+v", r)
		}
		var unlocks recordList
		a.Manager.Must(200, "GET", a.Path("/records/unlocks?unlock_type=qrcode"), nil).JSON(t, &unlocks)
		if unlocks.Total != 2 || unlocks.Items[0].ResidentName != "访客 张来访" {
			t.Errorf("开锁记录 of the QR scans: %+v", unlocks)
		}
	})
}
