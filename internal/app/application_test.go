package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"linli/internal/apptest"
)

type applicationView struct {
	ID         int    `json:"id"`
	RoomLabel  string `json:"room_label"`
	Name       string `json:"name"`
	Phone      string `json:"phone"`
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	PhotoCount int    `json:"photo_count"`
	ResidentID *int   `json:"resident_id"`
}

// applyToken returns the token of A's public application link.
func applyToken(t *testing.T, c *apptest.Client, a *apptest.Community) string {
	t.Helper()
	var link struct{ URL string }
	c.Must(200, "GET", a.Path("/application-link"), nil).JSON(t, &link)
	i := strings.Index(link.URL, "/h5/apply/")
	if i < 0 {
		t.Fatalf("link %q", link.URL)
	}
	return link.URL[i+len("/h5/apply/"):]
}

func applicationForm(roomID int, name, phone string, photos int) (string, []byte) {
	fields := map[string]string{"room_id": fmt.Sprint(roomID), "name": name, "phone": phone, "gender": "female",
		"contact_phone": "13168035105", "id_number": testIDNumber, "role": "家属"}
	if photos == 0 {
		return multipartFields(fields, nil)
	}
	files := make([][]byte, photos)
	for i := range files {
		files[i] = jpegBytes(200, 150)
	}
	return multipartFields(fields, files)
}

