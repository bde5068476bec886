package app_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"linli/internal/apptest"
)

// appPass is a pass as the app gets it.
type appPass struct {
	ID          int
	RoomID      int    `json:"room_id"`
	RoomLabel   string `json:"room_label"`
	VisitorName string `json:"visitor_name"`
	Kind        string
	ValidFrom   time.Time `json:"valid_from"`
	ValidTo     time.Time `json:"valid_to"`
	MaxUses     int       `json:"max_uses"`
	Uses        int
	PIN         string
	QR          string
	ShareToken  string `json:"share_token"`
	ShareURL    string `json:"share_url"`
	Status      string
}

// createPass makes a pass as the resident of h and fails the test unless
// the answer is want; it returns the pass (zero unless 201).
func createPass(tb testing.TB, s *apptest.Server, h map[string]string, want int, body map[string]any) appPass {
	tb.Helper()
	r := s.Client("app").DoHeaders("POST", "/app/v1/passes", h, body)
	if r.Status != want {
		tb.Fatalf("create pass %v: %d %s, want %d", body, r.Status, r.Body, want)
	}
	var p appPass
	if want == 201 {
		r.JSON(tb, &p)
	} else if !hasHan(r.Detail()) {
		tb.Errorf("refusal without a Chinese reason: %s", r.Body)
	}
	return p
}

