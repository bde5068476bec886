package pass

import (
	"context"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"linli/internal/actor"
	"linli/internal/ent"
	entpass "linli/internal/ent/pass"
	"linli/internal/ent/predicate"
	"linli/internal/ent/resident"
	"linli/internal/errs"
	"linli/internal/household"
)

func itoa(n int) string { return strconv.Itoa(n) }

// usable selects passes not used up: without a limit or below it.
func usable() predicate.Pass {
	return entpass.Or(entpass.MaxUses(0), predicate.Pass(func(s *sql.Selector) {
		s.Where(sql.ColumnsLT(s.C(entpass.FieldUses), s.C(entpass.FieldMaxUses)))
	}))
}

// usedUp selects passes whose uses reached their limit.
func usedUp() predicate.Pass {
	return entpass.And(entpass.MaxUsesGT(0), predicate.Pass(func(s *sql.Selector) {
		s.Where(sql.ColumnsGTE(s.C(entpass.FieldUses), s.C(entpass.FieldMaxUses)))
	}))
}

// withStatus selects the passes that have status at now.
func withStatus(status string, now time.Time) (predicate.Pass, error) {
	switch status {
	case StatusRevoked:
		return entpass.RevokedAtNotNil(), nil
	case StatusUsedUp:
		return entpass.And(entpass.RevokedAtIsNil(), usedUp()), nil
	case StatusExpired:
		return entpass.And(entpass.RevokedAtIsNil(), usable(), entpass.ValidToLTE(now)), nil
	case StatusUpcoming:
		return entpass.And(entpass.RevokedAtIsNil(), usable(), entpass.ValidToGT(now), entpass.ValidFromGT(now)), nil
	case StatusValid:
		return entpass.And(entpass.RevokedAtIsNil(), usable(), entpass.ValidToGT(now), entpass.ValidFromLTE(now)), nil
	}
	return nil, errs.Field("status", "状态只能是 有效、已用完、已撤销、已过期 或 未开始")
}

// myRooms returns the rooms of the app's phone.
func (s *Service) myRooms(ctx context.Context) ([]int, error) {
	a, _ := actor.From(ctx)
	if a.Phone == "" {
		return nil, nil
	}
	return s.db.Resident.Query().Where(resident.Phone(a.Phone), household.Current(s.now())).Unique(true).Select(resident.FieldRoomID).Ints(ctx)
}

// Mine lists the passes of the rooms of the resident of ctx, newest
// first; roomID and status, when set, narrow the list.
//
// Errors: errs.Invalid (status), errs.NotFound (roomID not my room).
func (s *Service) Mine(ctx context.Context, roomID int, status string) ([]Pass, error) {
	rooms, err := s.myRooms(ctx)
	if err != nil {
		return nil, err
	}
	ps := []predicate.Pass{entpass.RoomIDIn(rooms...)}
	if roomID > 0 {
		if _, err := s.myResident(ctx, roomID); err != nil {
			return nil, err
		}
		ps = append(ps, entpass.RoomID(roomID))
	}
	if status != "" {
		p, err := withStatus(status, s.now())
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	list, err := s.db.Pass.Query().Where(ps...).Order(ent.Desc(entpass.FieldCreatedAt), ent.Desc(entpass.FieldID)).Limit(500).All(ctx)
	if err != nil {
		return nil, err
	}
	return s.views(ctx, list)
}

// mine returns pass id if it belongs to a room of the resident of ctx.
//
// Errors: errs.NotFound.
func (s *Service) mine(ctx context.Context, id int) (*ent.Pass, error) {
	rooms, err := s.myRooms(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.db.Pass.Query().Where(entpass.ID(id), entpass.RoomIDIn(rooms...)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "通行证不存在")
	}
	return p, err
}

// Get returns pass id of a room of the resident of ctx.
//
// Errors: errs.NotFound.
func (s *Service) Get(ctx context.Context, id int) (*Pass, error) {
	p, err := s.mine(ctx, id)
	if err != nil {
		return nil, err
	}
	vs, err := s.views(ctx, []*ent.Pass{p})
	if err != nil {
		return nil, err
	}
	return &vs[0], nil
}

// RevokeMine revokes pass id of a room of the resident of ctx (any
// resident of the room may). Revoking again changes nothing.
//
// Errors: errs.NotFound.
func (s *Service) RevokeMine(ctx context.Context, id int) error {
	p, err := s.mine(ctx, id)
	if err != nil {
		return err
	}
	_, err = s.revoke(ctx, p.CommunityID, p.ID, "业主")
	return err
}

// revoke revokes pass id of community cid in the name of by and returns
// it; the pass leaves every whitelist in the same transaction.
func (s *Service) revoke(ctx context.Context, cid, id int, by string) (*ent.Pass, error) {
	var out *ent.Pass
	err := s.db.InTx(ctx, func(tx *ent.Tx) error {
		n, err := tx.Pass.Update().Where(entpass.ID(id), entpass.CommunityID(cid), entpass.RevokedAtIsNil()).
			SetRevokedAt(s.now()).SetRevokedBy(by).Save(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			if err := s.changed(ctx, tx, cid, id); err != nil {
				return err
			}
		}
		out, err = tx.Pass.Query().Where(entpass.ID(id), entpass.CommunityID(cid)).Only(ctx)
		if ent.IsNotFound(err) {
			return errs.New(errs.NotFound, "通行证不存在")
		}
		return err
	})
	return out, err
}

// trimmed is s without surrounding space, at most n runes.
func trimmed(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}
