package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/sim"
	"linli/internal/sip/ua"
	"linli/internal/storetest"
)

// startDoors starts Linli on backend b with a short wait for devices'
// answers to remote openings.
func startDoors(t *testing.T, b storetest.Backend) *apptest.Server {
	t.Helper()
	return apptest.StartWith(t, config.Config{DataDir: t.TempDir(), DBURL: b.URL(t), AdminAccount: "admin",
		AdminPassword: apptest.AdminInitial, MQTTAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", DoorOpenTimeout: time.Second})
}

func eachDoors(t *testing.T, fn func(t *testing.T, s *apptest.Server)) {
	t.Helper()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, startDoors(t, b)) })
	}
}

// extraSession opens another app session of phone directly in the store
// (a second code would wait a minute).
func extraSession(t *testing.T, s *apptest.Server, phone, deviceName string) map[string]string {
	t.Helper()
	_, token := openAppSession(t, s, phone, deviceName)
	return map[string]string{"Authorization": "Bearer " + token}
}

// openAppSession opens an app session of phone directly in the store and
// returns its id and bearer token.
func openAppSession(tb testing.TB, s *apptest.Server, phone, deviceName string) (int, string) {
	tb.Helper()
	token := fmt.Sprintf("extra-%s-%d", phone, time.Now().UnixNano())
	sum := sha256.Sum256([]byte(token))
	sess, err := s.App.Store().AppSession.Create().SetTokenHash(hex.EncodeToString(sum[:])).SetPhone(phone).SetDeviceName(deviceName).
		SetExpiresAt(time.Now().Add(time.Hour)).Save(actor.AsSystem(context.Background()))
	if err != nil {
		tb.Fatal(err)
	}
	return sess.ID, token
}

// appDo sends an app request with the bearer header h.
func appDo(s *apptest.Server, h map[string]string, method, path string, body any) apptest.Response {
	return s.Client("app").DoHeaders(method, path, h, body)
}

func wantStatus(t *testing.T, r apptest.Response, status int, detail string) {
	t.Helper()
	if r.Status != status || !strings.Contains(r.Detail(), detail) {
		t.Errorf("got %d %s, want %d %q", r.Status, r.Body, status, detail)
	}
}

