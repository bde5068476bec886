package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"linli/internal/apptest"
)

type cardView struct {
	ID           int
	Number       string
	ResidentName string `json:"resident_name"`
	RoomLabel    string `json:"room_label"`
	Type         string
	Mode         string
	Status       string
	UnitIDs      []int  `json:"unit_ids"`
	ValidUntil   string `json:"valid_until"`
}

func TestCardRules(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "卡片小区", "CR")
		m := a.Manager
		var res struct{ ID int }
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "测试宋", "role": "业主"}).JSON(t, &res)

		// Normalisation: spaces and lower case; decimal only when stated.
		var c cardView
		m.Must(201, "POST", a.Path("/cards"), map[string]any{"number": " 09e9 8cf6 ", "resident_id": res.ID}).JSON(t, &c)
		if c.Number != "09E98CF6" || c.Type != "normal" || c.Mode != "ic" || c.ResidentName != "测试宋" ||
			c.RoomLabel != "【卡片小区】-1区-1栋-1单元-0502" || len(c.UnitIDs) != 1 || c.UnitIDs[0] != a.UnitID || c.ValidUntil != "" {
			t.Fatalf("normal card: %+v", c)
		}
		var dec cardView
		m.Must(201, "POST", a.Path("/cards/super"), map[string]any{"number": "255", "format": "decimal", "mode": "id_card"}).JSON(t, &dec)
		if dec.Number != "000000FF" || dec.Type != "super" || dec.RoomLabel != "【卡片小区】" || dec.Mode != "id_card" {
			t.Fatalf("super card from decimal: %+v", dec)
		}
		for _, tt := range []struct {
			path string
			body map[string]any
			want string
		}{
			{"/cards", map[string]any{"number": "09E98CF6", "resident_id": res.ID}, "已在本小区发过卡"},
			{"/cards", map[string]any{"number": "12AB", "resident_id": res.ID}, "6 到 20 位十六进制"},
			{"/cards", map[string]any{"number": "12XY5678", "resident_id": res.ID}, "十六进制"},
			{"/cards", map[string]any{"number": "AA112233", "resident_id": 99999}, "请先选择房间和业主"},
			{"/cards", map[string]any{"number": "AA112233", "resident_id": res.ID, "unit_ids": []int{99999}}, "所选单元不存在"},
			{"/cards/super", map[string]any{"number": "AA112233", "valid_until": time.Now().Add(-time.Hour).Format(time.RFC3339)}, "有效时间必须晚于现在"},
			{"/cards/super", map[string]any{"number": "12ab", "format": "decimal"}, "十进制卡号"},
		} {
			if r := m.Do("POST", a.Path(tt.path), tt.body); r.Status != 422 || !strings.Contains(r.Detail(), tt.want) {
				t.Errorf("POST %s %v: %d %s, want %q", tt.path, tt.body, r.Status, r.Body, tt.want)
			}
		}

		// 权限 is for normal cards; 时效 sets and clears the expiry.
		if r := m.Do("PUT", a.Path(fmt.Sprintf("/cards/%d/units", dec.ID)), map[string]any{"unit_ids": []int{a.UnitID}}); r.Status != 422 {
			t.Errorf("units of a super card: %d %s", r.Status, r.Body)
		}
		until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		m.Must(200, "PUT", a.Path(fmt.Sprintf("/cards/%d/expiry", c.ID)), map[string]any{"valid_until": until.Format(time.RFC3339)}).JSON(t, &c)
		if got, _ := time.Parse(time.RFC3339, c.ValidUntil); !got.Equal(until) {
			t.Errorf("expiry %q, want %s", c.ValidUntil, until)
		}
		var permanent cardView
		m.Must(200, "PUT", a.Path(fmt.Sprintf("/cards/%d/expiry", c.ID)), map[string]any{}).JSON(t, &permanent)
		if permanent.ValidUntil != "" {
			t.Errorf("permanent card still expires at %q", permanent.ValidUntil)
		}

		// 停用 and 启用; 恢复白卡 frees the number, keeps the record.
		m.Must(200, "POST", a.Path(fmt.Sprintf("/cards/%d/disable", c.ID)), nil).JSON(t, &c)
		if c.Status != "disabled" {
			t.Fatalf("after 停用: %s", c.Status)
		}
		m.Must(200, "POST", a.Path(fmt.Sprintf("/cards/%d/blank", c.ID)), nil)
		if r := m.Do("POST", a.Path(fmt.Sprintf("/cards/%d/enable", c.ID)), nil); r.Status != 409 {
			t.Errorf("enable a blank card: %d %s", r.Status, r.Body)
		}
		m.Must(201, "POST", a.Path("/cards"), map[string]any{"number": "09E98CF6", "resident_id": res.ID})
		var blanks struct{ Total int }
		m.Must(200, "GET", a.Path("/cards?status=blank"), nil).JSON(t, &blanks)
		var listed struct {
			Items []cardView
			Total int
		}
		m.Must(200, "GET", a.Path(fmt.Sprintf("/cards?room_id=%d", a.RoomID)), nil).JSON(t, &listed)
		if blanks.Total != 1 || listed.Total != 1 || listed.Items[0].Number != "09E98CF6" || listed.Items[0].Status != "active" {
			t.Fatalf("after re-issue: %d blank, room list %+v", blanks.Total, listed)
		}
		// Deleting the resident turns their cards blank.
		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/residents/%d", res.ID)), nil)
		m.Must(200, "GET", a.Path("/cards"), nil).JSON(t, &listed)
		if listed.Total != 1 || listed.Items[0].Type != "super" {
			t.Fatalf("cards after deleting the resident: %+v", listed)
		}
	})
}
