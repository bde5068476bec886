package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/apptest"
)

type residentView struct {
	ID             int    `json:"id"`
	RoomLabel      string `json:"room_label"`
	Name           string `json:"name"`
	Phone          string `json:"phone"`
	Role           string `json:"role"`
	IDNumberMasked string `json:"id_number_masked"`
	HometownName   string `json:"hometown_name"`
	CallForward    bool   `json:"call_forward"`
	Face           struct {
		HasPhoto bool   `json:"has_photo"`
		Enabled  bool   `json:"enabled"`
		ValidTo  string `json:"valid_to"`
	} `json:"face"`
}

type residentList struct {
	Items []residentView `json:"items"`
	Total int            `json:"total"`
}

func TestResidents(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "测试小区1", "RS")
		m := a.Manager
		var second struct{ ID int }
		m.Must(201, "POST", a.Path("/rooms"), map[string]any{"unit_id": a.UnitID, "floor": 6, "number": 1}).JSON(t, &second)

		var r residentView
		m.Must(201, "POST", a.Path("/residents"), map[string]any{
			"room_id": a.RoomID, "name": "张三", "phone": "+86 138 0013 8000", "gender": "male", "role": "业主",
			"id_number": "11010519491231002x", "email": "zs@example.com", "hometown_code": "440306", "address": "宝安大道 1 号",
		}).JSON(t, &r)
		if r.RoomLabel != "【测试小区1】-1区-1栋-1单元-0502" || r.Phone != "13800138000" || r.IDNumberMasked != "110105********002X" || r.HometownName != "广东省/深圳市/宝安区" {
			t.Fatalf("created resident: %+v", r)
		}

		// The ID number is sealed in the database, not stored in clear.
		row := s.App.Store().Resident.GetX(actor.AsSystem(context.Background()), r.ID)
		if row.IDNumberSealed == nil || strings.Contains(string(*row.IDNumberSealed), "1949123") {
			t.Fatal("ID number is not sealed at rest")
		}

		// Refusals name the field.
		for _, tt := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"room_id": a.RoomID, "name": "李四", "role": "业主", "phone": "13800138000"}, "该房间已有手机号为 13800138000 的业主"},
			{map[string]any{"room_id": a.RoomID, "name": "李四", "role": "业主", "id_number": "110105194912310021"}, "校验位不正确"},
			{map[string]any{"room_id": a.RoomID, "name": "李四", "role": "业主", "phone": "12345"}, "11 位中国大陆手机号"},
			{map[string]any{"room_id": a.RoomID, "name": "李四", "role": "房东"}, "不在本小区的业主角色组"},
			{map[string]any{"room_id": 99999, "name": "李四", "role": "业主"}, "所选房间不存在"},
			{map[string]any{"room_id": a.RoomID, "name": "  ", "role": "业主"}, "姓名不能为空"},
			{map[string]any{"room_id": a.RoomID, "name": "李四", "role": "业主", "hometown_code": "999999"}, "户籍城市不正确"},
			{map[string]any{"room_id": a.RoomID, "name": "李四", "role": "业主", "hometown_code": "440000"}, "户籍城市不正确"},
		} {
			if res := m.Do("POST", a.Path("/residents"), tt.body); res.Status != 422 || !strings.Contains(res.Detail(), tt.want) {
				t.Errorf("create %v: %d %s, want %q", tt.body, res.Status, res.Body, tt.want)
			}
		}
		// 户籍城市 may stop at the city.
		var cityOnly residentView
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": second.ID, "name": "张三", "phone": "13800138000", "role": "业主", "hometown_code": "440300"}).JSON(t, &cityOnly)
		if cityOnly.HometownName != "广东省/深圳市" {
			t.Errorf("户籍城市 440300 reads %q, want 广东省/深圳市", cityOnly.HometownName)
		}
		// One phone may live in several rooms (one app account).
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": second.ID, "name": "王五", "role": "租户"})

		// Filters: room cascade and 姓名或手机号.
		var list residentList
		for _, tt := range []struct {
			query string
			want  int
		}{
			{"", 3},
			{fmt.Sprintf("?unit_id=%d", a.UnitID), 3},
			{"?floor=6", 2},
			{fmt.Sprintf("?room_id=%d", a.RoomID), 1},
			{"?q=张", 2},
			{"?q=0013", 2},
			{"?q=王五", 1},
			{fmt.Sprintf("?area_id=%d&q=nobody", a.AreaID), 0},
		} {
			m.Must(200, "GET", a.Path("/residents"+tt.query), nil).JSON(t, &list)
			if list.Total != tt.want {
				t.Errorf("list %q: %d residents, want %d", tt.query, list.Total, tt.want)
			}
		}
		if strings.Contains(string(m.Must(200, "GET", a.Path("/residents"), nil).Body), "1949123") {
			t.Error("the list shows a full ID number")
		}

		// 显示 reveals the number and leaves an audit row.
		var revealed struct {
			IDNumber string `json:"id_number"`
		}
		m.Must(200, "POST", a.Path(fmt.Sprintf("/residents/%d/id-number/reveal", r.ID)), nil).JSON(t, &revealed)
		if revealed.IDNumber != testIDNumber {
			t.Fatalf("revealed %q", revealed.IDNumber)
		}
		audits := s.App.Store().AuditLog.Query().AllX(actor.AsSystem(context.Background()))
		if len(audits) != 1 || audits[0].Action != "reveal_id_number" || audits[0].TargetID != r.ID || audits[0].Account != a.ManagerAccount {
			t.Fatalf("audit after reveal: %+v", audits)
		}

		// 电话转移 needs the community's phone gateway.
		if res := m.Do("PATCH", a.Path(fmt.Sprintf("/residents/%d/permissions", r.ID)), map[string]any{"call_forward": true}); res.Status != 422 || !strings.Contains(res.Detail(), "电话网关") {
			t.Errorf("call forward without gateway: %d %s", res.Status, res.Body)
		}
		m.Must(200, "PATCH", a.Path(""), map[string]any{"phone_gateway": "sip:gw.example.com:5060"})
		m.Must(200, "PATCH", a.Path(fmt.Sprintf("/residents/%d/permissions", r.ID)), map[string]any{"call_forward": true}).JSON(t, &r)
		if !r.CallForward {
			t.Error("call forward not set")
		}

		// Face: consent first, then a real picture; the list never carries the photo.
		facePath := a.Path(fmt.Sprintf("/residents/%d/face", r.ID))
		if res := m.Do("PATCH", facePath, map[string]any{"enabled": true}); res.Status != 422 || !strings.Contains(res.Detail(), "请先上传") {
			t.Errorf("enable face without photo: %d %s", res.Status, res.Body)
		}
		ct, body := faceForm(false)
		if res := m.DoType("PUT", facePath, ct, body); res.Status != 422 || !strings.Contains(res.Detail(), "同意") {
			t.Errorf("face without consent: %d %s", res.Status, res.Body)
		}
		ct, body = multipartBody("face.jpg", []byte("<html><script>alert(1)</script></html>"), map[string]string{"consent": "true"})
		if res := m.DoType("PUT", facePath, ct, body); res.Status != 422 || !strings.Contains(res.Detail(), "不是 JPEG 或 PNG") {
			t.Errorf("HTML as face: %d %s", res.Status, res.Body)
		}
		ct, body = multipartBody("face.jpg", jpegBytes(300, 400), map[string]string{"consent": "true", "valid_from": "2026-01-01T00:00:00+08:00", "valid_to": "2027-01-01T00:00:00+08:00"})
		if res := m.DoType("PUT", facePath, ct, body); res.Status != 200 {
			t.Fatalf("face upload: %d %s", res.Status, res.Body)
		} else {
			res.JSON(t, &r)
		}
		if to, err := time.Parse(time.RFC3339, r.Face.ValidTo); err != nil || !r.Face.HasPhoto || !r.Face.Enabled || !to.Equal(time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)) {
			t.Errorf("face after upload: %+v", r.Face)
		}
		photo := m.Must(200, "GET", a.Path(fmt.Sprintf("/residents/%d/face.jpg", r.ID)), nil)
		if photo.Header.Get("Content-Type") != "image/jpeg" || photo.Header.Get("X-Content-Type-Options") != "nosniff" || len(photo.Body) < 100 {
			t.Errorf("face photo answer: %v, %d bytes", photo.Header, len(photo.Body))
		}
		if res := m.Do("PATCH", facePath, map[string]any{"valid_from": "2027-01-01T00:00:00Z", "valid_to": "2026-01-01T00:00:00Z"}); res.Status != 422 {
			t.Errorf("face valid_to before valid_from: %d %s", res.Status, res.Body)
		}
		var stopped residentView
		m.Must(200, "PATCH", facePath, map[string]any{"enabled": false, "permanent": true}).JSON(t, &stopped)
		if stopped.Face.Enabled || stopped.Face.ValidTo != "" || !stopped.Face.HasPhoto {
			t.Errorf("face after stop + permanent: %+v", stopped.Face)
		}
		faces := filepath.Join(s.DataDir(), "files", "faces")
		if n := countFiles(t, faces); n != 1 {
			t.Fatalf("%d face files stored, want 1", n)
		}

		// A room with residents is not deleted; the answer says who is inside.
		if res := m.Do("DELETE", a.Path(fmt.Sprintf("/rooms/%d", a.RoomID)), nil); res.Status != 409 || !strings.Contains(res.Detail(), "1 个业主") {
			t.Errorf("delete a room with a resident: %d %s", res.Status, res.Body)
		}
		if res := m.Do("DELETE", a.Path(fmt.Sprintf("/units/%d", a.UnitID)), nil); res.Status != 409 || !strings.Contains(res.Detail(), "3 个业主") {
			t.Errorf("delete a unit with residents: %d %s", res.Status, res.Body)
		}

		// Deleting the resident deletes the face photo with it.
		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/residents/%d", r.ID)), nil)
		if n := countFiles(t, faces); n != 0 {
			t.Errorf("%d face files left after deleting the resident", n)
		}
		m.Must(404, "GET", a.Path(fmt.Sprintf("/residents/%d", r.ID)), nil)
		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/rooms/%d", a.RoomID)), nil)
	})
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
