package household

import (
	"context"
	"slices"
	"time"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/ent/invitation"
	entresident "linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/errs"
	"linli/internal/housing"
	"linli/internal/phone"
	"linli/internal/region"
	"linli/internal/resident"
	"linli/internal/store"
	"linli/internal/validate"
)

// MaxNameLen is the longest invitee name.
const MaxNameLen = 32

// statusLabels are the statuses as people read them.
var statusLabels = map[invitation.Status]string{
	invitation.StatusJoined:    "已加入",
	invitation.StatusPending:   "待物业审核",
	invitation.StatusRejected:  "已拒绝",
	invitation.StatusWithdrawn: "已撤回",
}

// Invitation is an invitation as the 业主 sees it in the app.
type Invitation struct {
	ID          int       `json:"id"`
	PhoneMasked string    `json:"phone_masked" doc:"被邀请人手机号（打码），如 138****0000"`
	Name        string    `json:"name" doc:"被邀请人姓名"`
	Role        string    `json:"role" doc:"角色（本小区业主角色组中除业主外的角色）"`
	AccessUntil *string   `json:"access_until" format:"date" nullable:"true" doc:"有效期至（含当天）；null 表示长期"`
	Status      string    `json:"status" enum:"已加入,待物业审核,已拒绝,已撤回"`
	Reason      string    `json:"reason,omitempty" doc:"物业拒绝的原因"`
	CreatedAt   time.Time `json:"created_at"`
}

func viewInvitation(v *ent.Invitation) Invitation {
	return Invitation{ID: v.ID, PhoneMasked: phone.Mask(v.Phone), Name: v.Name, Role: v.Role,
		AccessUntil: resident.AccessDate(v.AccessUntil), Status: statusLabels[v.Status], Reason: v.Reason, CreatedAt: v.CreatedAt}
}

// InviteInput is what the 业主 fills in.
type InviteInput struct {
	Phone       string
	Name        string
	Role        string
	AccessUntil string // "YYYY-MM-DD" or ""
}

// Invite invites someone to room roomID of the signed-in 业主. Unless the
// community wants staff to approve invitations, the invitee becomes a
// resident of the room at once (origin 业主邀请).
//
// Errors: errs.NotFound (not the resident's room), errs.Forbidden (not the
// 业主), errs.Invalid, errs.Conflict (the phone is already in the room, or
// already invited and waiting).
func (s *Service) Invite(ctx context.Context, roomID int, in InviteInput) (*ent.Invitation, error) {
	owner, err := s.ownerRow(ctx, roomID)
	if err != nil {
		return nil, err
	}
	c, err := store.Community(ctx, s.db.Client, owner.CommunityID)
	if err != nil {
		return nil, err
	}
	ph, err := phone.Parse(in.Phone)
	if err != nil {
		return nil, errs.Field("phone", err.Error())
	}
	name, err := validate.Text("name", "姓名", in.Name, 1, MaxNameLen)
	if err != nil {
		return nil, err
	}
	invitable := Invitable(c.ResidentRoles)
	if !slices.Contains(invitable, in.Role) {
		return nil, errs.Fieldf("role", "角色“%s”不能邀请：请从 %v 中选择", in.Role, invitable)
	}
	var until *time.Time
	if in.AccessUntil != "" {
		day, err := time.ParseInLocation(time.DateOnly, in.AccessUntil, region.Time)
		if err != nil {
			return nil, errs.Fieldf("access_until", "有效期至的格式不正确：%q（应为 YYYY-MM-DD，如 2027-06-30）", in.AccessUntil)
		}
		end := resident.AccessEnd(day)
		if end.Before(s.now()) {
			return nil, errs.Field("access_until", "有效期至不能早于今天")
		}
		until = &end
	}
	now := s.now()
	var out *ent.Invitation
	err = s.db.InTx(ctx, func(tx *ent.Tx) error {
		if err := s.db.Lock(ctx, tx, "room-members:"+itoa(roomID)); err != nil {
			return err
		}
		if err := phoneFree(ctx, tx, roomID, ph); err != nil {
			return err
		}
		status := invitation.StatusJoined
		if c.InviteNeedsApproval {
			status = invitation.StatusPending
		}
		v, err := tx.Invitation.Create().SetCommunityID(c.ID).SetRoomID(roomID).SetInviterID(owner.ID).
			SetInviterName(owner.Name).SetPhone(ph).SetName(name).SetRole(in.Role).SetNillableAccessUntil(until).
			SetStatus(status).SetCreatedAt(now).SetUpdatedAt(now).Save(ctx)
		if err != nil {
			return err
		}
		if status == invitation.StatusJoined {
			r, err := join(ctx, tx, v)
			if err != nil {
				return err
			}
			if v, err = tx.Invitation.UpdateOneID(v.ID).SetResidentID(r.ID).Save(ctx); err != nil {
				return err
			}
		}
		out = v
		return nil
	})
	return out, err
}

