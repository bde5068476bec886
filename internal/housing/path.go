package housing

import (
	"cmp"
	"context"

	"linli/internal/ent"
	"linli/internal/ent/building"
	"linli/internal/ent/predicate"
	"linli/internal/ent/room"
	"linli/internal/ent/unit"
)

// Cascade is the room cascade of list pages (区域 ▾ 楼栋 ▾ 单元 ▾ 楼层 ▾ 房号 ▾),
// also as the query parameters of those lists. Zero values select everything.
type Cascade struct {
	AreaID     int `query:"area_id" minimum:"0" doc:"区域"`
	BuildingID int `query:"building_id" minimum:"0" doc:"楼栋"`
	UnitID     int `query:"unit_id" minimum:"0" doc:"单元"`
	Floor      int `query:"floor" minimum:"0" maximum:"99" doc:"楼层"`
	RoomID     int `query:"room_id" minimum:"0" doc:"房号"`
}

// Rooms returns the rooms of community cid that the cascade selects, and
// false when it selects no part of the tree (every room, and whatever
// belongs to no room, then shows).
func (c Cascade) Rooms(ctx context.Context, db *ent.Client, cid int) ([]int, bool, error) {
	ps := []predicate.Room{room.CommunityID(cid)}
	if c.RoomID > 0 {
		ps = append(ps, room.ID(c.RoomID))
	}
	if c.UnitID > 0 {
		ps = append(ps, room.UnitID(c.UnitID))
	}
	if c.BuildingID > 0 {
		ps = append(ps, room.HasUnitWith(unit.BuildingID(c.BuildingID)))
	}
	if c.AreaID > 0 {
		ps = append(ps, room.HasUnitWith(unit.HasBuildingWith(building.AreaID(c.AreaID))))
	}
	if c.Floor > 0 {
		ps = append(ps, room.Floor(c.Floor))
	}
	if len(ps) == 1 {
		return nil, false, nil
	}
	ids, err := db.Room.Query().Where(ps...).IDs(ctx)
	return ids, true, err
}

// WithUnitPath loads a unit's building and area, which its labels need.
func WithUnitPath(q *ent.UnitQuery) { q.WithBuilding(func(q *ent.BuildingQuery) { q.WithArea() }) }

// WithRoomPath loads a room's unit, building and area, which RoomLabel needs.
func WithRoomPath(q *ent.RoomQuery) { q.WithUnit(WithUnitPath) }

// CompareUnits orders units loaded with WithUnitPath as the housing tree
// shows them: by area, building and unit number.
func CompareUnits(a, b *ent.Unit) int {
	ab, bb := a.Edges.Building, b.Edges.Building
	return cmp.Or(
		cmp.Compare(ab.Edges.Area.Number, bb.Edges.Area.Number),
		cmp.Compare(ab.Number, bb.Number),
		cmp.Compare(a.Number, b.Number),
	)
}

// RoomLabels returns the location labels of the rooms ids of a community
// called communityName, keyed by room id. Unknown ids are left out.
func RoomLabels(ctx context.Context, db *ent.Client, communityName string, ids []int) (map[int]string, error) {
	q := db.Room.Query().Where(room.IDIn(ids...))
	WithRoomPath(q)
	rs, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int]string, len(rs))
	for _, r := range rs {
		out[r.ID] = RoomLabel(communityName, r)
	}
	return out, nil
}
