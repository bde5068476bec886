// Package household lets a room's 业主 manage the people of their room in
// the residents' app: invite family members and tenants by phone number
// (业主邀请), at once or after the property approves them (邀请需物业审核),
// list and remove them, and give a tenant's access an end date after which
// their cards, faces and app calls stop working by themselves. It also
// serves the resident's own face photo, uploaded after an explicit consent
// (PIPL 敏感个人信息) and withdrawn with it.
//
// It builds on internal/resident: residents are created, deleted and their
// faces changed there, so that the access hooks (cards, faces, device
// whitelists) run in the same transaction as the change.
package household

import (
	"context"
	"log/slog"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/predicate"
	entresident "linli/internal/ent/resident"
	"linli/internal/errs"
	"linli/internal/resident"
	"linli/internal/store"
)

// OwnerRole is the role of a room's owner: only they invite and remove.
const OwnerRole = "业主"

// Ended reports whether resident r's access ended before now (租户有效期至):
// their cards, faces, passes and app contacts no longer work.
func Ended(r *ent.Resident, now time.Time) bool {
	return r.AccessUntil != nil && now.After(*r.AccessUntil)
}

// Current is the predicate of residents whose access has not ended at now.
func Current(now time.Time) predicate.Resident {
	return entresident.Or(entresident.AccessUntilIsNil(), entresident.AccessUntilGTE(now))
}

// Service manages households.
type Service struct {
	db        *store.Store
	residents *resident.Service
	logger    *slog.Logger
	now       func() time.Time
	listener  Listener
}

// Listener hears of every invitation the property approved or rejected,
// after it is stored (the app pushes it to the inviting 业主).
type Listener interface {
	InvitationDecided(ctx context.Context, v *ent.Invitation)
}

// decided tells the listener about invitation id.
func (s *Service) decided(ctx context.Context, id int) {
	if s.listener == nil {
		return
	}
	if v, err := s.db.Invitation.Get(ctx, id); err == nil {
		s.listener.InvitationDecided(ctx, v)
	}
}

// NewService returns a Service that changes residents through residents
// and tells listener (if not nil) of every decided invitation.
func NewService(db *store.Store, residents *resident.Service, listener Listener, logger *slog.Logger) *Service {
	return &Service{db: db, residents: residents, listener: listener, logger: logger, now: time.Now}
}

// phoneOf returns the phone of the signed-in app user.
func phoneOf(ctx context.Context) (string, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Resident || a.Phone == "" {
		return "", errs.New(errs.Unauthorized, "登录已失效，请重新登录")
	}
	return a.Phone, nil
}

// errNoRoom is the answer for a room that is not the resident's.
var errNoRoom = errs.New(errs.NotFound, "房间不存在或不是您的房间")

// myRow returns the signed-in resident's current row in room roomID.
//
// Errors: errs.NotFound (not their room, or their access ended).
func (s *Service) myRow(ctx context.Context, roomID int) (*ent.Resident, error) {
	p, err := phoneOf(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.db.Resident.Query().Where(entresident.RoomID(roomID), entresident.Phone(p), Current(s.now())).First(ctx)
	if ent.IsNotFound(err) {
		return nil, errNoRoom
	}
	return r, err
}

// ownerRow is myRow for an action only the room's 业主 may take.
//
// Errors: errs.NotFound, errs.Forbidden (not the 业主).
func (s *Service) ownerRow(ctx context.Context, roomID int) (*ent.Resident, error) {
	r, err := s.myRow(ctx, roomID)
	if err != nil {
		return nil, err
	}
	if r.Role != OwnerRole {
		return nil, errs.New(errs.Forbidden, "只有本房间的业主可以管理家人和租户")
	}
	return r, nil
}
