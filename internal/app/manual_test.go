package app_test

import (
	"fmt"
	"testing"

	"linli/internal/apptest"
)

// TestManualDetails: what 小区信息列表 and 房屋信息列表 show as the manual says —
// the list of communities carries 管理机数量, 围墙机数量 and 小区密码 (the
// console masks it until 显示), and rooms added in any order are listed by
// floor and room, so that new rooms appear where they belong.
func TestManualDetails(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "手册小区", "MN")
		m := a.Manager
		m.Must(200, "PATCH", a.Path(""), map[string]any{"management_station_count": 2, "wall_station_count": 4})
		var list struct {
			Items []struct {
				ID                     int    `json:"id"`
				ManagementStationCount int    `json:"management_station_count"`
				WallStationCount       int    `json:"wall_station_count"`
				CommunityPassword      string `json:"community_password"`
				RegionName             string `json:"region_name"`
			}
		}
		m.Must(200, "GET", "/api/v1/communities", nil).JSON(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("staff see %d communities", len(list.Items))
		}
		if c := list.Items[0]; c.ManagementStationCount != 2 || c.WallStationCount != 4 || c.CommunityPassword != "pwMNx9" || c.RegionName == "" {
			t.Errorf("the list shows %+v", c)
		}

		var unit created
		m.Must(201, "POST", a.Path("/units"), map[string]any{"building_id": a.BuildingID, "number": 7, "device_count": 1}).JSON(t, &unit)
		for _, r := range [][2]int{{12, 1}, {3, 2}, {3, 1}, {10, 5}} {
			m.Must(201, "POST", a.Path("/rooms"), map[string]any{"unit_id": unit.ID, "floor": r[0], "number": r[1]})
		}
		var rooms roomPage
		m.Must(200, "GET", a.Path(fmt.Sprintf("/rooms?unit_id=%d&size=100", unit.ID)), nil).JSON(t, &rooms)
		var got []string
		for _, r := range rooms.Items {
			got = append(got, r.RoomNo)
		}
		if fmt.Sprint(got) != "[0301 0302 1005 1201]" {
			t.Errorf("rooms listed as %v, want by floor and room", got)
		}
	})
}
