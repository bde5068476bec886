package app_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"slices"
	"strings"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/apptest"
	"linli/internal/region"
)

type familyMembers struct {
	Items []struct {
		ResidentID  int     `json:"resident_id"`
		Name        string  `json:"name"`
		PhoneMasked string  `json:"phone_masked"`
		Role        string  `json:"role"`
		Origin      string  `json:"origin"`
		AccessUntil *string `json:"access_until"`
		IsMe        bool    `json:"is_me"`
	} `json:"items"`
	Invitations []familyInvitation `json:"invitations"`
}

type familyInvitation struct {
	ID          int     `json:"id"`
	PhoneMasked string  `json:"phone_masked"`
	Name        string  `json:"name"`
	Role        string  `json:"role"`
	AccessUntil *string `json:"access_until"`
	Status      string  `json:"status"`
	Reason      string  `json:"reason"`
}

func members(t *testing.T, s *apptest.Server, h map[string]string, roomID int) familyMembers {
	t.Helper()
	var v familyMembers
	r := appDo(s, h, "GET", fmt.Sprintf("/app/v1/rooms/%d/members", roomID), nil)
	if r.Status != 200 {
		t.Fatalf("members of room %d: %d %s", roomID, r.Status, r.Body)
	}
	r.JSON(t, &v)
	return v
}

// originOf returns the 来源 the console shows for resident id.
func originOf(t *testing.T, m *apptest.Client, a *apptest.Community, id int) (origin string, until string) {
	t.Helper()
	var v struct {
		Origin      string `json:"origin"`
		AccessUntil string `json:"access_until"`
	}
	m.Must(200, "GET", a.Path(fmt.Sprintf("/residents/%d", id)), nil).JSON(t, &v)
	return v.Origin, v.AccessUntil
}

func day(offset int) string {
	return time.Now().In(region.Time).AddDate(0, 0, offset).Format(time.DateOnly)
}