// TestAppMeAndSessions: a phone in two rooms sees both with its role and
// permissions; it lists its signed-in devices, signs one out, registers a
// push token, and signs out everywhere.
func TestAppMeAndSessions(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		a := s.NewCommunity(t, s.Operator(), "我的小区", "ME")
		m := a.Manager
		var room2 struct{ ID int }
		m.Must(201, "POST", a.Path("/rooms"), map[string]any{"unit_id": a.UnitID, "floor": 6, "number": 1}).JSON(t, &room2)
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "王业主", "role": "业主", "phone": "13933330001"})
		var fam struct{ ID int }
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": room2.ID, "name": "王业主", "role": "家属", "phone": "13933330001"}).JSON(t, &fam)
		m.Must(200, "PATCH", a.Path(fmt.Sprintf("/residents/%d/permissions", fam.ID)), map[string]any{"app_call": false})
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": room2.ID, "name": "李邻居", "role": "业主", "phone": "13933330002"})

		if r := s.Client("app").Do("POST", "/app/v1/session", map[string]any{"phone": "13933330001", "code": "000000", "device_name": strings.Repeat("x", 65)}); r.Status != 422 {
			t.Errorf("a 65-character device name: %d %s", r.Status, r.Body)
		}
		h := appSignInAs(t, s, "13933330001", "iPhone 15")
		var me struct {
			Phone, Name string
			Rooms       []struct {
				ResidentID    int    `json:"resident_id"`
				RoomID        int    `json:"room_id"`
				Label         string `json:"label"`
				CommunityName string `json:"community_name"`
				Role          string
				IsOwner       bool `json:"is_owner"`
				Permissions   struct {
					AppCall bool `json:"app_call"`
				}
				AccessUntil    *string  `json:"access_until"`
				InvitableRoles []string `json:"invitable_roles"`
			}
		}
		appDo(s, h, "GET", "/app/v1/me", nil).JSON(t, &me)
		if me.Phone != "13933330001" || me.Name != "王业主" || len(me.Rooms) != 2 {
			t.Fatalf("me: %+v", me)
		}
		owner, family := me.Rooms[0], me.Rooms[1]
		if owner.RoomID != a.RoomID || !owner.IsOwner || owner.Role != "业主" || !owner.Permissions.AppCall || owner.CommunityName != "我的小区" ||
			!strings.HasPrefix(owner.Label, "【我的小区】") || !strings.HasSuffix(owner.Label, "0502") || owner.AccessUntil != nil ||
			strings.Join(owner.InvitableRoles, ",") != "家属,租户" {
			t.Errorf("owner's room: %+v", owner)
		}
		if family.RoomID != room2.ID || family.IsOwner || family.Permissions.AppCall || len(family.InvitableRoles) != 0 {
			t.Errorf("family member's room: %+v", family)
		}

		other := extraSession(t, s, "13933330001", "华为 Mate 60")
		neighbour := extraSession(t, s, "13933330002", "小米")
		type sessions struct {
			Items []struct {
				ID         int
				DeviceName string `json:"device_name"`
				Current    bool
			}
		}
		var ss sessions
		appDo(s, h, "GET", "/app/v1/sessions", nil).JSON(t, &ss)
		if len(ss.Items) != 2 {
			t.Fatalf("sessions: %+v", ss)
		}
		var mine, theirs int
		for _, x := range ss.Items {
			if x.Current != (x.DeviceName == "iPhone 15") {
				t.Errorf("current flag: %+v", ss)
			}
			if x.DeviceName == "华为 Mate 60" {
				mine = x.ID
			}
		}
		var ns sessions
		appDo(s, neighbour, "GET", "/app/v1/sessions", nil).JSON(t, &ns)
		theirs = ns.Items[0].ID
		wantStatus(t, appDo(s, h, "DELETE", fmt.Sprintf("/app/v1/sessions/%d", theirs), nil), 404, "登录设备不存在")
		wantStatus(t, appDo(s, neighbour, "GET", "/app/v1/me", nil), 200, "")
		wantStatus(t, appDo(s, h, "DELETE", fmt.Sprintf("/app/v1/sessions/%d", mine), nil), 204, "")
		wantStatus(t, appDo(s, other, "GET", "/app/v1/me", nil), 401, "登录已失效")

		wantStatus(t, appDo(s, h, "PUT", "/app/v1/push-token", map[string]any{"platform": "wechat", "token": "x"}), 422, "")
		wantStatus(t, appDo(s, h, "PUT", "/app/v1/push-token", map[string]any{"platform": "apns", "token": ""}), 422, "")
		wantStatus(t, appDo(s, h, "PUT", "/app/v1/push-token", map[string]any{"platform": "apns", "token": "abc123"}), 204, "")

		extraSession(t, s, "13933330001", "iPad")
		wantStatus(t, appDo(s, h, "DELETE", "/app/v1/sessions", nil), 204, "")
		wantStatus(t, appDo(s, h, "GET", "/app/v1/sessions", nil), 401, "登录已失效")
		if n, _ := s.App.Store().AppSession.Query().Count(actor.AsSystem(context.Background())); n != 1 {
			t.Errorf("%d sessions left, want only the neighbour's", n)
		}
	})
}

type appDoorList struct {
	Items []struct {
		ID            int
		Name, Kind    string
		CommunityName string `json:"community_name"`
		Online        bool
	}
}

