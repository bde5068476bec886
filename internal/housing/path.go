package housing

import (
	"context"

	"linli/internal/ent"
	"linli/internal/ent/room"
)

// WithUnitPath loads a unit's building and area, which its labels need.
func WithUnitPath(q *ent.UnitQuery) { q.WithBuilding(func(q *ent.BuildingQuery) { q.WithArea() }) }

// WithRoomPath loads a room's unit, building and area, which RoomLabel needs.
func WithRoomPath(q *ent.RoomQuery) { q.WithUnit(WithUnitPath) }

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