// TestFamilyInvitations: a room's 业主 invites family members and tenants,
// who become residents at once or after staff approve; the invitee signs in
// afterwards; bad input, duplicates, non-owners and strangers are refused;
// removal blanks the member's cards on devices.
func TestFamilyInvitations(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "家人小区", "FA")
		b := s.NewCommunity(t, op, "别人小区", "FB")
		m := a.Manager
		var owner, family, stranger struct{ ID int }
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "业主甲", "role": "业主", "phone": "13911120001"}).JSON(t, &owner)
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "家属乙", "role": "家属", "phone": "13911120002"}).JSON(t, &family)
		b.Manager.Must(201, "POST", b.Path("/residents"), map[string]any{"room_id": b.RoomID, "name": "外人", "role": "业主", "phone": "13911120009"}).JSON(t, &stranger)
		if o, _ := originOf(t, m, a, owner.ID); o != "物业添加" {
			t.Errorf("console-added resident's origin %q", o)
		}
		ho := appSignIn(t, s, "13911120001")
		wantStatus(t, appDo(s, ho, "PUT", "/app/v1/push-token", map[string]any{"platform": "log", "token": "tok-owner"}), 204, "")
		hf := appSignIn(t, s, "13911120002")
		hs := appSignIn(t, s, "13911120009")
		invitePath := fmt.Sprintf("/app/v1/rooms/%d/invitations", a.RoomID)

		l := members(t, s, ho, a.RoomID)
		if len(l.Items) != 2 || !l.Items[0].IsMe || l.Items[1].IsMe || l.Items[1].PhoneMasked != "139****0002" || l.Items[0].Origin != "物业添加" {
			t.Fatalf("members: %+v", l)
		}

		// At once: the tenant is a resident immediately, until the end of the day given.
		until := day(30)
		var inv familyInvitation
		r := appDo(s, ho, "POST", invitePath, map[string]any{"phone": "13911120003", "name": "租户丙", "role": "租户", "access_until": until})
		if r.Status != 201 {
			t.Fatalf("invite: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &inv)
		if inv.Status != "已加入" || inv.PhoneMasked != "139****0003" || inv.AccessUntil == nil || *inv.AccessUntil != until {
			t.Errorf("invitation %+v", inv)
		}
		l = members(t, s, ho, a.RoomID)
		if len(l.Items) != 3 || l.Items[2].Origin != "业主邀请" || l.Items[2].AccessUntil == nil || *l.Items[2].AccessUntil != until ||
			len(l.Invitations) != 1 || l.Invitations[0].ID != inv.ID {
			t.Fatalf("members after the invitation: %+v", l)
		}
		tenantID := l.Items[2].ResidentID
		if o, u := originOf(t, m, a, tenantID); o != "业主邀请" || u != until {
			t.Errorf("console shows the tenant as %q until %q", o, u)
		}
		ht := appSignIn(t, s, "13911120003") // the invitee signs in afterwards

		// Bad input, duplicates, non-owners, strangers.
		for _, tt := range []struct {
			h      map[string]string
			body   map[string]any
			status int
			want   string
		}{
			{ho, map[string]any{"phone": "13911120003", "name": "再来", "role": "家属"}, 409, "该手机号已是本房间的住户"},
			{ho, map[string]any{"phone": "13911120001", "name": "自己", "role": "家属"}, 409, "该手机号已是本房间的住户"},
			{ho, map[string]any{"phone": "13911120004", "name": "某人", "role": "业主"}, 422, "不能邀请"},
			{ho, map[string]any{"phone": "13911120004", "name": "某人", "role": "保姆"}, 422, "不能邀请"},
			{ho, map[string]any{"phone": "12345", "name": "某人", "role": "家属"}, 422, "手机号"},
			{ho, map[string]any{"phone": "13911120004", "name": "", "role": "家属"}, 422, "姓名"},
			{ho, map[string]any{"phone": "13911120004", "name": "某人", "role": "租户", "access_until": "2026/12/31"}, 422, "YYYY-MM-DD"},
			{ho, map[string]any{"phone": "13911120004", "name": "某人", "role": "租户", "access_until": day(-1)}, 422, "不能早于今天"},
			{hf, map[string]any{"phone": "13911120004", "name": "某人", "role": "家属"}, 403, "只有本房间的业主"},
			{ht, map[string]any{"phone": "13911120004", "name": "某人", "role": "家属"}, 403, "只有本房间的业主"},
			{hs, map[string]any{"phone": "13911120004", "name": "某人", "role": "家属"}, 404, "不是您的房间"},
		} {
			r := appDo(s, tt.h, "POST", invitePath, tt.body)
			if r.Status != tt.status || !strings.Contains(r.Detail(), tt.want) {
				t.Errorf("invite %v: %d %s, want %d %q", tt.body, r.Status, r.Body, tt.status, tt.want)
			}
		}
		if r := appDo(s, hs, "GET", fmt.Sprintf("/app/v1/rooms/%d/members", a.RoomID), nil); r.Status != 404 {
			t.Errorf("a stranger lists the room: %d %s", r.Status, r.Body)
		}
		if r := appDo(s, hs, "DELETE", fmt.Sprintf("/app/v1/rooms/%d/members/%d", a.RoomID, family.ID), nil); r.Status != 404 {
			t.Errorf("a stranger removes a member: %d %s", r.Status, r.Body)
		}
		if r := appDo(s, ho, "DELETE", fmt.Sprintf("/app/v1/rooms/%d/members/%d", a.RoomID, stranger.ID), nil); r.Status != 404 {
			t.Errorf("removing another community's resident: %d %s", r.Status, r.Body)
		}
		if r := appDo(s, hf, "DELETE", fmt.Sprintf("/app/v1/rooms/%d/members/%d", a.RoomID, tenantID), nil); r.Status != 403 {
			t.Errorf("a family member removes the tenant: %d %s", r.Status, r.Body)
		}
		if r := appDo(s, ho, "DELETE", fmt.Sprintf("/app/v1/rooms/%d/members/%d", a.RoomID, owner.ID), nil); r.Status != 403 {
			t.Errorf("the 业主 removes themselves: %d %s", r.Status, r.Body)
		}
		var owner2 struct{ ID int }
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "业主丁", "role": "业主", "phone": "13911120008"}).JSON(t, &owner2)
		if r := appDo(s, ho, "DELETE", fmt.Sprintf("/app/v1/rooms/%d/members/%d", a.RoomID, owner2.ID), nil); r.Status != 403 {
			t.Errorf("the 业主 removes another 业主: %d %s", r.Status, r.Body)
		}
		if l := members(t, s, hf, a.RoomID); len(l.Items) != 4 || len(l.Invitations) != 0 {
			t.Errorf("a family member sees %+v (members, no invitations)", l)
		}

		// Removal: the tenant's card leaves the door station.
		door := boundDevice(t, s, a, "pwFAx9", "SN-FAMILY-DOOR", 1)
		m.Must(201, "POST", a.Path("/cards"), map[string]any{"number": "FA000001", "resident_id": tenantID})
		_, full := syncAs(t, s.Client("door"), door.Token, 0)
		if !slices.Contains(cardsOf(full), "FA000001") {
			t.Fatalf("the tenant's card is not on the door: %+v", full)
		}
		appDo(s, ho, "DELETE", fmt.Sprintf("/app/v1/rooms/%d/members/%d", a.RoomID, tenantID), nil)
		if r := appDo(s, ho, "DELETE", fmt.Sprintf("/app/v1/rooms/%d/members/%d", a.RoomID, tenantID), nil); r.Status != 404 {
			t.Errorf("removing twice: %d %s", r.Status, r.Body)
		}
		_, d := syncAs(t, s.Client("door"), door.Token, full.Version)
		if !slices.Contains(d.Deletes, "card:FA000001") {
			t.Errorf("after removal the door keeps the card: %+v", d)
		}
		if r := appDo(s, ht, "GET", fmt.Sprintf("/app/v1/rooms/%d/members", a.RoomID), nil); r.Status != 401 && r.Status != 404 {
			t.Errorf("the removed tenant still lists the room: %d %s", r.Status, r.Body)
		}

		// After approval: the invitee waits, cannot sign in, then joins.
		m.Must(200, "PATCH", a.Path(""), map[string]any{"invite_needs_approval": true})
		r = appDo(s, ho, "POST", invitePath, map[string]any{"phone": "13911120004", "name": "家属戊", "role": "家属"})
		if r.Status != 201 {
			t.Fatalf("invite: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &inv)
		if inv.Status != "待物业审核" {
			t.Errorf("with approval the invitation is %q", inv.Status)
		}
		if r := appDo(s, ho, "POST", invitePath, map[string]any{"phone": "13911120004", "name": "家属戊", "role": "家属"}); r.Status != 409 {
			t.Errorf("inviting a waiting phone again: %d %s", r.Status, r.Body)
		}
		if r := s.Client("x").Do("POST", "/app/v1/sms-codes", map[string]any{"phone": "13911120004"}); r.Status != 403 {
			t.Errorf("a code for a waiting invitee: %d %s", r.Status, r.Body)
		}
		var pending struct {
			Items []struct {
				ID        int    `json:"id"`
				RoomLabel string `json:"room_label"`
				Phone     string `json:"phone"`
				Status    string `json:"status"`
				Inviter   string `json:"inviter_name"`
			}
			Total int
		}
		m.Must(200, "GET", a.Path("/invitations?status=pending"), nil).JSON(t, &pending)
		if pending.Total != 1 || pending.Items[0].ID != inv.ID || pending.Items[0].Phone != "13911120004" ||
			pending.Items[0].Inviter != "业主甲" || !strings.Contains(pending.Items[0].RoomLabel, "0502") {
			t.Fatalf("pending: %+v", pending)
		}
		if r := b.Manager.Do("POST", a.Path(fmt.Sprintf("/invitations/%d/approve", inv.ID)), nil); r.Status != 404 {
			t.Errorf("staff of B approve: %d", r.Status)
		}
		var decided struct {
			Status     string
			ResidentID int `json:"resident_id"`
			Reason     string
		}
		m.Must(200, "POST", a.Path(fmt.Sprintf("/invitations/%d/approve", inv.ID)), nil).JSON(t, &decided)
		if decided.Status != "已加入" || decided.ResidentID == 0 {
			t.Errorf("approved: %+v", decided)
		}
		if !strings.Contains(s.Logs(), "物业已通过您对 家属戊 的邀请") {
			t.Error("the approval was not pushed to the inviting 业主")
		}
		if r := m.Do("POST", a.Path(fmt.Sprintf("/invitations/%d/approve", inv.ID)), nil); r.Status != 409 {
			t.Errorf("approved twice: %d", r.Status)
		}
		if o, _ := originOf(t, m, a, decided.ResidentID); o != "业主邀请" {
			t.Errorf("approved invitee's origin %q", o)
		}
		appSignIn(t, s, "13911120004")

		// Rejected with a reason; withdrawn by the 业主.
		appDo(s, ho, "POST", invitePath, map[string]any{"phone": "13911120005", "name": "家属己", "role": "家属"}).JSON(t, &inv)
		if r := m.Do("POST", a.Path(fmt.Sprintf("/invitations/%d/reject", inv.ID)), map[string]any{"reason": ""}); r.Status != 422 {
			t.Errorf("reject without a reason: %d", r.Status)
		}
		m.Must(200, "POST", a.Path(fmt.Sprintf("/invitations/%d/reject", inv.ID)), map[string]any{"reason": "请业主到物业前台登记"}).JSON(t, &decided)
		if decided.Status != "已拒绝" || decided.Reason != "请业主到物业前台登记" {
			t.Errorf("rejected: %+v", decided)
		}
		appDo(s, ho, "POST", invitePath, map[string]any{"phone": "13911120006", "name": "家属庚", "role": "家属"}).JSON(t, &inv)
		withdraw := fmt.Sprintf("/app/v1/rooms/%d/invitations/%d", a.RoomID, inv.ID)
		if r := appDo(s, hf, "DELETE", withdraw, nil); r.Status != 403 {
			t.Errorf("a family member withdraws: %d", r.Status)
		}
		if r := appDo(s, ho, "DELETE", withdraw, nil); r.Status != 204 {
			t.Errorf("withdraw: %d %s", r.Status, r.Body)
		}
		if r := appDo(s, ho, "DELETE", withdraw, nil); r.Status != 409 {
			t.Errorf("withdraw twice: %d %s", r.Status, r.Body)
		}
		if r := appDo(s, ho, "DELETE", fmt.Sprintf("/app/v1/rooms/%d/invitations/999999", a.RoomID), nil); r.Status != 404 {
			t.Errorf("withdraw an unknown invitation: %d", r.Status)
		}
		if r := m.Do("POST", a.Path(fmt.Sprintf("/invitations/%d/approve", inv.ID)), nil); r.Status != 409 {
			t.Errorf("approve a withdrawn invitation: %d", r.Status)
		}
		l = members(t, s, ho, a.RoomID)
		var statuses []string
		for _, v := range l.Invitations {
			statuses = append(statuses, v.Status)
		}
		if strings.Join(statuses, ",") != "已撤回,已拒绝,已加入,已加入" || l.Invitations[1].Reason != "请业主到物业前台登记" {
			t.Errorf("invitations as the 业主 sees them: %v %+v", statuses, l.Invitations)
		}
	})
}