// TestVisitorPasses: residents make passes for their own rooms only,
// bad windows and uses are refused with a reason, the share link shows
// the pass without signing in, devices' use reports count once each, a
// used-up or revoked pass leaves the door stations, and staff see and
// revoke passes of their community only.
func TestVisitorPasses(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "通行小区", "PS")
		b := s.NewCommunity(t, op, "别的小区", "PB")
		m := a.Manager
		var room2 struct{ ID int }
		m.Must(201, "POST", a.Path("/rooms"), map[string]any{"unit_id": a.UnitID, "floor": 6, "number": 1}).JSON(t, &room2)
		var jia struct{ ID int }
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "甲", "role": "业主", "phone": "13911150001"}).JSON(t, &jia)
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": room2.ID, "name": "乙", "role": "业主", "phone": "13911150002"})
		b.Manager.Must(201, "POST", b.Path("/residents"), map[string]any{"room_id": b.RoomID, "name": "丙", "role": "业主", "phone": "13911150003"})
		p1, p2, p3 := appSignInAs(t, s, "13911150001", ""), appSignInAs(t, s, "13911150002", ""), appSignInAs(t, s, "13911150003", "")
		app := s.Client("app")
		if r := app.DoHeaders("PUT", "/app/v1/push-token", p1, map[string]any{"platform": "log", "token": "tok-甲"}); r.Status != 204 {
			t.Fatalf("push token: %d %s", r.Status, r.Body)
		}
		now := time.Now()
		at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
		visitor := func(extra map[string]any) map[string]any {
			body := map[string]any{"room_id": a.RoomID, "visitor_name": "王访客", "kind": "visitor", "valid_from": at(-time.Minute), "valid_to": at(2 * time.Hour), "max_uses": 2}
			for k, v := range extra {
				body[k] = v
			}
			return body
		}

		// Bad input is refused with a reason, and nothing is stored.
		for _, bad := range []map[string]any{
			{"valid_from": at(-3 * time.Hour), "valid_to": at(-time.Hour)}, // in the past
			{"valid_to": at(8 * 24 * time.Hour)},                           // over 7 days
			{"valid_from": at(2 * time.Hour), "valid_to": at(time.Hour)},   // ends before it starts
			{"max_uses": -1},
			{"max_uses": nil},
			{"visitor_name": " "},
			{"visitor_name": strings.Repeat("名", 33)},
			{"note": strings.Repeat("备", 101)},
			{"kind": "friend"},
		} {
			body := visitor(bad)
			for k, v := range bad {
				if v == nil {
					delete(body, k)
				}
			}
			createPass(t, s, p1, 422, body)
		}
		createPass(t, s, p2, 404, visitor(nil))                              // not 乙's room
		createPass(t, s, p3, 404, visitor(nil))                              // another community's resident
		createPass(t, s, p1, 404, visitor(map[string]any{"door_id": 99999})) // no such door
		if r := app.Do("POST", "/app/v1/passes", visitor(nil)); r.Status != 401 {
			t.Errorf("create without signing in: %d", r.Status)
		}

		pass := createPass(t, s, p1, 201, visitor(map[string]any{"note": "周末来访"}))
		if !regexp.MustCompile(`^\d{6}$`).MatchString(pass.PIN) || !strings.HasPrefix(pass.QR, "LINLI-PASS:") || len(pass.QR) < 30 ||
			pass.ShareURL != "/h5/pass/"+pass.ShareToken || pass.Status != "有效" || pass.MaxUses != 2 || pass.RoomLabel == "" {
			t.Errorf("created pass: %+v", pass)
		}
		unlimited := createPass(t, s, p1, 201, visitor(map[string]any{"max_uses": 0, "visitor_name": "保洁李阿姨"}))
		if unlimited.MaxUses != 0 || unlimited.Status != "有效" {
			t.Errorf("an unlimited pass: %+v", unlimited)
		}
		later := createPass(t, s, p1, 201, visitor(map[string]any{"valid_from": at(time.Hour), "visitor_name": "晚到的客人"}))
		if later.Status != "未开始" {
			t.Errorf("a pass that starts in an hour: %+v", later)
		}
		delivery := createPass(t, s, p1, 201, map[string]any{"room_id": a.RoomID, "visitor_name": "顺丰快递", "kind": "delivery"})
		if delivery.MaxUses != 1 || d(delivery.ValidTo.Sub(delivery.ValidFrom)) != 24*time.Hour || delivery.Kind != "delivery" {
			t.Errorf("a delivery code: %+v", delivery)
		}
		if pins := map[string]bool{pass.PIN: true, unlimited.PIN: true, later.PIN: true, delivery.PIN: true}; len(pins) != 4 {
			t.Errorf("PINs of open passes repeat: %v", pins)
		}

		// The resident's list and the other residents' 404s.
		var mine struct{ Items []appPass }
		app.DoHeaders("GET", "/app/v1/passes", p1, nil).JSON(t, &mine)
		if len(mine.Items) != 4 || mine.Items[0].ID != delivery.ID {
			t.Errorf("甲's passes: %+v", mine.Items)
		}
		app.DoHeaders("GET", "/app/v1/passes?status=未开始", p1, nil).JSON(t, &mine)
		if len(mine.Items) != 1 || mine.Items[0].ID != later.ID {
			t.Errorf("甲's passes not started: %+v", mine.Items)
		}
		app.DoHeaders("GET", "/app/v1/passes", p2, nil).JSON(t, &mine)
		if len(mine.Items) != 0 {
			t.Errorf("乙 sees 甲's passes: %+v", mine.Items)
		}
		for _, h := range []map[string]string{p2, p3} {
			for _, method := range []string{"GET", "DELETE"} {
				if r := app.DoHeaders(method, fmt.Sprintf("/app/v1/passes/%d", pass.ID), h, nil); r.Status != 404 {
					t.Errorf("%s another resident's pass: %d %s", method, r.Status, r.Body)
				}
			}
		}
		if r := app.DoHeaders("GET", fmt.Sprintf("/app/v1/passes?room_id=%d", a.RoomID), p2, nil); r.Status != 404 {
			t.Errorf("乙 lists 甲's room: %d", r.Status)
		}

		// The share link needs no sign-in.
		anon := s.Client("visitor")
		var shared struct {
			VisitorName   string `json:"visitor_name"`
			CommunityName string `json:"community_name"`
			PIN, QR       string
			Status        string
		}
		anon.Must(200, "GET", "/app/v1/pass-shares/"+pass.ShareToken, nil).JSON(t, &shared)
		if shared.PIN != pass.PIN || shared.QR != pass.QR || shared.CommunityName != "通行小区" || shared.VisitorName != "王访客" {
			t.Errorf("shared pass: %+v", shared)
		}
		if r := anon.Must(200, "GET", "/app/v1/pass-shares/"+pass.ShareToken+"/qr.png", nil); !strings.HasPrefix(string(r.Body), "\x89PNG") {
			t.Errorf("QR code is not a PNG: %q", r.Body[:8])
		}
		for _, p := range []string{"/app/v1/pass-shares/nosuchtoken00000000", "/app/v1/pass-shares/nosuchtoken00000000/qr.png"} {
			if r := anon.Do("GET", p, nil); r.Status != 404 {
				t.Errorf("GET %s: %d", p, r.Status)
			}
		}

		// A door station of the unit holds the pass; its use reports count once.
		door := boundDevice(t, s, a, "pwPSx9", "SN-PASS-1", 1)
		dev := s.Client("door")
		auth := map[string]string{"Authorization": "Bearer " + door.Token}
		var delta struct {
			Version int64
			Upserts []struct {
				Key, Kind, PIN, QR string
				PassID             int `json:"pass_id"`
				MaxUses            int `json:"max_uses"`
			}
			Deletes []string
		}
		dev.DoHeaders("GET", "/device/v1/sync?since=0", auth, nil).JSON(t, &delta)
		found := 0
		for _, e := range delta.Upserts {
			if e.Kind == "pass" {
				found++
				if e.PassID == pass.ID && (e.PIN != pass.PIN || e.QR != pass.QR || e.MaxUses != 2) {
					t.Errorf("pass entry: %+v", e)
				}
			}
		}
		if found != 4 {
			t.Errorf("the door station holds %d passes, want 4: %+v", found, delta.Upserts)
		}
		usedAt := time.Now().Format(time.RFC3339) // one time, so that a retry is the same report
		use := func(eventID, how string, id int) apptest.Response {
			return postEvent(s, door.Token, map[string]string{"event_id": eventID, "type": "unlock", "unlock_type": how,
				"pass_id": fmt.Sprint(id), "time": usedAt}, nil)
		}
		if r := postEvent(s, door.Token, map[string]string{"event_id": "bad", "type": "unlock", "unlock_type": "card", "card": "0A0B0C0D",
			"pass_id": fmt.Sprint(pass.ID), "time": time.Now().Format(time.RFC3339)}, nil); r.Status != 422 {
			t.Errorf("a card unlock with a pass: %d %s", r.Status, r.Body)
		}
		if r := use("u1", "qrcode", pass.ID); r.Status != 201 {
			t.Fatalf("first use: %d %s", r.Status, r.Body)
		}
		if r := use("u1", "qrcode", pass.ID); r.Status != 200 {
			t.Fatalf("the same use again: %d %s", r.Status, r.Body)
		}
		var got appPass
		app.DoHeaders("GET", fmt.Sprintf("/app/v1/passes/%d", pass.ID), p1, nil).JSON(t, &got)
		if got.Uses != 1 || got.Status != "有效" {
			t.Errorf("after one use reported twice: %+v", got)
		}
		since := delta.Version
		use("u2", "password", pass.ID)
		app.DoHeaders("GET", fmt.Sprintf("/app/v1/passes/%d", pass.ID), p1, nil).JSON(t, &got)
		if got.Uses != 2 || got.Status != "已用完" {
			t.Errorf("after two uses: %+v", got)
		}
		// Each counted use is pushed to the resident who made the pass; the
		// repeated report is not.
		if logs := s.Logs(); strings.Count(logs, "访客 王访客 已用通行证开门（已用 1/2 次）") != 1 || !strings.Contains(logs, "访客 王访客 已用通行证开门（已用 2/2 次）") {
			t.Errorf("pass uses pushed: %q", regexp.MustCompile(`.*kind=pass_used.*`).FindAllString(logs, -1))
		}
		dev.DoHeaders("GET", fmt.Sprintf("/device/v1/sync?since=%d", since), auth, nil).JSON(t, &delta)
		if len(delta.Deletes) != 1 || delta.Deletes[0] != fmt.Sprintf("pass:%d", pass.ID) {
			t.Errorf("the used-up pass does not leave the door station: %+v", delta)
		}
		var unlocks recordList
		m.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &unlocks)
		if unlocks.Total != 2 || unlocks.Items[0].ResidentName != "访客 王访客" || unlocks.Items[0].UnlockTypeName != "密码" {
			t.Errorf("开锁记录 of pass uses: %+v", unlocks)
		}
		anon.Must(200, "GET", "/app/v1/pass-shares/"+pass.ShareToken, nil).JSON(t, &shared)
		if shared.Status != "已用完" || shared.PIN != "" || shared.QR != "" {
			t.Errorf("a used-up pass's share page: %+v", shared)
		}
		if r := anon.Do("GET", "/app/v1/pass-shares/"+pass.ShareToken+"/qr.png", nil); r.Status != 404 {
			t.Errorf("QR code of a used-up pass: %d", r.Status)
		}

		// Staff: 访客通行 of their own community, with filters, and revoking.
		var page struct {
			Items []struct {
				ID          int
				VisitorName string `json:"visitor_name"`
				Status      string
				CreatorName string `json:"creator_name"`
				RevokedBy   string `json:"revoked_by"`
				PIN         string
			}
			Total int
		}
		m.Must(200, "GET", a.Path("/passes"), nil).JSON(t, &page)
		if page.Total != 4 || page.Items[0].CreatorName != "甲" || page.Items[0].PIN != "" {
			t.Errorf("访客通行: %+v", page)
		}
		m.Must(200, "GET", a.Path("/passes?status=有效&visitor=阿姨"), nil).JSON(t, &page)
		if page.Total != 1 || page.Items[0].ID != unlimited.ID {
			t.Errorf("访客通行 有效, 阿姨: %+v", page)
		}
		m.Must(200, "GET", a.Path(fmt.Sprintf("/passes?room_id=%d", room2.ID)), nil).JSON(t, &page)
		if page.Total != 0 {
			t.Errorf("访客通行 of room 2: %+v", page)
		}
		if r := m.Do("GET", a.Path("/passes?status=坏的"), nil); r.Status != 422 {
			t.Errorf("a bad status filter: %d", r.Status)
		}
		if r := b.Manager.Do("POST", a.Path(fmt.Sprintf("/passes/%d/revoke", unlimited.ID)), nil); r.Status != 404 {
			t.Errorf("staff of B revoke A's pass: %d", r.Status)
		}
		if r := b.Manager.Do("POST", b.Path(fmt.Sprintf("/passes/%d/revoke", unlimited.ID)), nil); r.Status != 404 {
			t.Errorf("staff of B revoke A's pass through B: %d", r.Status)
		}
		since = delta.Version
		m.Must(200, "POST", a.Path(fmt.Sprintf("/passes/%d/revoke", unlimited.ID)), nil)
		m.Must(200, "GET", a.Path("/passes?status=已撤销"), nil).JSON(t, &page)
		if page.Total != 1 || page.Items[0].RevokedBy != "经理PS" {
			t.Errorf("revoked by staff: %+v", page)
		}
		for range 2 { // revoking twice is fine
			if r := app.DoHeaders("DELETE", fmt.Sprintf("/app/v1/passes/%d", later.ID), p1, nil); r.Status != 204 {
				t.Errorf("甲 revokes a pass: %d %s", r.Status, r.Body)
			}
		}
		dev.DoHeaders("GET", fmt.Sprintf("/device/v1/sync?since=%d", since), auth, nil).JSON(t, &delta)
		if want := []string{fmt.Sprintf("pass:%d", unlimited.ID), fmt.Sprintf("pass:%d", later.ID)}; len(delta.Deletes) != 2 ||
			!slices.Contains(delta.Deletes, want[0]) || !slices.Contains(delta.Deletes, want[1]) || len(delta.Upserts) != 0 {
			t.Errorf("revoked passes do not leave the door station: %+v, want deletes %v", delta, want)
		}
		app.DoHeaders("GET", "/app/v1/passes?status=已撤销", p1, nil).JSON(t, &mine)
		if len(mine.Items) != 2 {
			t.Errorf("甲's revoked passes: %+v", mine.Items)
		}

		// When 甲 leaves, the passes 甲 made stop opening.
		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/residents/%d", jia.ID)), nil)
		anon.Must(200, "GET", "/app/v1/pass-shares/"+delivery.ShareToken, nil).JSON(t, &shared)
		if shared.Status != "已撤销" || shared.PIN != "" {
			t.Errorf("a pass of a deleted resident: %+v", shared)
		}
	})
}

func d(x time.Duration) time.Duration { return x.Round(time.Minute) }
