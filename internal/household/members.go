package household

import (
	"context"
	"strconv"

	"linli/internal/ent"
	"linli/internal/ent/invitation"
	entresident "linli/internal/ent/resident"
	"linli/internal/errs"
	"linli/internal/phone"
	"linli/internal/resident"
)

// Member is a resident of a room as the room's residents see it.
type Member struct {
	ResidentID  int     `json:"resident_id"`
	Name        string  `json:"name"`
	PhoneMasked string  `json:"phone_masked" doc:"手机号（打码），如 138****0000"`
	Role        string  `json:"role"`
	Origin      string  `json:"origin" enum:"物业添加,导入,申请,业主邀请" doc:"来源"`
	AccessUntil *string `json:"access_until" format:"date" nullable:"true" doc:"有效期至（含当天）；null 表示长期"`
	IsMe        bool    `json:"is_me" doc:"是否是我自己"`
}

// Members are a room's residents and, for its 业主, the room's invitations.
type Members struct {
	Items       []Member     `json:"items"`
	Invitations []Invitation `json:"invitations" doc:"本房间的邀请（仅业主可见），最新在前"`
}

// MaxInvitationsShown is how many invitations the member list shows.
const MaxInvitationsShown = 50

// List returns the residents of room roomID of the signed-in resident, in
// the order they came, and the room's invitations when they are its 业主.
//
// Errors: errs.NotFound (not the resident's room).
func (s *Service) List(ctx context.Context, roomID int) (*Members, error) {
	me, err := s.myRow(ctx, roomID)
	if err != nil {
		return nil, err
	}
	rs, err := s.db.Resident.Query().Where(entresident.RoomID(roomID), entresident.CommunityID(me.CommunityID)).
		Order(ent.Asc(entresident.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := &Members{Items: make([]Member, 0, len(rs)), Invitations: []Invitation{}}
	for _, r := range rs {
		out.Items = append(out.Items, Member{ResidentID: r.ID, Name: r.Name, PhoneMasked: phone.Mask(r.Phone), Role: r.Role,
			Origin: resident.OriginLabel(r.Origin), AccessUntil: resident.AccessDate(r.AccessUntil), IsMe: r.ID == me.ID})
	}
	if me.Role != OwnerRole {
		return out, nil
	}
	vs, err := s.db.Invitation.Query().Where(invitation.RoomID(roomID), invitation.CommunityID(me.CommunityID)).
		Order(ent.Desc(invitation.FieldCreatedAt), ent.Desc(invitation.FieldID)).Limit(MaxInvitationsShown).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		out.Invitations = append(out.Invitations, viewInvitation(v))
	}
	return out, nil
}

// Remove removes resident id from room roomID of the signed-in 业主, with
// the same deletion staff use: cards go blank and faces leave every device
// in the same transaction.
//
// Errors: errs.NotFound (not the room, or not a resident of it),
// errs.Forbidden (not the 业主; removing oneself or another 业主).
func (s *Service) Remove(ctx context.Context, roomID, id int) error {
	owner, err := s.ownerRow(ctx, roomID)
	if err != nil {
		return err
	}
	r, err := s.db.Resident.Query().Where(entresident.ID(id), entresident.RoomID(roomID), entresident.CommunityID(owner.CommunityID)).Only(ctx)
	if ent.IsNotFound(err) {
		return errs.New(errs.NotFound, "该住户不存在或不在本房间")
	}
	if err != nil {
		return err
	}
	switch {
	case r.ID == owner.ID:
		return errs.New(errs.Forbidden, "不能移除自己；如需迁出请联系物业")
	case r.Role == OwnerRole:
		return errs.New(errs.Forbidden, "不能移除本房间的其他业主，请联系物业")
	}
	return s.residents.RemovedByOwner(ctx, r.CommunityID, r.ID, owner.Name)
}

func itoa(n int) string { return strconv.Itoa(n) }
