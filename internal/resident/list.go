package resident

import (
	"context"
	"strings"

	"linli/internal/ent"
	"linli/internal/ent/predicate"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/housing"
	"linli/internal/store"
)

// Filter selects residents: the room cascade and 姓名或手机号. Zero values
// select everything. It is also the query of the resident list.
type Filter struct {
	housing.Cascade
	Query string `query:"q" maxLength:"32" doc:"姓名或手机号（部分）"`
}

func (f Filter) predicates(cid int) []predicate.Resident {
	ps := []predicate.Resident{resident.CommunityID(cid)}
	if f.AreaID > 0 {
		ps = append(ps, resident.AreaID(f.AreaID))
	}
	if f.BuildingID > 0 {
		ps = append(ps, resident.BuildingID(f.BuildingID))
	}
	if f.UnitID > 0 {
		ps = append(ps, resident.UnitID(f.UnitID))
	}
	if f.RoomID > 0 {
		ps = append(ps, resident.RoomID(f.RoomID))
	}
	if f.Floor > 0 {
		ps = append(ps, resident.HasRoomWith(room.Floor(f.Floor)))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		ps = append(ps, store.ResidentSearch.Contains(q))
	}
	return ps
}

// List returns a page of residents of community cid, newest change first,
// with their rooms loaded for labels.
func (s *Service) List(ctx context.Context, cid int, f Filter, offset, limit int) ([]*ent.Resident, int, error) {
	if _, err := s.community(ctx, cid); err != nil {
		return nil, 0, err
	}
	q := s.db.Resident.Query().Where(f.predicates(cid)...)
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	items, err := q.Order(ent.Desc(resident.FieldUpdatedAt), ent.Desc(resident.FieldID)).
		Offset(offset).Limit(limit).WithRoom(housing.WithRoomPath).All(ctx)
	return items, total, err
}

// Label returns the location label of r's room (r loaded by List or Get).
func Label(communityName string, r *ent.Resident) string {
	if r.Edges.Room == nil {
		return housing.Label(communityName)
	}
	return housing.RoomLabel(communityName, r.Edges.Room)
}
