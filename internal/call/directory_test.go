package call

import (
	"context"
	"slices"
	"testing"
	"time"

	"linli/internal/ent/resident"
	"linli/internal/sip"
	"linli/internal/store"
	"linli/internal/storetest"
)

// TestAccounts: a bound device's account carries its current SIP password,
// kind, community and label; unknown names have none.
func TestAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		w := newWorld(t, db)
		e := w.estate(t, "账号小区", "")
		a := w.account(t, dev(e.door1))
		pw, _ := w.box.Open(e.door1.SipPasswordSealed)
		if a.Password != pw || a.Kind != sip.KindDoor || a.CommunityID != e.c.ID || a.DeviceID != e.door1.ID ||
			a.Label != "【账号小区】-1区-1栋-1单元-门口机1" {
			t.Errorf("door station account %+v", a)
		}
		if a := w.account(t, dev(e.monitor0502)); a.Kind != sip.KindIndoor || a.Label != "【账号小区】-1区-1栋-1单元-0502-室内分机" {
			t.Errorf("indoor monitor account %+v", a)
		}
		// Rebinding replaces the password: the account follows at once.
		w.must(t, db.Device.UpdateOneID(e.door1.ID).SetSipPasswordSealed(w.box.Seal("new-secret")).Exec(w.ctx))
		if a := w.account(t, dev(e.door1)); a.Password != "new-secret" {
			t.Errorf("after rebinding the password is %q", a.Password)
		}
		for _, name := range []string{"", "d", "d0", "d01", "d999999", "a1", "x1", "d-1", "a", "d12345678901234"} {
			if _, ok, err := w.dir.Account(context.Background(), name); ok || err != nil {
				t.Errorf("Account(%q) = %v, %v; want none", name, ok, err)
			}
		}
		w.must(t, db.Device.DeleteOneID(e.door2.ID).Exec(w.ctx))
		if _, ok, _ := w.dir.Account(context.Background(), dev(e.door2)); ok {
			t.Error("an unbound device still has an account")
		}
	})
}

// TestAppAccounts: an app sign-in gets its own SIP account, which ends at
// sign-out, when the resident is deleted and when APP呼叫 is withdrawn.
func TestAppAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		w := newWorld(t, db)
		e := w.estate(t, "APP小区", "")
		zhang := w.resident(t, e.room0502, "张三", "13800000001", true, false)
		li := w.resident(t, e.room0502, "李四", "13800000002", true, false)
		wang := w.resident(t, e.room0601, "王五", "13800000003", true, false)
		w.resident(t, e.room0601, "赵六", "13800000004", false, false)

		bz, accZ := w.signIn(t, "13800000001")
		_, accL := w.signIn(t, "13800000002")
		bw, accW := w.signIn(t, "13800000003")
		_, accNone := w.signIn(t, "13800000004")
		if accZ == nil || accL == nil || accW == nil || accZ.Username == accL.Username || accZ.Password == "" {
			t.Fatalf("sign-in SIP accounts %+v %+v %+v", accZ, accL, accW)
		}
		if accNone != nil {
			t.Errorf("a resident without APP呼叫 got a SIP account: %+v", accNone)
		}
		if len(accZ.Communities) != 1 || accZ.Communities[0].UnlockDTMF != "#" || accZ.Communities[0].RingSeconds != 30 {
			t.Errorf("communities of the SIP account: %+v", accZ.Communities)
		}
		again, err := w.owners.SIP(w.ctx, bz)
		if err != nil || again.Username != accZ.Username || again.Password != accZ.Password {
			t.Errorf("GET /app/v1/sip gave %+v, %v; sign-in gave %+v", again, err, accZ)
		}
		a := w.account(t, accZ.Username)
		if a.Kind != sip.KindApp || a.Password != accZ.Password || a.ResidentID != zhang.ID || a.Phone != "13800000001" ||
			a.Label != "张三" || a.CommunityID != e.c.ID {
			t.Errorf("app account %+v", a)
		}

		// Sign-out.
		w.must(t, w.owners.SignOut(w.ctx, bz))
		if _, ok, _ := w.dir.Account(context.Background(), accZ.Username); ok {
			t.Error("the SIP account works after signing out")
		}
		if _, err := w.owners.SIP(w.ctx, bz); err == nil {
			t.Error("GET /app/v1/sip works after signing out")
		}
		// Resident deleted.
		w.must(t, db.Resident.DeleteOneID(li.ID).Exec(w.ctx))
		if _, ok, _ := w.dir.Account(context.Background(), accL.Username); ok {
			t.Error("the SIP account works after the resident was deleted")
		}
		// APP呼叫 withdrawn, then given back.
		w.must(t, db.Resident.UpdateOneID(wang.ID).SetAppCall(false).Exec(w.ctx))
		if _, ok, _ := w.dir.Account(context.Background(), accW.Username); ok {
			t.Error("the SIP account works after APP呼叫 was withdrawn")
		}
		if _, err := w.owners.SIP(w.ctx, bw); err == nil {
			t.Error("GET /app/v1/sip works without APP呼叫")
		}
		w.must(t, db.Resident.Update().Where(resident.ID(wang.ID)).SetAppCall(true).Exec(w.ctx))
		if a := w.account(t, accW.Username); a.ResidentID != wang.ID {
			t.Errorf("after APP呼叫 came back: %+v", a)
		}
		// An expired session has no account.
		w.must(t, db.AppSession.Update().SetExpiresAt(time.Now().Add(-time.Minute)).Exec(w.ctx))
		if _, ok, _ := w.dir.Account(context.Background(), accW.Username); ok {
			t.Error("the SIP account of an expired session works")
		}
	})
}