// TestResidentOrigin: each way a resident comes records its origin.
func TestResidentOrigin(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "来源小区", "OR")
		m := a.Manager
		if r := importFile(m, a, "residents.xlsx", fillTemplate(t, m, a, [][]string{{"0502", "表格业主", "13912359999"}})); r.Status != 200 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		ctx := actor.AsSystem(context.Background())
		rm := s.App.Store().Room.GetX(ctx, a.RoomID)
		app := s.App.Store().Application.Create().SetCommunityID(a.ID).SetRoomID(rm.ID).
			SetAreaID(a.AreaID).SetBuildingID(a.BuildingID).SetUnitID(rm.UnitID).
			SetName("申请人").SetPhone("13512340001").SetRole("家属").SetPhotos([]string{}).SaveX(ctx)
		var approved struct {
			ResidentID int `json:"resident_id"`
		}
		m.Must(200, "POST", a.Path(fmt.Sprintf("/applications/%d/approve", app.ID)), nil).JSON(t, &approved)
		var list struct {
			Items []struct {
				Name   string
				Origin string
			}
		}
		m.Must(200, "GET", a.Path("/residents?size=100"), nil).JSON(t, &list)
		got := map[string]string{}
		for _, r := range list.Items {
			got[r.Name] = r.Origin
		}
		if got["表格业主"] != "导入" || got["申请人"] != "申请" {
			t.Errorf("origins %v", got)
		}
	})
}

