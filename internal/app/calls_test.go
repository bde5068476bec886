package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/sip"
)

// TestCallSettings: 呼叫振铃时间 is 10–120 seconds (30 by default) and the
// unlock keys are DTMF keys (# by default); managers change both in 小区配置
// and devices receive them with every sync.
func TestCallSettings(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "振铃小区", "RG")
		m := a.Manager
		var c struct {
			RingSeconds int    `json:"ring_seconds"`
			UnlockDTMF  string `json:"unlock_dtmf"`
		}
		m.Must(200, "GET", a.Path(""), nil).JSON(t, &c)
		if c.RingSeconds != 30 || c.UnlockDTMF != "#" {
			t.Errorf("defaults: %+v", c)
		}
		for _, bad := range []map[string]any{{"ring_seconds": 9}, {"ring_seconds": 121}, {"ring_seconds": 0}} {
			r := m.Do("PATCH", a.Path(""), bad)
			if r.Status != 422 || !strings.Contains(r.Detail()+string(r.Body), "呼叫振铃时间") {
				t.Errorf("%v: %d %s", bad, r.Status, r.Body)
			}
		}
		for _, bad := range []string{"x", "#####", "", "1 2"} {
			if r := m.Do("PATCH", a.Path(""), map[string]any{"unlock_dtmf": bad}); r.Status != 422 || !strings.Contains(r.Detail(), "开门按键") && !strings.Contains(r.Detail(), "不能超过 4 个字符") {
				t.Errorf("unlock keys %q: %d %s", bad, r.Status, r.Body)
			}
		}
		m.Must(200, "PATCH", a.Path(""), map[string]any{"ring_seconds": 45, "unlock_dtmf": "*9"}).JSON(t, &c)
		if c.RingSeconds != 45 || c.UnlockDTMF != "*9" {
			t.Errorf("after the change: %+v", c)
		}
		cr := boundDevice(t, s, a, "pwRGx9", "RG-1", 1)
		var sync struct {
			Call struct {
				UnlockDTMF  string `json:"unlock_dtmf"`
				RingSeconds int    `json:"ring_seconds"`
			}
		}
		s.Client("device").DoHeaders("GET", "/device/v1/sync?since=0", map[string]string{"Authorization": "Bearer " + cr.Token}, nil).JSON(t, &sync)
		if sync.Call.UnlockDTMF != "*9" || sync.Call.RingSeconds != 45 {
			t.Errorf("sync carries %+v", sync.Call)
		}
	})
}

// TestAppSIPAccount: a resident's sign-in answers its SIP account, GET
// /app/v1/sip repeats it, and it ends with the sign-out or APP呼叫.
func TestAppSIPAccount(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "账号小区", "SA")
		m := a.Manager
		var res struct{ ID int }
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "甲", "role": "业主", "phone": "13911120001"}).JSON(t, &res)
		h := appSignIn(t, s, "13911120001")
		app := s.Client("app")
		var acc struct {
			Username, Password string
			Communities        []struct{ ID int }
		}
		app.DoHeaders("GET", "/app/v1/sip", h, nil).JSON(t, &acc)
		if !strings.HasPrefix(acc.Username, "a") || acc.Password == "" || len(acc.Communities) != 1 || acc.Communities[0].ID != a.ID {
			t.Fatalf("SIP account %+v", acc)
		}
		if got, ok, err := s.App.Directory().Account(context.Background(), acc.Username); !ok || err != nil || got.Password != acc.Password {
			t.Fatalf("the directory does not know %s: %v %v", acc.Username, ok, err)
		}
		// A session from before app SIP accounts has no password yet: the
		// directory knows no account for it, and the first ask makes one.
		oldID, oldToken := openAppSession(t, s, "13911120001", "旧版本")
		if _, ok, err := s.App.Directory().Account(context.Background(), fmt.Sprintf("a%d", oldID)); ok || err != nil {
			t.Errorf("a session without a SIP password has an account: %v %v", ok, err)
		}
		if r := app.DoHeaders("GET", "/app/v1/sip", map[string]string{"Authorization": "Bearer " + oldToken}, nil); r.Status != 200 {
			t.Errorf("a session without a SIP password: %d %s", r.Status, r.Body)
		}
		if _, ok, err := s.App.Directory().Account(context.Background(), fmt.Sprintf("a%d", oldID)); !ok || err != nil {
			t.Errorf("the SIP password made on asking is unknown to the directory: %v %v", ok, err)
		}
		m.Must(200, "PATCH", a.Path(fmt.Sprintf("/residents/%d/permissions", res.ID)), map[string]any{"app_call": false})
		if r := app.DoHeaders("GET", "/app/v1/sip", h, nil); r.Status != 403 || !strings.Contains(r.Detail(), "APP呼叫") {
			t.Errorf("without APP呼叫: %d %s", r.Status, r.Body)
		}
		if _, ok, _ := s.App.Directory().Account(context.Background(), acc.Username); ok {
			t.Error("the SIP account works without APP呼叫")
		}
		m.Must(200, "PATCH", a.Path(fmt.Sprintf("/residents/%d/permissions", res.ID)), map[string]any{"app_call": true})
		app.DoHeaders("DELETE", "/app/v1/session", h, nil)
		if r := app.DoHeaders("GET", "/app/v1/sip", h, nil); r.Status != 401 {
			t.Errorf("after signing out: %d", r.Status)
		}
		if _, ok, _ := s.App.Directory().Account(context.Background(), acc.Username); ok {
			t.Error("the SIP account works after signing out")
		}
	})
}

