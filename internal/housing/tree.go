package housing

import (
	"context"

	"linli/internal/ent"
	"linli/internal/ent/area"
	"linli/internal/ent/building"
	"linli/internal/ent/room"
	"linli/internal/ent/unit"
)

// TreeArea is an area with its buildings and units, as the housing page shows it.
type TreeArea struct {
	ID            int            `json:"id"`
	Number        int            `json:"number" doc:"区域编号"`
	Name          string         `json:"name" doc:"区域名称"`
	ParkingLotNo  string         `json:"parking_lot_no" doc:"车场编号"`
	ParkingLotKey string         `json:"parking_lot_key" doc:"车场密钥"`
	Label         string         `json:"label" doc:"如 【测试小区1】-1区"`
	Buildings     []TreeBuilding `json:"buildings"`
}

// TreeBuilding is a building in the tree.
type TreeBuilding struct {
	ID     int        `json:"id"`
	AreaID int        `json:"area_id"`
	Number int        `json:"number" doc:"楼栋编号"`
	Name   string     `json:"name" doc:"楼栋名称"`
	Label  string     `json:"label" doc:"如 【测试小区1】-1区-1栋"`
	Units  []TreeUnit `json:"units"`
}

// TreeUnit is a unit in the tree.
type TreeUnit struct {
	ID          int    `json:"id"`
	BuildingID  int    `json:"building_id"`
	Number      int    `json:"number" doc:"单元编号"`
	Name        string `json:"name" doc:"单元名称"`
	Type        string `json:"type" enum:"normal,villa" doc:"单元类型：normal 普通单元；villa 别墅单元"`
	DeviceCount int    `json:"device_count" doc:"设备数量（门口机）"`
	RoomCount   int    `json:"room_count" doc:"房间数"`
	Label       string `json:"label" doc:"如 【测试小区1】-1区-1栋-1单元"`
}

// Tree returns the whole housing tree of community cid, ordered by number.
func (s *Service) Tree(ctx context.Context, cid int) ([]TreeArea, error) {
	c, err := s.community(ctx, cid)
	if err != nil {
		return nil, err
	}
	areas, err := s.db.Area.Query().Where(area.CommunityID(cid)).Order(ent.Asc(area.FieldNumber)).
		WithBuildings(func(q *ent.BuildingQuery) {
			q.Order(ent.Asc(building.FieldNumber)).WithUnits(func(q *ent.UnitQuery) { q.Order(ent.Asc(unit.FieldNumber)) })
		}).All(ctx)
	if err != nil {
		return nil, err
	}
	var counts []struct {
		UnitID int `json:"unit_id"`
		Count  int `json:"count"`
	}
	if err := s.db.Room.Query().Where(room.CommunityID(cid)).GroupBy(room.FieldUnitID).
		Aggregate(ent.Count()).Scan(ctx, &counts); err != nil {
		return nil, err
	}
	roomsOf := make(map[int]int, len(counts))
	for _, c := range counts {
		roomsOf[c.UnitID] = c.Count
	}
	out := make([]TreeArea, 0, len(areas))
	for _, a := range areas {
		ta := TreeArea{ID: a.ID, Number: a.Number, Name: a.Name, ParkingLotNo: a.ParkingLotNo,
			ParkingLotKey: a.ParkingLotKey, Label: Label(c.Name, a.Name), Buildings: []TreeBuilding{}}
		for _, b := range a.Edges.Buildings {
			tb := TreeBuilding{ID: b.ID, AreaID: a.ID, Number: b.Number, Name: b.Name,
				Label: Label(c.Name, a.Name, b.Name), Units: []TreeUnit{}}
			for _, u := range b.Edges.Units {
				tb.Units = append(tb.Units, TreeUnit{ID: u.ID, BuildingID: b.ID, Number: u.Number, Name: u.Name,
					Type: string(u.Type), DeviceCount: u.DeviceCount, RoomCount: roomsOf[u.ID],
					Label: Label(c.Name, a.Name, b.Name, u.Name)})
			}
			ta.Buildings = append(ta.Buildings, tb)
		}
		out = append(out, ta)
	}
	return out, nil
}