func TestApplications(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "申请小区", "AP")
		m := a.Manager
		token := applyToken(t, m, a)
		if again := applyToken(t, m, a); again != token {
			t.Fatal("the application link changes between calls")
		}
		anon := s.Client("phone browser")

		// The H5 page and its data need no login.
		page := anon.Must(200, "GET", "/h5/apply/"+token, nil)
		if !strings.Contains(string(page.Body), "业主申请") || !strings.Contains(page.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Fatalf("H5 page: %s", page.Header)
		}
		var form struct {
			Community string
			Roles     []string
			Areas     []struct {
				Buildings []struct {
					Units []struct{ ID int }
				}
			}
		}
		anon.Must(200, "GET", "/app/v1/apply/"+token, nil).JSON(t, &form)
		if form.Community != "申请小区" || len(form.Areas) != 1 || form.Areas[0].Buildings[0].Units[0].ID != a.UnitID {
			t.Fatalf("public form: %+v", form)
		}
		var rooms []struct {
			ID     int
			RoomNo string `json:"room_no"`
		}
		anon.Must(200, "GET", fmt.Sprintf("/app/v1/apply/%s/rooms?unit_id=%d", token, a.UnitID), nil).JSON(t, &rooms)
		if len(rooms) != 1 || rooms[0].RoomNo != "0502" {
			t.Fatalf("public rooms: %+v", rooms)
		}
		anon.Must(404, "GET", "/app/v1/apply/not-a-real-token-at-all", nil)

		// Submit with two photos.
		ct, body := applicationForm(a.RoomID, "测试家属", "13168035102", 2)
		r := anon.DoType("POST", "/app/v1/apply/"+token, ct, body)
		if r.Status != 201 {
			t.Fatalf("submit: %d %s", r.Status, r.Body)
		}
		// The same phone for the same room while pending: refused.
		ct, body = applicationForm(a.RoomID, "测试家属", "13168035102", 0)
		if r := anon.DoType("POST", "/app/v1/apply/"+token, ct, body); r.Status != 409 || !strings.Contains(r.Detail(), "审核中") {
			t.Errorf("duplicate pending: %d %s", r.Status, r.Body)
		}
		// Bad fields are named.
		for _, tt := range []struct {
			fields map[string]string
			want   string
		}{
			{map[string]string{"room_id": fmt.Sprint(a.RoomID), "name": "", "phone": "13100000000"}, "姓名"},
			{map[string]string{"room_id": fmt.Sprint(a.RoomID), "name": "x", "phone": "123"}, "手机号码"},
			{map[string]string{"room_id": "999999", "name": "x", "phone": "13100000001"}, "请选择申请的房间"},
			{map[string]string{"room_id": fmt.Sprint(a.RoomID), "name": "x", "phone": "13100000002", "id_number": "110105194912310021"}, "校验位"},
		} {
			ct, body := multipartFields(tt.fields, nil)
			if r := anon.DoType("POST", "/app/v1/apply/"+token, ct, body); r.Status != 422 || !strings.Contains(r.Detail(), tt.want) {
				t.Errorf("submit %v: %d %s, want %q", tt.fields, r.Status, r.Body, tt.want)
			}
		}
		ct, body = multipartFields(map[string]string{"room_id": fmt.Sprint(a.RoomID), "name": "x", "phone": "13100000003"}, [][]byte{[]byte("<html>not a photo</html>")})
		if r := anon.DoType("POST", "/app/v1/apply/"+token, ct, body); r.Status != 422 || !strings.Contains(r.Detail(), "第 1 张照片") {
			t.Errorf("HTML as photo: %d %s", r.Status, r.Body)
		}

		// Staff see it with a masked phone; the detail has it in full.
		var list struct {
			Items []applicationView
			Total int
		}
		m.Must(200, "GET", a.Path("/applications?status=pending"), nil).JSON(t, &list)
		if list.Total != 1 || list.Items[0].Phone != "131****5102" || list.Items[0].RoomLabel != "【申请小区】-1区-1栋-1单元-0502" || list.Items[0].PhotoCount != 2 {
			t.Fatalf("application list: %+v", list)
		}
		id := list.Items[0].ID
		var detail applicationView
		m.Must(200, "GET", a.Path(fmt.Sprintf("/applications/%d", id)), nil).JSON(t, &detail)
		if detail.Phone != "13168035102" {
			t.Fatalf("detail phone %q", detail.Phone)
		}
		photo := m.Must(200, "GET", a.Path(fmt.Sprintf("/applications/%d/photos/2", id)), nil)
		if photo.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("photo content type %q", photo.Header.Get("Content-Type"))
		}
		m.Must(404, "GET", a.Path(fmt.Sprintf("/applications/%d/photos/3", id)), nil)

		// 通过 creates the resident, once.
		m.Must(200, "POST", a.Path(fmt.Sprintf("/applications/%d/approve", id)), nil).JSON(t, &detail)
		if detail.Status != "approved" || detail.ResidentID == nil {
			t.Fatalf("after approve: %+v", detail)
		}
		var res residentView
		m.Must(200, "GET", a.Path(fmt.Sprintf("/residents/%d", *detail.ResidentID)), nil).JSON(t, &res)
		if res.Name != "测试家属" || res.Phone != "13168035102" || res.Role != "家属" || res.IDNumberMasked != "110105********002X" {
			t.Fatalf("resident from application: %+v", res)
		}
		if r := m.Do("POST", a.Path(fmt.Sprintf("/applications/%d/approve", id)), nil); r.Status != 409 {
			t.Errorf("second approve: %d %s", r.Status, r.Body)
		}

		// 打回 with a reason the applicant reads by phone lookup.
		ct, body = applicationForm(a.RoomID, "李清朋", "13900000088", 1)
		var submitted struct{ ID int }
		r = anon.DoType("POST", "/app/v1/apply/"+token, ct, body)
		if r.Status != 201 {
			t.Fatalf("second submit: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &submitted)
		if r := m.Do("POST", a.Path(fmt.Sprintf("/applications/%d/reject", submitted.ID)), map[string]any{"reason": ""}); r.Status != 422 {
			t.Errorf("reject without reason: %d %s", r.Status, r.Body)
		}
		m.Must(200, "POST", a.Path(fmt.Sprintf("/applications/%d/reject", submitted.ID)), map[string]any{"reason": "房号与产权信息不符，请核对"})
		var status []struct {
			Room, Name, Status, Reason string
		}
		anon.Must(200, "GET", "/app/v1/apply/"+token+"/status?phone=13900000088", nil).JSON(t, &status)
		if len(status) != 1 || status[0].Status != "rejected" || status[0].Reason != "房号与产权信息不符，请核对" || status[0].Room != "【申请小区】-1区-1栋-1单元-0502" {
			t.Fatalf("status lookup: %+v", status)
		}
		// Deleting removes its photos.
		before := countFiles(t, s.DataDir()+"/files/applications")
		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/applications/%d", submitted.ID)), nil)
		if after := countFiles(t, s.DataDir()+"/files/applications"); after != before-1 {
			t.Errorf("photos after delete: %d, before %d", after, before)
		}

		// Floods: one phone at most 3 times a day; one address at most 10 times an hour.
		for i := range 4 {
			ct, body := applicationForm(a.RoomID, "刷", "13700000001", 0)
			r := anon.DoType("POST", "/app/v1/apply/"+token, ct, body)
			if i == 3 {
				if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Detail(), "上限") {
					t.Fatalf("fourth application of one phone in a day: %d %s", r.Status, r.Body)
				}
				break
			}
			if r.Status != 201 {
				t.Fatalf("application %d of one phone: %d %s", i+1, r.Status, r.Body)
			}
			var v struct{ ID int }
			r.JSON(t, &v)
			m.Must(200, "POST", a.Path(fmt.Sprintf("/applications/%d/reject", v.ID)), map[string]any{"reason": "测试"})
		}
		var last apptest.Response
		for i := range 12 {
			ct, body := applicationForm(a.RoomID, "刷", fmt.Sprintf("1360000%04d", i), 0)
			last = anon.DoType("POST", "/app/v1/apply/"+token, ct, body)
		}
		if last.Status != http.StatusTooManyRequests || !strings.Contains(last.Detail(), "频繁") {
			t.Fatalf("address flood: %d %s", last.Status, last.Body)
		}
	})
}