// TestAppRemoteOpen: a resident opens the door of a running simulated
// door station from the app; 开锁记录 shows the resident and APP远程. An
// offline station answers 409, a station that ignores the command 504
// without a record, a phone opening too often 429, and the door of another
// community 404.
func TestAppRemoteOpen(t *testing.T) {
	t.Parallel()
	eachDoors(t, func(t *testing.T, s *apptest.Server) {
		a := s.NewCommunity(t, s.Operator(), "开门小区", "KM")
		m := a.Manager
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "开门人", "role": "业主", "phone": "13922220001"})
		d := sim.New(sim.Config{Server: s.URL, MQTTAddr: s.App.MQTTAddr().String(), CommunityID: a.ID, Password: "pwKMx9",
			Slot: sim.Slot{Kind: "door", UnitID: a.UnitID, Index: 1}, Serial: "SIM-OPEN", SIPAddr: "off"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err := d.Bind(context.Background()); err != nil {
			t.Fatal(err)
		}
		runSim(t, d)
		var wall struct{ Token string }
		s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwKMx9",
			"serial": "SIM-WALL", "slot": map[string]any{"kind": "wall", "index": 1}}).JSON(t, &wall)
		waitFor(t, "the door station 在线", func() bool { return deviceStatus(t, m, a, "SIM-OPEN") == "online" })

		h := appSignIn(t, s, "13922220001")
		var doors appDoorList
		appDo(s, h, "GET", "/app/v1/doors", nil).JSON(t, &doors)
		if len(doors.Items) != 2 {
			t.Fatalf("doors: %+v", doors)
		}
		door, wallDoor := doors.Items[0], doors.Items[1]
		if door.Kind != "门口机" || !strings.HasSuffix(door.Name, "门口机") || !door.Online || door.CommunityName != "开门小区" {
			t.Errorf("door station: %+v", door)
		}
		if wallDoor.Kind != "围墙机" || wallDoor.Name != "围墙机1" || wallDoor.Online {
			t.Errorf("wall station: %+v", wallDoor)
		}

		var opened struct {
			OpenedAt time.Time `json:"opened_at"`
		}
		appDo(s, h, "POST", fmt.Sprintf("/app/v1/doors/%d/open", door.ID), nil).JSON(t, &opened)
		if opened.OpenedAt.IsZero() {
			t.Fatal("no opened_at")
		}
		if st := d.Status(); st.LastOpen == nil || st.LastOpen.Type != "app" || st.LastOpen.ResidentID == 0 {
			t.Errorf("the simulator's last opening: %+v", st.LastOpen)
		}
		var unlocks recordList
		waitFor(t, "开锁记录 of the remote opening", func() bool {
			m.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &unlocks)
			return unlocks.Total == 1
		})
		if u := unlocks.Items[0]; u.ResidentName != "开门人" || u.UnlockTypeName != "APP远程" {
			t.Errorf("开锁记录: %+v", u)
		}

		// Offline: the wall station never connected.
		wantStatus(t, appDo(s, h, "POST", fmt.Sprintf("/app/v1/doors/%d/open", wallDoor.ID), nil), 409, "设备离线，无法开门")
		// No answer: 504, and no record.
		d.IgnoreCommands(true)
		wantStatus(t, appDo(s, h, "POST", fmt.Sprintf("/app/v1/doors/%d/open", door.ID), nil), 504, "开门超时")
		d.IgnoreCommands(false)
		time.Sleep(300 * time.Millisecond) // not a wait for a condition: a late record would show by now
		m.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &unlocks)
		if unlocks.Total != 1 {
			t.Errorf("a failed opening left a record: %+v", unlocks)
		}
		if n := len(d.Status().Unlocks); n != 1 {
			t.Errorf("the simulator opened %d times, want 1", n)
		}
		// Too often: 10 openings a minute per phone (2 so far).
		for range 8 {
			appDo(s, h, "POST", fmt.Sprintf("/app/v1/doors/%d/open", door.ID), nil)
		}
		wantStatus(t, appDo(s, h, "POST", fmt.Sprintf("/app/v1/doors/%d/open", door.ID), nil), 429, "开门过于频繁，请稍后再试")

		// Another community's resident sees none of these doors.
		b := s.NewCommunity(t, s.Operator(), "邻居小区", "KN")
		b.Manager.Must(201, "POST", b.Path("/residents"), map[string]any{"room_id": b.RoomID, "name": "外人", "role": "业主", "phone": "13922220002"})
		hb := appSignIn(t, s, "13922220002")
		var none appDoorList
		appDo(s, hb, "GET", "/app/v1/doors", nil).JSON(t, &none)
		if len(none.Items) != 0 {
			t.Errorf("another community's resident sees %+v", none)
		}
		wantStatus(t, appDo(s, hb, "POST", fmt.Sprintf("/app/v1/doors/%d/open", door.ID), nil), 404, "门禁设备不存在")
		// A device token is no app sign-in.
		dev := map[string]string{"Authorization": "Bearer " + wall.Token}
		for _, p := range []string{"/app/v1/doors", "/app/v1/me", "/app/v1/calls", "/app/v1/dnd", "/app/v1/sessions"} {
			if r := appDo(s, dev, "GET", p, nil); r.Status != 401 && r.Status != 403 {
				t.Errorf("a device's token on %s: %d", p, r.Status)
			}
		}
		if r := appDo(s, dev, "POST", fmt.Sprintf("/app/v1/doors/%d/open", door.ID), nil); r.Status != 401 && r.Status != 403 {
			t.Errorf("a device's token opening: %d", r.Status)
		}
		// The stopped station is offline.
		m.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &unlocks)
		if unlocks.Total < 1 || unlocks.Total > 9 {
			t.Errorf("records after the burst: %d", unlocks.Total)
		}
	})
}