// Invitable returns the roles a 业主 may invite: the community's roles
// except 业主.
func Invitable(roles []string) []string {
	out := []string{}
	for _, r := range roles {
		if r != OwnerRole {
			out = append(out, r)
		}
	}
	return out
}

// phoneFree checks, inside tx, that ph is neither a resident of room roomID
// nor invited to it and waiting for approval.
func phoneFree(ctx context.Context, tx *ent.Tx, roomID int, ph string) error {
	in, err := tx.Resident.Query().Where(entresident.RoomID(roomID), entresident.Phone(ph)).Exist(ctx)
	if err != nil {
		return err
	}
	if in {
		return errs.New(errs.Conflict, "该手机号已是本房间的住户")
	}
	waiting, err := tx.Invitation.Query().Where(invitation.RoomID(roomID), invitation.Phone(ph), invitation.StatusEQ(invitation.StatusPending)).Exist(ctx)
	if err != nil {
		return err
	}
	if waiting {
		return errs.New(errs.Conflict, "该手机号已被邀请，正在等待物业审核")
	}
	return nil
}

// join creates, inside tx, the resident that invitation v brings.
func join(ctx context.Context, tx *ent.Tx, v *ent.Invitation) (*ent.Resident, error) {
	rm, err := tx.Room.Query().Where(room.ID(v.RoomID), room.CommunityID(v.CommunityID)).WithUnit(housing.WithUnitPath).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.Conflict, "该房间已被删除，不能加入")
	}
	if err != nil {
		return nil, err
	}
	b := rm.Edges.Unit.Edges.Building
	r, err := tx.Resident.Create().SetCommunityID(v.CommunityID).SetRoomID(rm.ID).
		SetAreaID(b.AreaID).SetBuildingID(b.ID).SetUnitID(rm.UnitID).
		SetName(v.Name).SetPhone(v.Phone).SetRole(v.Role).SetNillableAccessUntil(v.AccessUntil).
		SetOrigin(entresident.OriginInvitation).Save(ctx)
	return r, store.Map(err, "住户")
}

// Withdraw withdraws pending invitation id of room roomID (撤回).
//
// Errors: errs.NotFound, errs.Forbidden (not the 业主), errs.Conflict (no
// longer pending).
func (s *Service) Withdraw(ctx context.Context, roomID, id int) error {
	if _, err := s.ownerRow(ctx, roomID); err != nil {
		return err
	}
	n, err := s.db.Invitation.Update().Where(invitation.ID(id), invitation.RoomID(roomID), invitation.StatusEQ(invitation.StatusPending)).
		SetStatus(invitation.StatusWithdrawn).SetUpdatedAt(s.now()).Save(ctx)
	if err != nil || n == 1 {
		return err
	}
	if ok, err := s.db.Invitation.Query().Where(invitation.ID(id), invitation.RoomID(roomID)).Exist(ctx); err != nil {
		return err
	} else if !ok {
		return errs.New(errs.NotFound, "邀请不存在")
	}
	return errs.New(errs.Conflict, "该邀请已处理，不能撤回")
}

