package device

import (
	"context"

	"linli/internal/ent"
	entdevice "linli/internal/ent/device"
	"linli/internal/housing"
)

var _ housing.Devices = (*Service)(nil)

// BoundInUnits counts the door stations bound in units.
func (s *Service) BoundInUnits(ctx context.Context, unitIDs ...int) (int, error) {
	return s.db.Device.Query().Where(entdevice.UnitIDIn(unitIDs...)).Count(ctx)
}

// BoundInRoom counts the indoor monitors bound in room.
func (s *Service) BoundInRoom(ctx context.Context, roomID int) (int, error) {
	return s.db.Device.Query().Where(entdevice.RoomID(roomID)).Count(ctx)
}

// LastBoundDoor returns the index and serial of unit's bound door station
// with the highest index; index 0 when none is bound.
func (s *Service) LastBoundDoor(ctx context.Context, unitID int) (int, string, error) {
	d, err := s.db.Device.Query().Where(entdevice.UnitID(unitID)).Order(ent.Desc(entdevice.FieldIndex)).First(ctx)
	if ent.IsNotFound(err) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", err
	}
	return d.Index, d.Serial, nil
}
