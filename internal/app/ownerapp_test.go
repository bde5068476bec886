package app_test

import (
	"fmt"
	"regexp"
	"testing"

	"linli/internal/apptest"
	"linli/internal/ownerapp"
)

// appSignIn signs phone in to the residents' app with the code the server
// logged (no SMS gateway in tests) and returns the bearer header; the code
// must not work twice.
func appSignIn(t *testing.T, s *apptest.Server, phone string) map[string]string {
	t.Helper()
	h, code := appCodeSignIn(t, s, phone, "")
	if r := s.Client("app "+phone).Do("POST", "/app/v1/session", map[string]any{"phone": phone, "code": code}); r.Status != 401 {
		t.Errorf("a code worked twice: %d", r.Status)
	}
	return h
}

// appSignInAs signs phone in as device deviceName and returns the bearer
// header.
func appSignInAs(tb testing.TB, s *apptest.Server, phone, deviceName string) map[string]string {
	tb.Helper()
	h, _ := appCodeSignIn(tb, s, phone, deviceName)
	return h
}

// appCodeSignIn asks for a code for phone, signs in with the code the
// server logged (as deviceName when set) and returns the bearer header and
// the code.
func appCodeSignIn(tb testing.TB, s *apptest.Server, phone, deviceName string) (map[string]string, string) {
	tb.Helper()
	c := s.Client("app " + phone)
	c.Must(204, "POST", "/app/v1/sms-codes", map[string]any{"phone": phone})
	masked := phone[:3] + "****" + phone[7:]
	m := regexp.MustCompile(`phone=`+regexp.QuoteMeta(masked)+` code=(\d{6})`).FindAllStringSubmatch(s.Logs(), -1)
	if len(m) == 0 {
		tb.Fatalf("no code logged for %s", masked)
	}
	code := m[len(m)-1][1]
	body := map[string]any{"phone": phone, "code": code}
	if deviceName != "" {
		body["device_name"] = deviceName
	}
	var sess struct{ Token string }
	c.Must(200, "POST", "/app/v1/session", body).JSON(tb, &sess)
	return map[string]string{"Authorization": "Bearer " + sess.Token}, code
}

type appNotices struct {
	Items []struct {
		ID      int
		Title   string
		Scope   string
		Read    bool
		Showing bool
	}
}

// TestOwnerAppNotices: residents sign in with an SMS code and see their
// community's notices and their own rooms' notices (never another room's),
// mark them read, and lose them when the manager deletes them.
func TestOwnerAppNotices(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "通知小区", "NT")
		m := a.Manager
		var room2 struct{ ID int }
		m.Must(201, "POST", a.Path("/rooms"), map[string]any{"unit_id": a.UnitID, "floor": 6, "number": 1}).JSON(t, &room2)
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "甲", "role": "业主", "phone": "13911110001"})
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": room2.ID, "name": "乙", "role": "业主", "phone": "13911110002"})

		anon := s.Client("stranger")
		if r := anon.Do("POST", "/app/v1/sms-codes", map[string]any{"phone": "13900009999"}); r.Status != 403 {
			t.Errorf("a code for an unregistered phone: %d %s", r.Status, r.Body)
		}
		if r := anon.Do("POST", "/app/v1/sms-codes", map[string]any{"phone": "12345"}); r.Status != 422 {
			t.Errorf("a code for a bad number: %d", r.Status)
		}
		if r := anon.Do("POST", "/app/v1/session", map[string]any{"phone": "13911110001", "code": "000000"}); r.Status != 401 {
			t.Errorf("sign-in without a code: %d", r.Status)
		}
		p1 := appSignIn(t, s, "13911110001")
		p2 := appSignIn(t, s, "13911110002")
		if r := anon.Do("POST", "/app/v1/sms-codes", map[string]any{"phone": "13911110001"}); r.Status != 429 {
			t.Errorf("a second code within a minute: %d", r.Status)
		}

		var cn, rn struct{ ID int }
		m.Must(201, "POST", a.Path("/notices"), map[string]any{"title": "停水通知", "content": "明天 9 点到 12 点停水", "show_from": chinaToday(), "show_to": chinaToday()}).JSON(t, &cn)
		m.Must(201, "POST", a.Path("/room-notices"), map[string]any{"title": "缴费提醒", "content": "请缴物业费", "room_ids": []int{room2.ID}}).JSON(t, &rn)

		list := func(h map[string]string) appNotices {
			var v appNotices
			s.Client("app").DoHeaders("GET", "/app/v1/notices", h, nil).JSON(t, &v)
			return v
		}
		if l := list(p1); len(l.Items) != 1 || l.Items[0].ID != cn.ID || l.Items[0].Read || !l.Items[0].Showing {
			t.Errorf("resident of room 1 sees %+v, want only the community notice, unread, showing", l)
		}
		if l := list(p2); len(l.Items) != 2 {
			t.Errorf("resident of room 2 sees %+v, want both", l)
		}
		if r := s.Client("app").DoHeaders("POST", fmt.Sprintf("/app/v1/notices/%d/read", rn.ID), p1, nil); r.Status != 404 {
			t.Errorf("room 1 read room 2's notice: %d", r.Status)
		}
		s.Client("app").DoHeaders("POST", fmt.Sprintf("/app/v1/notices/%d/read", cn.ID), p1, nil)
		if l := list(p1); !l.Items[0].Read {
			t.Error("the notice is not marked read")
		}
		if l := list(p2); l.Items[0].Read || l.Items[1].Read {
			t.Error("one resident's read state showed for another")
		}
		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/notices/%d", cn.ID)), nil)
		if l := list(p1); len(l.Items) != 0 {
			t.Errorf("a deleted notice is still in the app: %+v", l)
		}
		// Signing out ends the token.
		s.Client("app").DoHeaders("DELETE", "/app/v1/session", p1, nil)
		if r := s.Client("app").DoHeaders("GET", "/app/v1/notices", p1, nil); r.Status != 401 {
			t.Errorf("after signing out: %d", r.Status)
		}
	})
}

// TestAppCodeProbesCounted: asking codes for numbers that are not
// residents' runs into the address's hourly limit like real requests, so
// nobody can try numbers one after another to learn who lives here.
func TestAppCodeProbesCounted(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		a := s.NewCommunity(t, s.Operator(), "探测小区", "PR")
		a.Manager.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "甲", "role": "业主", "phone": "13911110001"})
		tries := s.Client("prober")
		for i := range ownerapp.CodesPerHourIP {
			if r := tries.Do("POST", "/app/v1/sms-codes", map[string]any{"phone": fmt.Sprintf("1390000%04d", i)}); r.Status != 403 {
				t.Fatalf("probe %d: %d %s", i, r.Status, r.Body)
			}
		}
		for _, p := range []string{"13900001999", "13911110001"} {
			if r := tries.Do("POST", "/app/v1/sms-codes", map[string]any{"phone": p}); r.Status != 429 {
				t.Errorf("%s past the hourly limit: %d %s", p, r.Status, r.Body)
			}
		}
	})
}
