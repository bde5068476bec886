package pass

import (
	"context"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/device"
	entpass "linli/internal/ent/pass"
	"linli/internal/ent/resident"
	"linli/internal/errs"
	"linli/internal/household"
	"linli/internal/validate"
)

// Input is a pass a resident asks for. Nil times and uses take the
// defaults of the kind: a delivery code opens once, from now for 24 hours.
type Input struct {
	RoomID      int
	VisitorName string
	Note        string
	Kind        string
	ValidFrom   *time.Time
	ValidTo     *time.Time
	MaxUses     *int
	DoorID      *int
}

// check validates in at now and fills in the defaults of its kind.
func (in *Input) check(now time.Time) error {
	in.VisitorName, in.Note = strings.TrimSpace(in.VisitorName), strings.TrimSpace(in.Note)
	switch n := len([]rune(in.VisitorName)); {
	case n == 0:
		return errs.Field("visitor_name", "请填写访客姓名")
	case n > 32:
		return errs.Fieldf("visitor_name", "访客姓名最多 32 个字，现在是 %d 个", n)
	}
	if n := len([]rune(in.Note)); n > 100 {
		return errs.Fieldf("note", "备注最多 100 个字，现在是 %d 个", n)
	}
	if err := validate.First(validate.Visible("visitor_name", "访客姓名", in.VisitorName), validate.Visible("note", "备注", in.Note)); err != nil {
		return err
	}
	switch in.Kind {
	case KindVisitor:
		if in.ValidTo == nil {
			return errs.Field("valid_to", "请选择有效期的结束时间（最长 7 天以内）")
		}
		if in.MaxUses == nil {
			return errs.Field("max_uses", "请填写可用次数（0 表示有效期内不限次数）")
		}
	case KindDelivery:
		if in.ValidTo == nil {
			to := now.Add(DeliveryWindow)
			if in.ValidFrom != nil {
				to = in.ValidFrom.Add(DeliveryWindow)
			}
			in.ValidTo = &to
		}
		if in.MaxUses == nil {
			one := 1
			in.MaxUses = &one
		}
	default:
		return errs.Field("kind", "类型只能是 visitor（访客）或 delivery（快递）")
	}
	if in.ValidFrom == nil {
		from := now
		in.ValidFrom = &from
	}
	from, to := *in.ValidFrom, *in.ValidTo
	switch {
	case !to.After(now):
		return errs.Field("valid_to", "有效期已经过去，请选择现在以后的结束时间")
	case !to.After(from):
		return errs.Field("valid_to", "结束时间应晚于开始时间")
	case to.After(now.Add(MaxAhead)):
		return errs.Field("valid_to", "有效期最长到 7 天以后，请选择更早的结束时间")
	case *in.MaxUses < 0:
		return errs.Field("max_uses", "可用次数不能为负数；0 表示有效期内不限次数")
	case *in.MaxUses > MaxUses:
		return errs.Fieldf("max_uses", "可用次数最多 %d 次；需要更多请填 0（有效期内不限次数）", MaxUses)
	}
	return nil
}

// myResident returns the resident row of the app's phone in room roomID.
//
// Errors: errs.NotFound (not a room of the phone).
func (s *Service) myResident(ctx context.Context, roomID int) (*ent.Resident, error) {
	a, _ := actor.From(ctx)
	r, err := s.db.Resident.Query().Where(resident.Phone(a.Phone), resident.RoomID(roomID), household.Current(s.now())).First(ctx)
	if ent.IsNotFound(err) || a.Phone == "" {
		return nil, errs.New(errs.NotFound, "房间不存在或不是您的房间")
	}
	return r, err
}

// Create makes a pass for a room of the resident of ctx. Its PIN differs
// from the PIN of every other pass of the community that may still open.
//
// Errors: errs.Invalid (fields, window, uses), errs.NotFound (not my room,
// not a door of my room), errs.TooMany (too many open passes in the room).
func (s *Service) Create(ctx context.Context, in Input) (*Pass, error) {
	now := s.now()
	if err := in.check(now); err != nil {
		return nil, err
	}
	r, err := s.myResident(ctx, in.RoomID)
	if err != nil {
		return nil, err
	}
	if in.DoorID != nil {
		// The door of a delivery code: a door station of the room's unit or
		// a wall station of its community.
		ok, err := s.db.Device.Query().Where(device.ID(*in.DoorID), device.CommunityID(r.CommunityID),
			device.Or(device.And(device.KindEQ(device.KindDoor), device.UnitID(r.UnitID)), device.KindEQ(device.KindWall))).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errs.New(errs.NotFound, "门禁设备不存在或不能开您房间的门")
		}
	}
	var created *ent.Pass
	err = s.db.InTx(ctx, func(tx *ent.Tx) error {
		// One PIN check at a time per community, so that two new passes
		// cannot take the same PIN.
		if err := s.db.Lock(ctx, tx, "pass-pin:"+itoa(r.CommunityID)); err != nil {
			return err
		}
		open := entpass.And(entpass.RevokedAtIsNil(), entpass.ValidToGT(now))
		n, err := tx.Pass.Query().Where(entpass.RoomID(r.RoomID), open, usable()).Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxActivePerRoom {
			return errs.Newf(errs.TooMany, "本房间同时有效的通行证最多 %d 张，请先撤销不再需要的通行证", MaxActivePerRoom)
		}
		pin, err := s.freshPIN(ctx, tx, r.CommunityID, now)
		if err != nil {
			return err
		}
		created, err = tx.Pass.Create().SetCommunityID(r.CommunityID).SetRoomID(r.RoomID).SetUnitID(r.UnitID).
			SetResidentID(r.ID).SetPhone(r.Phone).SetCreatorName(r.Name).SetVisitorName(in.VisitorName).SetNote(in.Note).
			SetKind(entpass.Kind(in.Kind)).SetNillableDoorID(in.DoorID).SetValidFrom(*in.ValidFrom).SetValidTo(*in.ValidTo).
			SetMaxUses(*in.MaxUses).SetPin(pin).SetQrToken(randomToken(18)).SetShareToken(randomToken(18)).
			SetCreatedAt(now).Save(ctx)
		if err != nil {
			return err
		}
		return s.changed(ctx, tx, r.CommunityID, created.ID)
	})
	if err != nil {
		return nil, err
	}
	vs, err := s.views(ctx, []*ent.Pass{created})
	if err != nil {
		return nil, err
	}
	return &vs[0], nil
}

// freshPIN returns a PIN that no pass of community cid that may still open
// has; a collision draws again.
func (s *Service) freshPIN(ctx context.Context, tx *ent.Tx, cid int, now time.Time) (string, error) {
	for range pinAttempts {
		pin, err := s.pins()
		if err != nil {
			return "", err
		}
		taken, err := tx.Pass.Query().Where(entpass.CommunityID(cid), entpass.Pin(pin), entpass.RevokedAtIsNil(),
			entpass.ValidToGT(now), usable()).Exist(ctx)
		if err != nil {
			return "", err
		}
		if !taken {
			return pin, nil
		}
	}
	return "", errs.New(errs.TooMany, "小区内有效的通行证太多，暂时无法生成不重复的密码，请稍后再试")
}