// TestRoute: the dial plan for each kind of caller, within its community.
func TestRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		w := newWorld(t, db)
		e := w.estate(t, "路由小区", "gw.example.com:5060")
		f := w.estate(t, "别的小区", "")
		w.resident(t, e.room0502, "张三", "13800000001", true, true)
		w.resident(t, e.room0502, "李四", "13800000002", false, true)
		w.resident(t, e.room0502, "王五", "13800000003", true, false)
		w.resident(t, e.room0601, "赵六", "13800000004", false, false) // 0601: no monitor, nobody to ring
		w.resident(t, f.room0502, "外人", "13800000009", true, false)
		_, accZ := w.signIn(t, "13800000001")
		_, accWang := w.signIn(t, "13800000003")
		_, accOut := w.signIn(t, "13800000009")
		w.must(t, db.Community.UpdateOneID(e.c.ID).SetRingSeconds(45).Exec(w.ctx))

		door := w.account(t, dev(e.door1))
		doorU2 := w.account(t, dev(e.doorU2))
		wall := w.account(t, dev(e.wall1))
		mgmt := w.account(t, dev(e.mgmt1))
		indoor := w.account(t, dev(e.monitor0502))
		indoorU2 := w.account(t, dev(e.monitorU2))
		app := w.account(t, accZ.Username)
		outsider := w.account(t, dev(f.door1))
		outsiderApp := w.account(t, accOut.Username)

		// A room: the monitor and the apps of residents with APP呼叫; forwards
		// to those with 电话转移 in order.
		rt, err := w.dir.Route(context.Background(), door, "0502")
		if err != nil {
			t.Fatal(err)
		}
		wantBranches := []sip.Branch{{Username: dev(e.monitor0502), Who: "室内分机"}, {Username: accZ.Username, Who: "张三"}, {Username: accWang.Username, Who: "王五"}}
		wantForwards := []sip.Forward{{Phone: "13800000001", Who: "张三"}, {Phone: "13800000002", Who: "李四"}}
		if !slices.Equal(rt.Branches, wantBranches) || !slices.Equal(rt.Forwards, wantForwards) || rt.RoomID != e.room0502.ID ||
			rt.Target != "【路由小区】-1区-1栋-1单元-0502" || rt.Number != "0502" || rt.RingTime != 45*time.Second ||
			rt.Gateway != "sip:gw.example.com:5060" || rt.Monitor {
			t.Errorf("route to 0502: %+v", rt)
		}

		const nobody = "room with nobody to ring"
		for _, c := range []struct {
			name   string
			caller sip.Account
			number string
			code   int
			room   int
			device int
			mon    bool
		}{
			{"door short 3 digits", door, "502", 0, e.room0502.ID, 0, false},
			{"door full", door, "1-1-1-0502", 0, e.room0502.ID, 0, false},
			{"door full hashes", door, "1#1#1#0502", 0, e.room0502.ID, 0, false},
			{"door full other unit", door, "1-1-2-0502", 0, e.other.ID, 0, false},
			{"door short is its own unit", doorU2, "0502", 0, e.other.ID, 0, false},
			{"door short of another unit", doorU2, "0601", 404, 0, 0, false},
			{nobody, door, "0601", 0, e.room0601.ID, 0, false},
			{"no such room", door, "0909", 404, 0, 0, false},
			{"no such unit", door, "1-1-9-0502", 404, 0, 0, false},
			{"not in plan", door, "abc", 404, 0, 0, false},
			{"door to management", door, "9901", 0, 0, e.mgmt1.ID, false},
			{"door to all management", door, "9900", 0, 0, 0, false},
			{"management beyond count", door, "9903", 404, 0, 0, false},
			{"door cannot monitor", door, "MD2", 403, 0, 0, false},
			{"door cannot call a station", door, "W1", 403, 0, 0, false},
			{"wall full", wall, "1-1-1-0502", 0, e.room0502.ID, 0, false},
			{"wall short", wall, "0502", 404, 0, 0, false},
			{"wall to management", wall, "9902", 0, 0, e.mgmt2.ID, false},
			{"management to room", mgmt, "1-1-2-0502", 0, e.other.ID, 0, false},
			{"management short room", mgmt, "0502", 404, 0, 0, false},
			{"management calls door", mgmt, "1-1-1-D2", 0, 0, e.door2.ID, false},
			{"management monitors door", mgmt, "M1-1-1-D2", 0, 0, e.door2.ID, true},
			{"management calls wall", mgmt, "W1", 0, 0, e.wall1.ID, false},
			{"management monitors wall", mgmt, "MW1", 0, 0, e.wall1.ID, true},
			{"management no such door", mgmt, "1-1-2-D2", 404, 0, 0, false},
			{"indoor monitors own door", indoor, "MD1", 0, 0, e.door1.ID, true},
			{"indoor D is monitoring", indoor, "D2", 0, 0, e.door2.ID, true},
			{"indoor monitors own door by address", indoor, "M1-1-1-D1", 0, 0, e.door1.ID, true},
			{"indoor cannot monitor another unit", indoor, "M1-1-2-D1", 403, 0, 0, false},
			{"indoor of unit 2 gets its own door", indoorU2, "MD1", 0, 0, e.doorU2.ID, true},
			{"indoor monitors wall", indoor, "MW1", 0, 0, e.wall1.ID, true},
			{"indoor to management", indoor, "9901", 0, 0, e.mgmt1.ID, false},
			{"indoor cannot call rooms", indoor, "1-1-2-0502", 403, 0, 0, false},
			{"app monitors own door", app, "MD1", 0, 0, e.door1.ID, true},
			{"app cannot monitor another unit", app, "M1-1-2-D1", 403, 0, 0, false},
			{"app to management", app, "9900", 0, 0, 0, false},
			{"app cannot call rooms", app, "0502", 403, 0, 0, false},
			{"another community's door reaches its own 0502 only", outsider, "1-1-1-0502", 0, f.room0502.ID, 0, false},
			{"another community's app monitors its own door only", outsiderApp, "MD1", 0, 0, f.door1.ID, true},
		} {
			rt, err := w.dir.Route(context.Background(), c.caller, c.number)
			if code(err) != c.code {
				t.Errorf("%s: %s → %v (%d), want %d", c.name, c.number, err, code(err), c.code)
				continue
			}
			if err != nil {
				continue
			}
			// A room with nobody to ring routes to the room with no branch:
			// the server answers 480 and records the call as missed there.
			if rt.RoomID != c.room || rt.DeviceID != c.device || rt.Monitor != c.mon || (len(rt.Branches) == 0) != (c.name == nobody) {
				t.Errorf("%s: %s → %+v; want room %d device %d monitor %v", c.name, c.number, rt, c.room, c.device, c.mon)
			}
			// Nothing of the other community is ever a branch.
			for _, b := range rt.Branches {
				if a, ok, _ := w.dir.Account(context.Background(), b.Username); ok && a.CommunityID != c.caller.CommunityID {
					t.Errorf("%s: branch %s is in community %d", c.name, b.Username, a.CommunityID)
				}
			}
		}
		if rt, _ := w.dir.Route(context.Background(), door, "9900"); len(rt.Branches) != 2 || rt.Branches[1].Who != "管理机2" {
			t.Errorf("9900 rings %+v, want both management stations", rt.Branches)
		}
		// A phone with rooms in two units rings for both, and must name the
		// unit of the door station it watches.
		w.resident(t, e.other, "张三", "13800000001", true, false)
		rt2, err := w.dir.Route(context.Background(), doorU2, "0502")
		if err != nil || !slices.Contains(rt2.Branches, sip.Branch{Username: accZ.Username, Who: "张三"}) {
			t.Errorf("the app of a resident of two rooms does not ring for the second: %+v, %v", rt2, err)
		}
		if _, err := w.dir.Route(context.Background(), app, "MD1"); code(err) != 404 {
			t.Errorf("MD1 from an app with two units: %v", err)
		}
		if rt, err := w.dir.Route(context.Background(), app, "M1-1-2-D1"); err != nil || rt.DeviceID != e.doorU2.ID {
			t.Errorf("M1-1-2-D1 from an app with a room there: %+v, %v", rt, err)
		}
		// Without a gateway nobody is forwarded to.
		w.must(t, db.Community.UpdateOneID(e.c.ID).SetPhoneGateway("").Exec(w.ctx))
		if rt, _ := w.dir.Route(context.Background(), door, "0502"); len(rt.Forwards) != 0 || rt.Gateway != "" {
			t.Errorf("forwards without a gateway: %+v", rt)
		}
	})
}

func TestGateway(t *testing.T) {
	for in, want := range map[string]string{"": "", " gw.example.com:5060 ": "sip:gw.example.com:5060", "sip:10.0.0.1": "sip:10.0.0.1", "SIPS:gw": "SIPS:gw"} {
		if got := Gateway(in); got != want {
			t.Errorf("Gateway(%q) = %q, want %q", in, got, want)
		}
	}
}
