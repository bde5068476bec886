// Package resident manages residents (业主): owners, family members and
// tenants of rooms, their app permissions and personal data. ID numbers are
// sealed at rest and shown masked; revealing one writes an audit row.
package resident

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/errs"
	"linli/internal/housing"
	"linli/internal/idnumber"
	"linli/internal/imaging"
	"linli/internal/phone"
	"linli/internal/region"
	"linli/internal/secret"
	"linli/internal/store"
	"linli/internal/validate"
)

// Access keeps device whitelists in step with residents. Its methods run
// inside the transaction that changes or deletes a resident, so that the
// consequences for access hold exactly when the change does: a deleted
// resident's cards and face leave every whitelist, a moved resident's
// cards move, a changed face permission resends the face entry. An error
// rolls the whole change back. The whitelist implements it.
type Access interface {
	ResidentChanged(ctx context.Context, tx *ent.Tx, r *ent.Resident) error
	ResidentDeleted(ctx context.Context, tx *ent.Tx, r *ent.Resident) error
}

// Service manages residents.
type Service struct {
	db       *store.Store
	box      *secret.Box
	files    Files
	pictures *imaging.Gate
	access   Access
	logger   *slog.Logger
}

// save applies set to resident id of community cid in one transaction with
// the change hooks when access may change (hooks), and returns the resident.
func (s *Service) save(ctx context.Context, cid, id int, hooks bool, set func(u *ent.ResidentUpdateOne)) (*ent.Resident, error) {
	err := s.db.InTx(ctx, func(tx *ent.Tx) error {
		u := tx.Resident.UpdateOneID(id).SetUpdatedAt(time.Now())
		set(u)
		r, err := u.Save(ctx)
		if err != nil {
			return store.Map(err, "业主")
		}
		if hooks {
			return s.changed(ctx, tx, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, cid, id)
}

// changed tells access, inside tx, that r's room or face permission
// changed.
func (s *Service) changed(ctx context.Context, tx *ent.Tx, r *ent.Resident) error {
	if s.access == nil {
		return nil
	}
	return s.access.ResidentChanged(ctx, tx, r)
}

// Files stores face photos; the blob store implements it.
type Files interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

// NewService returns a Service that decodes face photos through pictures
// and keeps access (if not nil) in step with every change.
func NewService(db *store.Store, box *secret.Box, files Files, pictures *imaging.Gate, access Access, logger *slog.Logger) *Service {
	return &Service{db: db, box: box, files: files, pictures: pictures, access: access, logger: logger}
}

// Limits of resident fields.
const (
	MaxNameLen    = 32
	MaxAddressLen = 200
)

// Input creates or changes a resident. On update nil fields stay as they are.
type Input struct {
	RoomID       *int
	Name         *string
	Phone        *string
	Gender       *string
	Role         *string
	IDNumber     *string // "" clears it
	Email        *string
	HometownCode *string
	Address      *string
	// Origin is how the resident came (set on create only): "" is staff
	// (物业添加); the application approval passes "application".
	Origin string
}

// checked is Input after validation.
type checked struct {
	Input
	idNumber string
}

func (s *Service) check(ctx context.Context, c *ent.Community, in Input) (checked, error) {
	out := checked{Input: in}
	var err error
	if in.Name != nil {
		v, err := validate.Text("name", "姓名", *in.Name, 1, MaxNameLen)
		if err != nil {
			return out, err
		}
		out.Name = &v
	}
	if in.Phone != nil && *in.Phone != "" {
		v, perr := phone.Parse(*in.Phone)
		if perr != nil {
			return out, errs.Field("phone", perr.Error())
		}
		out.Phone = &v
	}
	if in.Gender != nil && resident.GenderValidator(resident.Gender(*in.Gender)) != nil {
		return out, errs.Field("gender", "性别只能是 male（男）、female（女）或 unknown（未填）")
	}
	if in.Role != nil {
		ok := false
		for _, r := range c.ResidentRoles {
			ok = ok || r == *in.Role
		}
		if !ok {
			return out, errs.Fieldf("role", "角色“%s”不在本小区的业主角色组中（%v）", *in.Role, c.ResidentRoles)
		}
	}
	if in.IDNumber != nil && *in.IDNumber != "" {
		out.idNumber, err = idnumber.Parse(*in.IDNumber)
		if err != nil {
			return out, errs.Field("id_number", err.Error())
		}
	}
	if in.Email != nil {
		v, err := validate.Email("email", "邮箱", *in.Email)
		if err != nil {
			return out, err
		}
		out.Email = &v
	}
	if in.HometownCode != nil && *in.HometownCode != "" {
		if _, ok := region.LookupPlace(*in.HometownCode); !ok {
			return out, errs.Field("hometown_code", "户籍城市不正确，请从列表中选择城市或区县")
		}
	}
	if in.Address != nil {
		v, err := validate.Text("address", "详细地址", *in.Address, 0, MaxAddressLen)
		if err != nil {
			return out, err
		}
		out.Address = &v
	}
	return out, nil
}

// community loads community cid as the actor sees it.
func (s *Service) community(ctx context.Context, cid int) (*ent.Community, error) {
	return store.Community(ctx, s.db.Client, cid)
}

// roomOf loads room id of community cid with its unit and building.
func (s *Service) roomOf(ctx context.Context, cid, id int) (*ent.Room, error) {
	r, err := s.db.Room.Query().Where(room.ID(id), room.CommunityID(cid)).WithUnit(housing.WithUnitPath).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errs.Field("room_id", "所选房间不存在，请重新选择区域/楼栋/单元/楼层/房号")
	}
	return r, err
}

// phoneFree checks that no other resident of room has phone.
func (s *Service) phoneFree(ctx context.Context, roomID int, ph string, except int) error {
	if ph == "" {
		return nil
	}
	taken, err := s.db.Resident.Query().Where(resident.RoomID(roomID), resident.Phone(ph), resident.IDNEQ(except)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return errs.Fieldf("phone", "该房间已有手机号为 %s 的业主", ph)
	}
	return nil
}

// Create adds a resident to a room of community cid. Name, room and role are
// required.
//
// Errors: errs.Invalid (names the field), errs.NotFound (community).
func (s *Service) Create(ctx context.Context, cid int, in Input) (*ent.Resident, error) {
	switch {
	case in.RoomID == nil:
		return nil, errs.Field("room_id", "请选择业主所在的房间")
	case in.Name == nil:
		return nil, errs.Field("name", "姓名不能为空")
	case in.Role == nil:
		return nil, errs.Field("role", "请选择角色")
	}
	c, err := s.community(ctx, cid)
	if err != nil {
		return nil, err
	}
	ch, err := s.check(ctx, c, in)
	if err != nil {
		return nil, err
	}
	rm, err := s.roomOf(ctx, cid, *in.RoomID)
	if err != nil {
		return nil, err
	}
	ph := ""
	if ch.Phone != nil {
		ph = *ch.Phone
	}
	if err := s.phoneFree(ctx, rm.ID, ph, 0); err != nil {
		return nil, err
	}
	b := rm.Edges.Unit.Edges.Building
	cr := s.db.Resident.Create().SetCommunityID(cid).SetRoomID(rm.ID).
		SetAreaID(b.AreaID).SetBuildingID(b.ID).SetUnitID(rm.UnitID).
		SetName(*ch.Name).SetPhone(ph).SetRole(*ch.Role).
		SetNillableEmail(ch.Email).SetNillableHometownCode(ch.HometownCode).SetNillableAddress(ch.Address)
	if ch.Gender != nil {
		cr.SetGender(resident.Gender(*ch.Gender))
	}
	if ch.idNumber != "" {
		cr.SetIDNumberSealed(s.box.Seal(ch.idNumber)).SetIDNumberMasked(idnumber.Mask(ch.idNumber))
	}
	if in.Origin != "" {
		cr.SetOrigin(resident.Origin(in.Origin))
	}
	r, err := cr.Save(ctx)
	if err != nil {
		return nil, store.Map(err, "业主")
	}
	return s.Get(ctx, cid, r.ID)
}

// Get returns resident id of community cid with its room path loaded.
func (s *Service) Get(ctx context.Context, cid, id int) (*ent.Resident, error) {
	r, err := s.db.Resident.Query().Where(resident.ID(id), resident.CommunityID(cid)).
		WithRoom(housing.WithRoomPath).Only(ctx)
	return r, store.Map(err, "业主")
}

// Update changes resident id. Moving to another room re-checks the phone.
func (s *Service) Update(ctx context.Context, cid, id int, in Input) (*ent.Resident, error) {
	c, err := s.community(ctx, cid)
	if err != nil {
		return nil, err
	}
	cur, err := s.Get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	ch, err := s.check(ctx, c, in)
	if err != nil {
		return nil, err
	}
	roomID, ph := cur.RoomID, cur.Phone
	var rm *ent.Room
	if ch.RoomID != nil && *ch.RoomID != cur.RoomID {
		if rm, err = s.roomOf(ctx, cid, *ch.RoomID); err != nil {
			return nil, err
		}
		roomID = rm.ID
	}
	if ch.Phone != nil {
		ph = *ch.Phone
	}
	if err := s.phoneFree(ctx, roomID, ph, id); err != nil {
		return nil, err
	}
	// Moving to another room moves the resident's access with it, in the
	// same transaction.
	return s.save(ctx, cid, id, rm != nil, func(u *ent.ResidentUpdateOne) {
		u.SetNillableName(ch.Name).SetNillableRole(ch.Role).SetNillableEmail(ch.Email).
			SetNillableHometownCode(ch.HometownCode).SetNillableAddress(ch.Address)
		if rm != nil {
			b := rm.Edges.Unit.Edges.Building
			u.SetRoomID(rm.ID).SetAreaID(b.AreaID).SetBuildingID(b.ID).SetUnitID(rm.UnitID)
		}
		if ch.Phone != nil {
			u.SetPhone(ph)
		}
		if ch.Gender != nil {
			u.SetGender(resident.Gender(*ch.Gender))
		}
		if ch.IDNumber != nil {
			if ch.idNumber == "" {
				u.ClearIDNumberSealed().SetIDNumberMasked("")
			} else {
				u.SetIDNumberSealed(s.box.Seal(ch.idNumber)).SetIDNumberMasked(idnumber.Mask(ch.idNumber))
			}
		}
	})
}

// Delete removes resident id with its face photo and records who did it;
// the delete hooks (cards, faces, device whitelists) run in the same
// transaction, so access never outlives the resident.
func (s *Service) Delete(ctx context.Context, cid, id int) error {
	return s.delete(ctx, cid, id, "")
}

// RemovedByOwner is Delete for a family member or tenant whom the room's
// 业主 owner removed in the app; the audit row says so.
func (s *Service) RemovedByOwner(ctx context.Context, cid, id int, owner string) error {
	return s.delete(ctx, cid, id, owner)
}

func (s *Service) delete(ctx context.Context, cid, id int, owner string) error {
	r, err := s.Get(ctx, cid, id)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *ent.Tx) error {
		if err := tx.Resident.DeleteOneID(id).Exec(ctx); err != nil {
			return store.Map(err, "业主")
		}
		if s.access != nil {
			if err := s.access.ResidentDeleted(ctx, tx, r); err != nil {
				return err
			}
		}
		detail := fmt.Sprintf("删除业主 %s", r.Name)
		if owner != "" {
			detail = fmt.Sprintf("业主 %s 在 APP 中移除 %s", owner, r.Name)
		}
		return s.audit(ctx, tx.Client(), cid, "delete_resident", id, detail)
	})
	if err != nil {
		return err
	}
	if r.FacePhoto != "" {
		if err := s.files.Delete(ctx, r.FacePhoto); err != nil {
			s.logger.ErrorContext(ctx, "delete face photo", "resident", id, "err", err)
		}
	}
	return nil
}