// TestFamilyAccessUntil: once a tenant's last day has passed, the expiry
// job takes their card and face off the doors (one version), and the app
// no longer treats them as a resident of the room.
func TestFamilyAccessUntil(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "到期小区", "AU")
		m := a.Manager
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "业主甲", "role": "业主", "phone": "13911130001"})
		ho := appSignIn(t, s, "13911130001")
		var inv familyInvitation
		appDo(s, ho, "POST", fmt.Sprintf("/app/v1/rooms/%d/invitations", a.RoomID),
			map[string]any{"phone": "13911130002", "name": "租户乙", "role": "租户", "access_until": day(0)}).JSON(t, &inv)
		l := members(t, s, ho, a.RoomID)
		tenantID := l.Items[1].ResidentID
		ht := appSignIn(t, s, "13911130002")
		var issued cardView
		m.Must(201, "POST", a.Path("/cards"), map[string]any{"number": "A0C00001", "resident_id": tenantID}).JSON(t, &issued)
		if got, _ := time.Parse(time.RFC3339, issued.ValidUntil); got.In(region.Time).Format("2006-01-02 15:04:05") != day(0)+" 23:59:59" {
			t.Errorf("the tenant's card ends at %q, want the end of their last day", issued.ValidUntil)
		}
		ct, data := faceForm(true)
		if r := m.DoType("PUT", a.Path(fmt.Sprintf("/residents/%d/face", tenantID)), ct, data); r.Status != 200 {
			t.Fatalf("face: %d %s", r.Status, r.Body)
		}
		door := boundDevice(t, s, a, "pwAUx9", "SN-AU-DOOR", 1)
		_, full := syncAs(t, s.Client("door"), door.Token, 0)
		if !slices.Contains(cardsOf(full), "A0C00001") || !hasKey(full, fmt.Sprintf("face:%d", tenantID)) {
			t.Fatalf("before the end the tenant opens the door: %+v", full)
		}
		if n, err := s.App.ExpireNow(context.Background()); err != nil || n != 0 {
			t.Fatalf("nothing has ended yet: %d %v", n, err)
		}
		// Both apps ring when the door calls the room.
		var tenantSIP struct{ Username string }
		appDo(s, ht, "GET", "/app/v1/sip", nil).JSON(t, &tenantSIP)
		caller, ok, err := s.App.Directory().Account(context.Background(), fmt.Sprintf("d%d", door.DeviceID))
		if !ok || err != nil {
			t.Fatalf("door account: %v %v", ok, err)
		}
		if rt, err := s.App.Directory().Route(context.Background(), caller, "0502"); err != nil || len(rt.Branches) != 2 {
			t.Fatalf("route before the end: %+v %v", rt, err)
		}

		// The last day passes.
		ctx := actor.AsSystem(context.Background())
		s.App.Store().Resident.UpdateOneID(tenantID).SetAccessUntil(time.Now().Add(-time.Second)).ExecX(ctx)
		if n, err := s.App.ExpireNow(context.Background()); err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		_, d := syncAs(t, s.Client("door"), door.Token, full.Version)
		if d.Version != full.Version+1 || !slices.Contains(d.Deletes, "card:A0C00001") || !slices.Contains(d.Deletes, fmt.Sprintf("face:%d", tenantID)) {
			t.Errorf("after the end: %+v (want one version, card and face deleted)", d)
		}
		if n, _ := s.App.ExpireNow(context.Background()); n != 0 {
			t.Errorf("the end was handled twice: %d", n)
		}
		if _, again := syncAs(t, s.Client("door"), door.Token, 0); slices.Contains(cardsOf(again), "A0C00001") || hasKey(again, fmt.Sprintf("face:%d", tenantID)) {
			t.Errorf("a full snapshot still has the tenant: %+v", again)
		}
		// The app: no longer a resident of the room, no SIP account.
		if r := appDo(s, ht, "GET", fmt.Sprintf("/app/v1/rooms/%d/members", a.RoomID), nil); r.Status != 404 {
			t.Errorf("the ended tenant lists the room: %d %s", r.Status, r.Body)
		}
		if r := appDo(s, ht, "GET", "/app/v1/sip", nil); r.Status != 403 {
			t.Errorf("the ended tenant's SIP account: %d %s", r.Status, r.Body)
		}
		if _, ok, _ := s.App.Directory().Account(context.Background(), tenantSIP.Username); ok {
			t.Error("the ended tenant's app still registers with SIP")
		}
		if rt, err := s.App.Directory().Route(context.Background(), caller, "0502"); err != nil || len(rt.Branches) != 1 {
			t.Errorf("route after the end: %+v %v (want only the 业主's app)", rt, err)
		}
		if l := members(t, s, ho, a.RoomID); len(l.Items) != 2 || l.Items[1].AccessUntil == nil {
			t.Errorf("the 业主 still sees the ended tenant with the date: %+v", l)
		}
	})
}