// TestCallRecordColumns: a call the server routed shows in 呼叫记录 with its
// answerer, talk time, result and the snapshot the door station uploaded
// with the call's id; the result filter and the export follow.
func TestCallRecordColumns(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "呼叫小区", "CR")
		m := a.Manager
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "张三", "role": "业主", "phone": "13911130001"})
		cr := boundDevice(t, s, a, "pwCRx9", "CR-1", 1)
		ctx := context.Background()
		caller, ok, err := s.App.Directory().Account(ctx, fmt.Sprintf("d%d", cr.DeviceID))
		if !ok || err != nil {
			t.Fatalf("door station account: %v %v", ok, err)
		}
		appSignIn(t, s, "13911130001")
		rt, err := s.App.Directory().Route(ctx, caller, "0502")
		if err != nil || len(rt.Branches) != 1 {
			// No indoor monitor is bound: the resident's app is the only branch.
			t.Fatalf("route: %+v, %v", rt, err)
		}
		t0 := time.Now().Add(-time.Minute)
		c := sip.Call{CallID: "abc@door", Caller: caller, Route: rt, StartedAt: t0}
		s.App.CallLog().CallStarted(ctx, c)
		r := postEvent(s, cr.Token, map[string]string{"event_id": "E1", "type": "call", "time": t0.Format(time.RFC3339), "target": "0502", "call_id": "abc@door"}, snapshotJPEG(64, 48))
		if r.Status != 201 {
			t.Fatalf("snapshot with the call id: %d %s", r.Status, r.Body)
		}
		c.AnsweredAt, c.Answerer = t0.Add(3*time.Second), rt.Branches[0].Who
		s.App.CallLog().CallAnswered(ctx, c)
		if r := postEvent(s, cr.Token, map[string]string{"event_id": "E2", "type": "unlock", "unlock_type": "call", "time": t0.Add(10 * time.Second).Format(time.RFC3339), "call_id": "abc@door"}, nil); r.Status != 201 {
			t.Fatalf("unlock during the call: %d %s", r.Status, r.Body)
		}
		c.EndedAt, c.Result, c.Code = t0.Add(83*time.Second), sip.ResultAnswered, 200
		s.App.CallLog().CallEnded(ctx, c)

		var list struct {
			Items []struct {
				Answerer    string
				TalkSeconds int    `json:"talk_seconds"`
				ResultName  string `json:"result_name"`
				HasSnapshot bool   `json:"has_snapshot"`
				Callee      string
			}
			Total int
		}
		m.Must(200, "GET", a.Path("/records/calls?result=answered"), nil).JSON(t, &list)
		if list.Total != 1 || list.Items[0].Answerer != "张三" || list.Items[0].TalkSeconds != 80 || list.Items[0].ResultName != "已接听" ||
			!list.Items[0].HasSnapshot || !strings.HasSuffix(list.Items[0].Callee, "-0502") {
			t.Errorf("呼叫记录: %+v", list)
		}
		if m.Must(200, "GET", a.Path("/records/calls?result=missed"), nil).JSON(t, &list); list.Total != 0 {
			t.Errorf("missed: %+v", list)
		}
		var unlocks recordList
		m.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &unlocks)
		if len(unlocks.Items) != 1 || unlocks.Items[0].ResidentName != "张三" || unlocks.Items[0].UnlockTypeName != "通话中开锁" {
			t.Errorf("开锁记录: %+v", unlocks)
		}
		sheet := unzipSheet(t, m.Must(200, "GET", a.Path("/records/calls/export.xlsx"), nil).Body)
		for _, want := range []string{"接听方", "通话时长", "结果", "张三", "1分20秒", "已接听"} {
			if !strings.Contains(sheet, want) {
				t.Errorf("export lacks %q", want)
			}
		}
	})
}