// RevealIDNumber returns the full ID number of resident id and records who
// saw it. Errors: errs.NotFound, also when the resident has none.
func (s *Service) RevealIDNumber(ctx context.Context, cid, id int) (string, error) {
	r, err := s.Get(ctx, cid, id)
	if err != nil {
		return "", err
	}
	if r.IDNumberSealed == nil || len(*r.IDNumberSealed) == 0 {
		return "", errs.New(errs.NotFound, "该业主没有登记身份证号")
	}
	v, err := s.box.Open(*r.IDNumberSealed)
	if err != nil {
		return "", fmt.Errorf("resident %d: %w", id, err)
	}
	if err := s.audit(ctx, s.db.Client, cid, "reveal_id_number", id, "查看业主 "+r.Name+" 的身份证号"); err != nil {
		return "", err
	}
	return v, nil
}

// audit writes one audit row for the signed-in account.
func (s *Service) audit(ctx context.Context, c *ent.Client, cid int, action string, targetID int, detail string) error {
	p := auth.Current(ctx)
	accID, acc := 0, "system"
	if p != nil {
		accID, acc = p.Account.ID, p.Account.Account
	}
	return c.AuditLog.Create().SetCommunityID(cid).SetAccountID(accID).SetAccount(acc).
		SetAction(action).SetTarget("resident").SetTargetID(targetID).SetDetail(detail).Exec(ctx)
}
