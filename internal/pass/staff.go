package pass

import (
	"context"
	"time"

	"linli/internal/auth"
	"linli/internal/ent"
	entpass "linli/internal/ent/pass"
	"linli/internal/ent/predicate"
	"linli/internal/housing"
	"linli/internal/store"
)

// StaffPass is a pass as 访客通行 in the console shows it. The PIN and
// the QR code are not shown to staff.
type StaffPass struct {
	ID          int        `json:"id"`
	RoomID      int        `json:"room_id"`
	RoomLabel   string     `json:"room_label" doc:"房间"`
	VisitorName string     `json:"visitor_name" doc:"访客"`
	Note        string     `json:"note" doc:"备注"`
	Kind        string     `json:"kind" enum:"visitor,delivery" doc:"visitor 访客；delivery 快递"`
	ValidFrom   time.Time  `json:"valid_from"`
	ValidTo     time.Time  `json:"valid_to"`
	MaxUses     int        `json:"max_uses" doc:"可用次数，0 表示不限次数"`
	Uses        int        `json:"uses" doc:"已使用次数"`
	Status      string     `json:"status" enum:"有效,已用完,已撤销,已过期,未开始"`
	CreatorName string     `json:"creator_name" doc:"创建人（业主姓名）"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	RevokedBy   string     `json:"revoked_by,omitempty" doc:"撤销人：业主，或物业账号的姓名"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Filter selects passes in 访客通行.
type Filter struct {
	housing.Cascade
	Status  string `query:"status" enum:"有效,已用完,已撤销,已过期,未开始," doc:"状态；不填为全部"`
	Visitor string `query:"visitor" maxLength:"32" doc:"访客姓名（部分）"`
}

// List returns a page of the passes of community cid, newest first.
//
// Errors: errs.NotFound (community), errs.Invalid (status).
func (s *Service) List(ctx context.Context, cid int, f Filter, offset, limit int) ([]StaffPass, int, error) {
	c, err := store.Community(ctx, s.db.Client, cid)
	if err != nil {
		return nil, 0, err
	}
	ps := []predicate.Pass{entpass.CommunityID(cid)}
	ids, narrowed, err := f.Rooms(ctx, s.db.Client, cid)
	if err != nil {
		return nil, 0, err
	}
	if narrowed {
		ps = append(ps, entpass.RoomIDIn(ids...))
	}
	if f.Status != "" {
		p, err := withStatus(f.Status, s.now())
		if err != nil {
			return nil, 0, err
		}
		ps = append(ps, p)
	}
	if v := trimmed(f.Visitor, 32); v != "" {
		ps = append(ps, store.PassSearch.Contains(v))
	}
	q := s.db.Pass.Query().Where(ps...)
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	list, err := q.Order(ent.Desc(entpass.FieldCreatedAt), ent.Desc(entpass.FieldID)).Offset(offset).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.staffViews(ctx, c, list)
	return out, total, err
}

func (s *Service) staffViews(ctx context.Context, c *ent.Community, list []*ent.Pass) ([]StaffPass, error) {
	rooms := make([]int, len(list))
	for i, p := range list {
		rooms[i] = p.RoomID
	}
	labels, err := housing.RoomLabels(ctx, s.db.Client, c.Name, rooms)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]StaffPass, len(list))
	for i, p := range list {
		out[i] = StaffPass{ID: p.ID, RoomID: p.RoomID, RoomLabel: labels[p.RoomID], VisitorName: p.VisitorName, Note: p.Note,
			Kind: string(p.Kind), ValidFrom: p.ValidFrom, ValidTo: p.ValidTo, MaxUses: p.MaxUses, Uses: p.Uses,
			Status: Status(p, now), CreatorName: p.CreatorName, RevokedAt: p.RevokedAt, RevokedBy: p.RevokedBy, CreatedAt: p.CreatedAt}
	}
	return out, nil
}

// Revoke revokes pass id of community cid for staff; revoking a pass that
// was revoked already changes nothing.
//
// Errors: errs.NotFound.
func (s *Service) Revoke(ctx context.Context, cid, id int) (*StaffPass, error) {
	c, err := store.Community(ctx, s.db.Client, cid)
	if err != nil {
		return nil, err
	}
	by := "物业"
	if p := auth.Current(ctx); p != nil && p.Account != nil {
		by = trimmed(p.Account.Name, 64)
	}
	p, err := s.revoke(ctx, cid, id, by)
	if err != nil {
		return nil, err
	}
	vs, err := s.staffViews(ctx, c, []*ent.Pass{p})
	if err != nil {
		return nil, err
	}
	return &vs[0], nil
}