// TestAppCallsAndDND: with 免打扰 on, a door call to the room rings the
// indoor monitor but not the resident's app, and pushes nothing to it;
// with 免打扰 off the app rings too and gets the call push. The calls show
// in the app's 通话记录 as 未接听 with their snapshot until seen; a new
// notice is pushed.
func TestAppCallsAndDND(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		ctx := context.Background()
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		sipAddr := s.App.SIPAddr()
		a := s.NewCommunity(t, s.Operator(), "免打扰小区", "DN")
		m := a.Manager
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "夜猫子", "role": "业主", "phone": "13944440001"})
		h := appSignIn(t, s, "13944440001")
		wantStatus(t, appDo(s, h, "PUT", "/app/v1/push-token", map[string]any{"platform": "log", "token": "tok-1"}), 204, "")
		var acc struct{ Username, Password string }
		appDo(s, h, "GET", "/app/v1/sip", nil).JSON(t, &acc)
		app, err := ua.New(ua.Config{Username: acc.Username, Password: acc.Password, Server: sipAddr, Logger: logger,
			Answer: ua.AnswerPolicy{Mode: ua.AnswerNever}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = app.Close() })
		if err := app.Register(ctx); err != nil {
			t.Fatal(err)
		}
		monitor := sim.New(sim.Config{Server: s.URL, MQTTAddr: s.App.MQTTAddr().String(), CommunityID: a.ID, Password: "pwDNx9",
			Slot: sim.Slot{Kind: "indoor", RoomID: a.RoomID}, Serial: "SIM-DN-MON", SIPAddr: sipAddr,
			Answer: ua.AnswerPolicy{Mode: ua.AnswerNever}}, logger)
		door := sim.New(sim.Config{Server: s.URL, MQTTAddr: s.App.MQTTAddr().String(), CommunityID: a.ID, Password: "pwDNx9",
			Slot: sim.Slot{Kind: "door", UnitID: a.UnitID, Index: 1}, Serial: "SIM-DN-DOOR", SIPAddr: sipAddr}, logger)
		for _, d := range []*sim.Device{monitor, door} {
			if err := d.Bind(ctx); err != nil {
				t.Fatal(err)
			}
			if err := d.StartSIP(ctx); err != nil {
				t.Fatal(err)
			}
			runSim(t, d)
		}
		for _, d := range []*sim.Device{monitor, door} {
			waitFor(t, "the simulators registered", func() bool {
				st := d.Status().SIP
				return st != nil && st.Registration.State == ua.RegRegistered
			})
		}

		// 免打扰 on (by hand): the monitor rings, the app does not.
		var dnd struct {
			On       bool
			Active   bool
			Schedule []any
		}
		wantStatus(t, appDo(s, h, "PUT", "/app/v1/dnd", map[string]any{"on": false, "schedule_enabled": true,
			"schedule": []any{map[string]any{"weekdays": []int{1}, "start": "25:00", "end": "07:00"}}}), 422, "开始时间")
		appDo(s, h, "PUT", "/app/v1/dnd", map[string]any{"on": true, "schedule_enabled": false, "schedule": []any{}}).JSON(t, &dnd)
		if !dnd.On || !dnd.Active {
			t.Fatalf("dnd: %+v", dnd)
		}
		ring := func(n int) {
			t.Helper()
			if _, err := door.PlaceCall(ctx, "0502"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the monitor rings", func() bool {
				c := monitor.Status().SIP.Calls
				return len(c) == n && c[n-1].State == ua.StateRinging
			})
			time.Sleep(300 * time.Millisecond) // the app's branch would ring by now
		}
		ring(1)
		if n := len(app.Calls()); n != 0 {
			t.Errorf("the app rang during 免打扰: %d calls", n)
		}
		if _, err := door.Hangup(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the first call's record ends", func() bool {
			var calls struct {
				MissedUnseen int `json:"missed_unseen"`
			}
			appDo(s, h, "GET", "/app/v1/calls", nil).JSON(t, &calls)
			return calls.MissedUnseen == 1
		})
		if strings.Contains(s.Logs(), "kind=call ") {
			t.Error("a call push went to a phone in 免打扰")
		}

		// 免打扰 off: both ring, and the phone gets the call push.
		appDo(s, h, "PUT", "/app/v1/dnd", map[string]any{"on": false, "schedule_enabled": false, "schedule": []any{}}).JSON(t, &dnd)
		if dnd.Active {
			t.Fatalf("dnd still active: %+v", dnd)
		}
		ring(2)
		waitFor(t, "the app rings", func() bool { return len(app.Calls()) == 1 })
		if _, err := door.Hangup(); err != nil {
			t.Fatal(err)
		}
		type appCalls struct {
			Items []struct {
				ID          int
				RoomLabel   string `json:"room_label"`
				DeviceName  string `json:"device_name"`
				Result      string
				HasSnapshot bool `json:"has_snapshot"`
				Seen        bool
			}
			MissedUnseen int `json:"missed_unseen"`
		}
		var calls appCalls
		waitFor(t, "both calls missed, with snapshots", func() bool {
			appDo(s, h, "GET", "/app/v1/calls", nil).JSON(t, &calls)
			return calls.MissedUnseen == 2 && len(calls.Items) == 2 && calls.Items[0].HasSnapshot && calls.Items[1].HasSnapshot
		})
		if c := calls.Items[0]; c.Result != "未接听" || c.Seen || !strings.HasSuffix(c.RoomLabel, "0502") || !strings.Contains(c.DeviceName, "门口机1") {
			t.Errorf("call: %+v", c)
		}
		for _, want := range []string{"kind=call ", "kind=missed_call "} {
			if !strings.Contains(s.Logs(), "app push (no push service configured)") || !strings.Contains(s.Logs(), want) {
				t.Errorf("no %q push logged", want)
			}
		}
		if r := appDo(s, h, "GET", fmt.Sprintf("/app/v1/calls/%d/snapshot", calls.Items[0].ID), nil); r.Status != 200 || r.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("snapshot: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		var page appCalls
		appDo(s, h, "GET", fmt.Sprintf("/app/v1/calls?before_id=%d&limit=1", calls.Items[0].ID), nil).JSON(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != calls.Items[1].ID {
			t.Errorf("second page: %+v", page)
		}
		wantStatus(t, appDo(s, h, "GET", "/app/v1/calls?limit=101", nil), 422, "")
		wantStatus(t, appDo(s, h, "POST", "/app/v1/calls/seen", nil), 204, "")
		appDo(s, h, "GET", "/app/v1/calls", nil).JSON(t, &calls)
		if calls.MissedUnseen != 0 || !calls.Items[0].Seen {
			t.Errorf("after seen: %+v", calls)
		}

		// Another community's resident sees none of it.
		b := s.NewCommunity(t, s.Operator(), "别处小区", "DO")
		b.Manager.Must(201, "POST", b.Path("/residents"), map[string]any{"room_id": b.RoomID, "name": "别人", "role": "业主", "phone": "13944440002"})
		hb := appSignIn(t, s, "13944440002")
		var none appCalls
		appDo(s, hb, "GET", "/app/v1/calls", nil).JSON(t, &none)
		if len(none.Items) != 0 || none.MissedUnseen != 0 {
			t.Errorf("another community's resident sees %+v", none)
		}
		wantStatus(t, appDo(s, hb, "GET", fmt.Sprintf("/app/v1/calls/%d/snapshot", calls.Items[0].ID), nil), 404, "")
		var other struct{ On, Active bool }
		appDo(s, hb, "GET", "/app/v1/dnd", nil).JSON(t, &other)
		if other.On || other.Active {
			t.Errorf("another phone's 免打扰: %+v", other)
		}

		// A new notice is pushed to the resident.
		m.Must(201, "POST", a.Path("/notices"), map[string]any{"title": "停电通知", "content": "今晚停电", "show_from": chinaToday(), "show_to": chinaToday()})
		if !strings.Contains(s.Logs(), "kind=notice") || !strings.Contains(s.Logs(), "停电通知") {
			t.Error("the notice was not pushed")
		}
	})
}
