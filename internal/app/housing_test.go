package app_test

import (
	"fmt"
	"strings"
	"testing"

	"linli/internal/apptest"
	"linli/internal/config"
)

type created struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type roomPage struct {
	Items []struct {
		RoomNo string `json:"room_no"`
		Label  string `json:"label"`
	} `json:"items"`
	Total int `json:"total"`
}

func TestHousingTree(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "测试小区1", "H")
		m := a.Manager

		// Names are filled in from the numbers.
		var area, bld, unit created
		m.Must(201, "POST", a.Path("/areas"), map[string]any{"number": 2}).JSON(t, &area)
		m.Must(201, "POST", a.Path("/buildings"), map[string]any{"area_id": area.ID, "number": 3}).JSON(t, &bld)
		m.Must(201, "POST", a.Path("/units"), map[string]any{"building_id": bld.ID, "number": 1, "type": "villa", "device_count": 9}).JSON(t, &unit)
		if area.Name != "2区" || bld.Name != "3栋" || unit.Name != "1单元" {
			t.Fatalf("default names: %q %q %q", area.Name, bld.Name, unit.Name)
		}

		// Duplicates under one parent are refused; the same number elsewhere is fine.
		for _, tt := range []struct {
			path string
			body map[string]any
			want string
		}{
			{"/areas", map[string]any{"number": 2}, "区域编号 2 已存在"},
			{"/buildings", map[string]any{"area_id": area.ID, "number": 3}, "已有楼栋编号 3"},
			{"/units", map[string]any{"building_id": bld.ID, "number": 1, "device_count": 1}, "已有单元编号 1"},
		} {
			r := m.Do("POST", a.Path(tt.path), tt.body)
			if r.Status != 422 || !strings.Contains(r.Detail(), tt.want) {
				t.Errorf("duplicate %s: %d %s, want %q", tt.path, r.Status, r.Body, tt.want)
			}
		}
		m.Must(201, "POST", a.Path("/buildings"), map[string]any{"area_id": a.AreaID, "number": 3})

		// Batch 6 floors × 4 rooms: 0101 … 0604 with full labels.
		var batch struct{ Created int }
		m.Must(201, "POST", a.Path(fmt.Sprintf("/units/%d/rooms/batch", unit.ID)), map[string]any{"floors": 6, "rooms_per_floor": 4}).JSON(t, &batch)
		if batch.Created != 24 {
			t.Fatalf("batch created %d rooms, want 24", batch.Created)
		}
		var rooms roomPage
		m.Must(200, "GET", a.Path(fmt.Sprintf("/rooms?unit_id=%d&size=100", unit.ID)), nil).JSON(t, &rooms)
		if rooms.Total != 24 || rooms.Items[0].RoomNo != "0101" || rooms.Items[23].RoomNo != "0604" {
			t.Fatalf("rooms after batch: total %d, first %+v", rooms.Total, rooms.Items[0])
		}
		if want := "【测试小区1】-2区-3栋-1单元-0101"; rooms.Items[0].Label != want {
			t.Errorf("label %q, want %q", rooms.Items[0].Label, want)
		}

		// A batch over rooms that exist adds the missing ones and keeps the
		// others (批量添加本单元的全部房间 after adding a few by hand).
		m.Must(201, "POST", a.Path("/rooms"), map[string]any{"unit_id": unit.ID, "floor": 8, "number": 2})
		var more struct{ Created, Skipped int }
		m.Must(201, "POST", a.Path(fmt.Sprintf("/units/%d/rooms/batch", unit.ID)), map[string]any{"floors": 8, "rooms_per_floor": 4}).JSON(t, &more)
		if more.Created != 7 || more.Skipped != 25 {
			t.Fatalf("batch over existing rooms: %+v, want 7 added and 25 skipped", more)
		}
		// A batch whose rooms all exist is refused and names them.
		r := m.Do("POST", a.Path(fmt.Sprintf("/units/%d/rooms/batch", unit.ID)), map[string]any{"floors": 8, "rooms_per_floor": 4})
		if r.Status != 409 || !strings.Contains(r.Detail(), "0101") || !strings.Contains(r.Detail(), "等共 32 间") || !strings.Contains(r.Detail(), "都已存在") {
			t.Fatalf("batch of existing rooms: %d %s", r.Status, r.Body)
		}
		m.Must(200, "GET", a.Path(fmt.Sprintf("/rooms?unit_id=%d", unit.ID)), nil).JSON(t, &rooms)
		if rooms.Total != 32 {
			t.Fatalf("rooms after the batches: %d, want 32", rooms.Total)
		}
		// A single duplicate room is refused too.
		if r := m.Do("POST", a.Path("/rooms"), map[string]any{"unit_id": unit.ID, "floor": 8, "number": 2}); r.Status != 422 || !strings.Contains(r.Detail(), "0802") {
			t.Errorf("duplicate room: %d %s", r.Status, r.Body)
		}

		// Nodes with rooms are not deleted, and the answer says what is inside.
		for _, tt := range []struct{ path, want string }{
			{fmt.Sprintf("/units/%d", unit.ID), "1单元下还有 32 个房间"},
			{fmt.Sprintf("/buildings/%d", bld.ID), "3栋下还有 1 个单元、32 个房间"},
			{fmt.Sprintf("/areas/%d", area.ID), "2区下还有 1 个楼栋、1 个单元、32 个房间"},
		} {
			r := m.Do("DELETE", a.Path(tt.path), nil)
			if r.Status != 409 || !strings.Contains(r.Detail(), tt.want) {
				t.Errorf("delete %s: %d %s, want 409 %q", tt.path, r.Status, r.Body, tt.want)
			}
		}
		if r := op.Do("DELETE", a.Path(""), nil); r.Status != 409 || !strings.Contains(r.Detail(), "个房间") {
			t.Errorf("delete a community with housing: %d %s", r.Status, r.Body)
		}

		// The tree shows counts and labels.
		var tree []struct {
			Name      string
			Buildings []struct {
				Name  string
				Units []struct {
					Label     string
					RoomCount int `json:"room_count"`
					Type      string
				}
			}
		}
		m.Must(200, "GET", a.Path("/tree"), nil).JSON(t, &tree)
		if len(tree) != 2 || tree[1].Name != "2区" || tree[1].Buildings[0].Units[0].RoomCount != 32 ||
			tree[1].Buildings[0].Units[0].Label != "【测试小区1】-2区-3栋-1单元" || tree[1].Buildings[0].Units[0].Type != "villa" {
			t.Fatalf("tree: %+v", tree)
		}

		// Emptied, the area goes with its building and unit.
		var ids []struct {
			ID int `json:"id"`
		}
		m.Must(200, "GET", a.Path(fmt.Sprintf("/rooms?unit_id=%d&size=100", unit.ID)), nil).JSON(t, &struct {
			Items *[]struct {
				ID int `json:"id"`
			} `json:"items"`
		}{Items: &ids})
		for _, r := range ids {
			m.Must(204, "DELETE", a.Path(fmt.Sprintf("/rooms/%d", r.ID)), nil)
		}
		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/areas/%d", area.ID)), nil)
		m.Must(200, "GET", a.Path("/tree"), nil).JSON(t, &tree)
		if len(tree) != 1 {
			t.Fatalf("tree after deleting 2区: %d areas", len(tree))
		}

		// Edit: renumbering to a taken number is refused.
		var second created
		m.Must(201, "POST", a.Path("/areas"), map[string]any{"number": 7, "name": "北区"}).JSON(t, &second)
		if r := m.Do("PATCH", a.Path(fmt.Sprintf("/areas/%d", second.ID)), map[string]any{"number": 1}); r.Status != 422 {
			t.Errorf("renumber area onto 1: %d %s", r.Status, r.Body)
		}
		m.Must(200, "PATCH", a.Path(fmt.Sprintf("/areas/%d", second.ID)), map[string]any{"name": "南区", "parking_lot_no": "P7"})
	})
}

