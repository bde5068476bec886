package device

import (
	"context"

	"linli/internal/record"
	"linli/internal/store"
)

// Place returns where the device of a device request stands, for the
// records it reports: its label and its area, building and unit (none for
// wall and management stations).
func (s *Service) Place(ctx context.Context) (record.Place, error) {
	d := Current(ctx)
	p := record.Place{CommunityID: d.CommunityID, DeviceID: d.ID}
	c, err := store.Community(ctx, s.db.Client, d.CommunityID)
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
	label, u, err := locate(ctx, s.db.Client, c, slot)
	if err != nil {
		return p, err
	}
	p.Label = label
	if u != nil {
		p.UnitID, p.BuildingID, p.AreaID = &u.ID, &u.BuildingID, &u.Edges.Building.AreaID
	}
	return p, nil
}
