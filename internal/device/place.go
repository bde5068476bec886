package device

import (
	"context"

	"linli/internal/ent"
	"linli/internal/store"
)

// Place is where a bound device stands: its community, its label
// (【测试小区1】-1区-2栋-1单元-门口机1) and its area, building and unit (none
// for wall and management stations). Records of what it reports are filed
// under it.
type Place struct {
	CommunityID, DeviceID      int
	Label                      string
	AreaID, BuildingID, UnitID *int
}

// Place returns where the device of a device request stands, for the
// records it reports: its label and its area, building and unit (none for
// wall and management stations).
func (s *Service) Place(ctx context.Context) (Place, error) {
	return PlaceOf(ctx, s.db.Client, Current(ctx))
}

// PlaceOf returns where bound device d stands: its label (【测试小区1】-1区-
// 2栋-1单元-门口机1) and its area, building and unit (none for wall and
// management stations).
func PlaceOf(ctx context.Context, db *ent.Client, d *ent.Device) (Place, error) {
	p := Place{CommunityID: d.CommunityID, DeviceID: d.ID}
	c, err := store.Community(ctx, db, d.CommunityID)
	if err != nil {
		return p, err
	}
	slot := Slot{Kind: string(d.Kind), Index: d.Index}
	if d.UnitID != nil {
		slot.UnitID = *d.UnitID
	}
	if d.RoomID != nil {
		slot.RoomID = *d.RoomID
	}
	label, u, err := locate(ctx, db, c, slot)
	if err != nil {
		return p, err
	}
	p.Label = label
	if u != nil {
		p.UnitID, p.BuildingID, p.AreaID = &u.ID, &u.BuildingID, &u.Edges.Building.AreaID
	}
	return p, nil
}