func TestCommunityRules(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "规则小区", "R")
		// A manager configures, but does not rename, their community.
		a.Manager.Must(200, "PATCH", a.Path(""), map[string]any{"management_station_count": 3, "card_type": "both", "resident_roles": []string{"业主", "家属", "租户", "保姆"}})
		if r := a.Manager.Do("PATCH", a.Path(""), map[string]any{"name": "新名字"}); r.Status != 403 {
			t.Errorf("manager renames community: %d %s", r.Status, r.Body)
		}
		var c struct {
			Name       string   `json:"name"`
			RegionName string   `json:"region_name"`
			Roles      []string `json:"resident_roles"`
			CardType   string   `json:"card_type"`
		}
		op.Must(200, "GET", a.Path(""), nil).JSON(t, &c)
		if c.Name != "规则小区" || c.RegionName != "广东省/深圳市/宝安区" || len(c.Roles) != 4 || c.CardType != "both" {
			t.Errorf("community after config: %+v", c)
		}
		// Names are unique across the platform.
		if r := op.Do("POST", "/api/v1/communities", map[string]any{"name": "规则小区", "region_code": "110101", "address": "x"}); r.Status != 422 || !strings.Contains(r.Detail(), "已存在") {
			t.Errorf("duplicate community name: %d %s", r.Status, r.Body)
		}
		// A manager sees only their own community in the list.
		b := s.NewCommunity(t, op, "别的小区", "R2")
		var list struct {
			Items []struct{ ID int } `json:"items"`
			Total int                `json:"total"`
		}
		b.Manager.Must(200, "GET", "/api/v1/communities", nil).JSON(t, &list)
		if list.Total != 1 || list.Items[0].ID != b.ID {
			t.Errorf("manager B's community list: %+v", list)
		}
	})
}

// TestSurvivesRestart stops the server and starts a new one on the same data.
func TestSurvivesRestart(t *testing.T) {
	t.Parallel()
	cfg := config.Config{DataDir: t.TempDir(), AdminAccount: "admin", AdminPassword: apptest.AdminInitial}
	srv := apptest.StartWith(t, cfg)
	op := srv.Operator()
	c := srv.NewCommunity(t, op, "重启小区", "Z")
	remember := srv.Client("remember")
	remember.Must(200, "POST", "/api/v1/session", map[string]any{"account": c.ManagerAccount, "password": apptest.StaffPassword, "remember": true})
	token := remember.Cookie("linli_session")
	srv.Stop()

	srv2 := apptest.StartWith(t, cfg)
	again := srv2.Client("same browser")
	again.SetCookie("linli_session", token)
	var rooms roomPage
	again.Must(200, "GET", c.Path("/rooms"), nil).JSON(t, &rooms)
	if rooms.Total != 1 || rooms.Items[0].Label != "【重启小区】-1区-1栋-1单元-0502" {
		t.Fatalf("after restart: %+v", rooms)
	}
	// The operator password set before the restart still works.
	srv2.Client("op").Must(200, "POST", "/api/v1/session", map[string]any{"account": "admin", "password": apptest.AdminPassword})
}
