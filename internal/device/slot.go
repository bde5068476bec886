// Package device binds physical devices to the slots of a community and
// authenticates them. Slots follow the housing and the counts: each unit has
// 门口机1..N (its 设备数量), the community has 围墙机 and 管理机 by its counts,
// and each room has one indoor monitor (室内分机).
package device

import (
	"context"
	"fmt"

	"linli/internal/ent"
	"linli/internal/ent/room"
	"linli/internal/ent/unit"
	"linli/internal/errs"
	"linli/internal/housing"
)

// Kinds of device.
const (
	KindDoor       = "door"
	KindWall       = "wall"
	KindManagement = "management"
	KindIndoor     = "indoor"
)

// Slot names a place a device can be bound to.
type Slot struct {
	Kind   string `json:"kind" enum:"door,wall,management,indoor" doc:"door 门口机；wall 围墙机；management 管理机；indoor 室内分机"`
	UnitID int    `json:"unit_id,omitempty" doc:"门口机所在单元"`
	RoomID int    `json:"room_id,omitempty" doc:"室内分机所在房间"`
	Index  int    `json:"index,omitempty" doc:"第几台：门口机N、围墙机N、管理机N；室内分机为 1"`
}

// Key is the slot's identity within its community.
func (s Slot) Key() string {
	switch s.Kind {
	case KindDoor:
		return fmt.Sprintf("door:%d:%d", s.UnitID, s.Index)
	case KindIndoor:
		return fmt.Sprintf("indoor:%d:1", s.RoomID)
	}
	return fmt.Sprintf("%s:0:%d", s.Kind, s.Index)
}

// names of the kinds as labels show them.
var kindNames = map[string]string{KindDoor: "门口机", KindWall: "围墙机", KindManagement: "管理机", KindIndoor: "室内分机"}

// check validates slot s in community c and returns its label, e.g.
// 【测试小区1】-1区-2栋-1单元-门口机6.
func check(ctx context.Context, db *ent.Client, c *ent.Community, s Slot) (string, error) {
	label, _, err := locate(ctx, db, c, s)
	return label, err
}

// locate validates slot s in community c and returns its label and the
// unit it belongs to, with the unit's building and area loaded (nil for
// wall and management stations).
func locate(ctx context.Context, db *ent.Client, c *ent.Community, s Slot) (string, *ent.Unit, error) {
	switch s.Kind {
	case KindDoor:
		q := db.Unit.Query().Where(unit.ID(s.UnitID), unit.CommunityID(c.ID))
		housing.WithUnitPath(q)
		u, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return "", nil, errs.Field("slot.unit_id", "门口机所在的单元不存在")
		}
		if err != nil {
			return "", nil, fmt.Errorf("device: find the door station's unit: %w", err)
		}
		if s.Index < 1 || s.Index > u.DeviceCount {
			return "", nil, errs.Fieldf("slot.index", "该单元的设备数量为 %d，门口机编号应为 1 到 %d", u.DeviceCount, u.DeviceCount)
		}
		b := u.Edges.Building
		return SlotLabel(c.Name, KindDoor, s.Index, b.Edges.Area.Name, b.Name, u.Name, ""), u, nil
	case KindWall, KindManagement:
		n := c.WallStationCount
		if s.Kind == KindManagement {
			n = c.ManagementStationCount
		}
		if s.Index < 1 || s.Index > n {
			return "", nil, errs.Fieldf("slot.index", "本小区%s数量为 %d，编号应为 1 到 %d", kindNames[s.Kind], n, n)
		}
		return SlotLabel(c.Name, s.Kind, s.Index, "", "", "", ""), nil, nil
	case KindIndoor:
		r, err := db.Room.Query().Where(room.ID(s.RoomID), room.CommunityID(c.ID)).
			WithUnit(housing.WithUnitPath).Only(ctx)
		if ent.IsNotFound(err) {
			return "", nil, errs.Field("slot.room_id", "室内分机所在的房间不存在")
		}
		if err != nil {
			return "", nil, fmt.Errorf("device: find the indoor monitor's room: %w", err)
		}
		b := r.Edges.Unit.Edges.Building
		return SlotLabel(c.Name, KindIndoor, 1, b.Edges.Area.Name, b.Name, r.Edges.Unit.Name, housing.RoomNo(r.Floor, r.Number)), r.Edges.Unit, nil
	}
	return "", nil, errs.Field("slot.kind", "设备类型只能是 door（门口机）、wall（围墙机）、management（管理机）或 indoor（室内分机）")
}

// SlotLabel makes the label of a device slot from the names of its place:
// 【测试小区1】-1区-2栋-1单元-门口机6 (area, building and unit of a door
// station), 【测试小区1】-1区-2栋-1单元-0502-室内分机 (the room's unit and
// room number of an indoor monitor), 【测试小区1】-围墙机1, 【测试小区1】-管理机1.
func SlotLabel(community, kind string, index int, area, building, unit, roomNo string) string {
	switch kind {
	case KindDoor:
		return housing.Label(community, area, building, unit, fmt.Sprintf("门口机%d", index))
	case KindIndoor:
		return housing.Label(community, area, building, unit, roomNo, "室内分机")
	}
	return housing.Label(community, fmt.Sprintf("%s%d", kindNames[kind], index))
}