// multipartFile builds a form with fields and one file named field.
func multipartFile(field, filename string, data []byte, fields map[string]string) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile(field, filename)
	_, _ = fw.Write(data)
	_ = mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func hasKey(d delta, key string) bool {
	for _, u := range d.Upserts {
		if u.Key == key {
			return true
		}
	}
	return false
}

// TestFaceConsent: a resident uploads their own face after the consent
// text, it reaches the door; withdrawing the consent deletes the photo and
// takes the face off the door.
func TestFaceConsent(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "人脸小区", "FC")
		m := a.Manager
		var res struct{ ID int }
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "业主甲", "role": "业主", "phone": "13911140001"}).JSON(t, &res)
		h := appSignIn(t, s, "13911140001")
		type faceState struct {
			ConsentText    string  `json:"consent_text"`
			ConsentVersion string  `json:"consent_version"`
			ConsentedAt    *string `json:"consented_at"`
			HasPhoto       bool    `json:"has_photo"`
		}
		var f faceState
		appDo(s, h, "GET", "/app/v1/face", nil).JSON(t, &f)
		if !strings.Contains(f.ConsentText, "敏感个人信息") || f.ConsentVersion == "" || f.ConsentedAt != nil || f.HasPhoto {
			t.Fatalf("before: %+v", f)
		}
		form := func(version string, photo []byte) (map[string]string, []byte) {
			ct, body := multipartFile("photo", "me.jpg", photo, map[string]string{"consent_version": version})
			return map[string]string{"Authorization": h["Authorization"], "Content-Type": ct}, body
		}
		for _, tt := range []struct {
			version string
			photo   []byte
			want    string
		}{
			{"", jpegBytes(300, 400), "同意书"},
			{"2020-01-01", jpegBytes(300, 400), "同意书"},
			{f.ConsentVersion, jpegBytes(50, 50), "120"},
			{f.ConsentVersion, []byte("not a picture"), ""},
		} {
			hh, body := form(tt.version, tt.photo)
			if r := s.Client("app").DoHeaders("PUT", "/app/v1/face", hh, body); r.Status != 422 || !strings.Contains(string(r.Body), tt.want) {
				t.Errorf("upload %q: %d %s, want 422 %q", tt.version, r.Status, r.Body, tt.want)
			}
		}
		if r := appDo(s, h, "GET", "/app/v1/face/photo", nil); r.Status != 404 {
			t.Errorf("photo before upload: %d", r.Status)
		}
		door := boundDevice(t, s, a, "pwFCx9", "SN-FC-DOOR", 1)
		_, full := syncAs(t, s.Client("door"), door.Token, 0)
		hh, body := form(f.ConsentVersion, jpegBytes(300, 400))
		if r := s.Client("app").DoHeaders("PUT", "/app/v1/face", hh, body); r.Status != 204 {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		appDo(s, h, "GET", "/app/v1/face", nil).JSON(t, &f)
		if f.ConsentedAt == nil || !f.HasPhoto {
			t.Errorf("after upload: %+v", f)
		}
		if r := appDo(s, h, "GET", "/app/v1/face/photo", nil); r.Status != 200 || r.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("photo: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		faceKey := fmt.Sprintf("face:%d", res.ID)
		_, d := syncAs(t, s.Client("door"), door.Token, full.Version)
		if !hasKey(d, faceKey) {
			t.Errorf("the face did not reach the door: %+v", d)
		}
		var console struct {
			Face struct {
				HasPhoto       bool   `json:"has_photo"`
				Enabled        bool   `json:"enabled"`
				ConsentVersion string `json:"consent_version"`
			}
		}
		m.Must(200, "GET", a.Path(fmt.Sprintf("/residents/%d", res.ID)), nil).JSON(t, &console)
		if !console.Face.HasPhoto || !console.Face.Enabled || console.Face.ConsentVersion != f.ConsentVersion {
			t.Errorf("console: %+v", console)
		}

		if r := appDo(s, h, "DELETE", "/app/v1/face", nil); r.Status != 204 {
			t.Fatalf("withdraw: %d %s", r.Status, r.Body)
		}
		_, d2 := syncAs(t, s.Client("door"), door.Token, d.Version)
		if !slices.Contains(d2.Deletes, faceKey) {
			t.Errorf("the face stays on the door: %+v", d2)
		}
		appDo(s, h, "GET", "/app/v1/face", nil).JSON(t, &f)
		if f.ConsentedAt != nil || f.HasPhoto {
			t.Errorf("after withdrawal: %+v", f)
		}
		if r := appDo(s, h, "GET", "/app/v1/face/photo", nil); r.Status != 404 {
			t.Errorf("photo after withdrawal: %d", r.Status)
		}
		if r := m.Do("GET", a.Path(fmt.Sprintf("/residents/%d/face.jpg", res.ID)), nil); r.Status != 404 {
			t.Errorf("the console still has the photo: %d", r.Status)
		}
	})
}