// Pending lists the invitations of community cid with status (all when
// ""), newest first, for staff.
func (s *Service) Pending(ctx context.Context, cid int, status string, offset, limit int) ([]*ent.Invitation, int, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, 0, err
	}
	q := s.db.Invitation.Query().Where(invitation.CommunityID(cid))
	if status != "" {
		q.Where(invitation.StatusEQ(invitation.Status(status)))
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	items, err := q.Order(ent.Desc(invitation.FieldCreatedAt), ent.Desc(invitation.FieldID)).Offset(offset).Limit(limit).All(ctx)
	return items, total, err
}

// getForStaff returns invitation id of community cid.
func (s *Service) getForStaff(ctx context.Context, cid, id int) (*ent.Invitation, error) {
	v, err := s.db.Invitation.Query().Where(invitation.ID(id), invitation.CommunityID(cid)).Only(ctx)
	return v, store.Map(err, "邀请")
}

// Approve lets the invitee of pending invitation id of community cid in:
// they become a resident of the room (origin 业主邀请).
//
// Errors: errs.NotFound, errs.Conflict (not pending, the phone meanwhile in
// the room, or the inviter no longer the room's 业主).
func (s *Service) Approve(ctx context.Context, cid, id int) (*ent.Invitation, error) {
	err := s.db.InTx(ctx, func(tx *ent.Tx) error {
		v, err := tx.Invitation.Query().Where(invitation.ID(id), invitation.CommunityID(cid)).Only(ctx)
		if err != nil {
			return store.Map(err, "邀请")
		}
		if err := s.db.Lock(ctx, tx, "room-members:"+itoa(v.RoomID)); err != nil {
			return err
		}
		if v.Status != invitation.StatusPending {
			return errs.New(errs.Conflict, "该邀请已处理，不能重复审核")
		}
		inviter, err := tx.Resident.Query().Where(entresident.ID(v.InviterID), entresident.RoomID(v.RoomID), entresident.Role(OwnerRole)).Exist(ctx)
		if err != nil {
			return err
		}
		if !inviter {
			return errs.New(errs.Conflict, "邀请人已不是该房间的业主，不能通过；请拒绝该邀请")
		}
		if in, err := tx.Resident.Query().Where(entresident.RoomID(v.RoomID), entresident.Phone(v.Phone)).Exist(ctx); err != nil {
			return err
		} else if in {
			return errs.New(errs.Conflict, "该手机号已是本房间的住户")
		}
		r, err := join(ctx, tx, v)
		if err != nil {
			return err
		}
		return s.decide(ctx, tx, v, invitation.StatusJoined, "", &r.ID)
	})
	if err != nil {
		return nil, err
	}
	s.decided(ctx, id)
	return s.getForStaff(ctx, cid, id)
}

// Reject refuses pending invitation id of community cid with a reason the
// 业主 reads in the app.
//
// Errors: errs.NotFound, errs.Invalid (no reason), errs.Conflict.
func (s *Service) Reject(ctx context.Context, cid, id int, reason string) (*ent.Invitation, error) {
	reason, err := validate.Text("reason", "拒绝原因", reason, 1, 200)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *ent.Tx) error {
		v, err := tx.Invitation.Query().Where(invitation.ID(id), invitation.CommunityID(cid)).Only(ctx)
		if err != nil {
			return store.Map(err, "邀请")
		}
		if v.Status != invitation.StatusPending {
			return errs.New(errs.Conflict, "该邀请已处理，不能重复审核")
		}
		return s.decide(ctx, tx, v, invitation.StatusRejected, reason, nil)
	})
	if err != nil {
		return nil, err
	}
	s.decided(ctx, id)
	return s.getForStaff(ctx, cid, id)
}

func (s *Service) decide(ctx context.Context, tx *ent.Tx, v *ent.Invitation, status invitation.Status, reason string, residentID *int) error {
	u := tx.Invitation.Update().Where(invitation.ID(v.ID), invitation.StatusEQ(invitation.StatusPending)).
		SetStatus(status).SetReason(reason).SetNillableResidentID(residentID).SetDecidedAt(s.now()).SetUpdatedAt(s.now())
	if p := auth.Current(ctx); p != nil {
		u.SetDecidedBy(p.Account.ID)
	}
	n, err := u.Save(ctx)
	if err == nil && n == 0 {
		err = errs.New(errs.Conflict, "该邀请已处理，不能重复审核")
	}
	return err
}
