package housing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/errs"
	"linli/internal/store"
	"linli/internal/validate"
)

// RoomInput creates or changes one room.
type RoomInput struct {
	UnitID int // create only
	Floor  *int
	Number *int
}

func (in RoomInput) check() error {
	if in.Floor != nil {
		if err := validate.Range("floor", "楼层编号", *in.Floor, 1, MaxFloor); err != nil {
			return err
		}
	}
	if in.Number != nil {
		if err := validate.Range("number", "房间编号", *in.Number, 1, MaxRoomNumber); err != nil {
			return err
		}
	}
	return nil
}

// CreateRoom adds one room to a unit of community cid.
//
// Errors: errs.Invalid, errs.NotFound (unit), errs.Conflict (room exists).
func (s *Service) CreateRoom(ctx context.Context, cid int, in RoomInput) (*ent.Room, error) {
	switch {
	case in.Floor == nil:
		return nil, errs.Field("floor", "楼层编号不能为空")
	case in.Number == nil:
		return nil, errs.Field("number", "房间编号不能为空")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if _, err := s.community(ctx, cid); err != nil {
		return nil, err
	}
	if _, err := s.unit(ctx, cid, in.UnitID); errs.CodeOf(err) == errs.NotFound {
		return nil, errs.Field("unit_id", "所选单元不存在")
	} else if err != nil {
		return nil, err
	}
	if err := s.roomFree(ctx, in.UnitID, *in.Floor, *in.Number, 0); err != nil {
		return nil, err
	}
	r, err := s.db.Room.Create().SetCommunityID(cid).SetUnitID(in.UnitID).
		SetFloor(*in.Floor).SetNumber(*in.Number).Save(ctx)
	return r, store.Map(err, "房间")
}

func (s *Service) roomFree(ctx context.Context, unitID, floor, number, except int) error {
	taken, err := s.db.Room.Query().Where(room.UnitID(unitID), room.Floor(floor), room.Number(number), room.IDNEQ(except)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return errs.Fieldf("number", "该单元已有房间 %s", RoomNo(floor, number))
	}
	return nil
}

func (s *Service) room(ctx context.Context, cid, id int) (*ent.Room, error) {
	r, err := s.db.Room.Query().Where(room.ID(id), room.CommunityID(cid)).Only(ctx)
	return r, store.Map(err, "房间")
}

// UpdateRoom changes the floor or number of room id.
func (s *Service) UpdateRoom(ctx context.Context, cid, id int, in RoomInput) (*ent.Room, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	r, err := s.room(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	floor, number := r.Floor, r.Number
	if in.Floor != nil {
		floor = *in.Floor
	}
	if in.Number != nil {
		number = *in.Number
	}
	if err := s.roomFree(ctx, r.UnitID, floor, number, id); err != nil {
		return nil, err
	}
	r, err = s.db.Room.UpdateOneID(id).SetFloor(floor).SetNumber(number).SetUpdatedAt(time.Now()).Save(ctx)
	return r, store.Map(err, "房间")
}

// DeleteRoom removes room id.
//
// Errors: errs.NotFound, errs.Conflict when residents live there.
func (s *Service) DeleteRoom(ctx context.Context, cid, id int) error {
	r, err := s.room(ctx, cid, id)
	if err != nil {
		return err
	}
	residents, err := s.db.Resident.Query().Where(resident.RoomID(id)).Count(ctx)
	if err != nil {
		return err
	}
	if residents > 0 {
		return errs.Newf(errs.Conflict, "房间 %s 还有 %d 个业主，请先删除业主后再删除房间", RoomNo(r.Floor, r.Number), residents)
	}
	if monitors, err := s.devices.BoundInRoom(ctx, id); err != nil {
		return err
	} else if monitors > 0 {
		return errs.Newf(errs.Conflict, "房间 %s 的室内分机已绑定，请先在设备列表中解绑", RoomNo(r.Floor, r.Number))
	}
	return store.Map(s.db.Room.DeleteOneID(id).Exec(ctx), "房间")
}

// RoomFilter selects rooms of a community.
type RoomFilter struct {
	UnitID int // 0: every unit
	Floor  int // 0: every floor
}

// ListRooms returns a page of rooms of community cid, by unit, floor and
// number, with their units, buildings and areas loaded for labels.
func (s *Service) ListRooms(ctx context.Context, cid int, f RoomFilter, offset, limit int) ([]*ent.Room, int, error) {
	q := s.db.Room.Query().Where(room.CommunityID(cid))
	if f.UnitID > 0 {
		q.Where(room.UnitID(f.UnitID))
	}
	if f.Floor > 0 {
		q.Where(room.Floor(f.Floor))
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	rooms, err := q.Order(ent.Asc(room.FieldUnitID), ent.Asc(room.FieldFloor), ent.Asc(room.FieldNumber)).
		Offset(offset).Limit(limit).
		WithUnit(WithUnitPath).All(ctx)
	return rooms, total, err
}

// RoomLabel returns the location label of a room loaded by ListRooms.
func RoomLabel(communityName string, r *ent.Room) string {
	u := r.Edges.Unit
	if u == nil || u.Edges.Building == nil || u.Edges.Building.Edges.Area == nil {
		return Label(communityName, RoomNo(r.Floor, r.Number))
	}
	b := u.Edges.Building
	return Label(communityName, b.Edges.Area.Name, b.Name, u.Name, RoomNo(r.Floor, r.Number))
}

// maxListedCollisions bounds how many colliding rooms an error lists.
const maxListedCollisions = 20

// BatchRooms adds the rooms of floors × perFloor (0101 … FFRR) that unit
// uid does not have yet: rooms added one by one before are kept and
// skipped (批量添加本单元的全部房间). It returns how many were added and
// skipped.
//
// Errors: errs.Invalid (limits), errs.NotFound (unit), errs.Conflict (every
// room exists already).
func (s *Service) BatchRooms(ctx context.Context, cid, uid, floors, perFloor int) (created, skipped int, err error) {
	if err := validate.First(
		validate.Range("floors", "楼层数", floors, 1, MaxFloor),
		validate.Range("rooms_per_floor", "每层房间数", perFloor, 1, MaxBatchPerFloor),
	); err != nil {
		return 0, 0, err
	}
	if floors*perFloor > MaxBatchRooms {
		return 0, 0, errs.Fieldf("rooms_per_floor", "一次最多批量添加 %d 个房间（%d 层 × %d 间 = %d）", MaxBatchRooms, floors, perFloor, floors*perFloor)
	}
	if _, err := s.unit(ctx, cid, uid); err != nil {
		return 0, 0, err
	}
	err = s.db.InTx(ctx, func(tx *ent.Tx) error {
		existing, err := tx.Room.Query().Where(room.UnitID(uid), room.FloorLTE(floors), room.NumberLTE(perFloor)).
			Order(ent.Asc(room.FieldFloor), ent.Asc(room.FieldNumber)).All(ctx)
		if err != nil {
			return err
		}
		if len(existing) == floors*perFloor {
			return collisionError(existing)
		}
		have := make(map[[2]int]bool, len(existing))
		for _, r := range existing {
			have[[2]int{r.Floor, r.Number}] = true
		}
		skipped = len(existing)
		const chunk = 500
		builders := make([]*ent.RoomCreate, 0, chunk)
		flush := func() error {
			if len(builders) == 0 {
				return nil
			}
			err := tx.Room.CreateBulk(builders...).Exec(ctx)
			created += len(builders)
			builders = builders[:0]
			return err
		}
		for f := 1; f <= floors; f++ {
			for n := 1; n <= perFloor; n++ {
				if have[[2]int{f, n}] {
					continue
				}
				builders = append(builders, tx.Room.Create().SetCommunityID(cid).SetUnitID(uid).SetFloor(f).SetNumber(n))
				if len(builders) == chunk {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		return flush()
	})
	if err != nil {
		return 0, 0, store.Map(err, "房间")
	}
	return created, skipped, nil
}

func collisionError(existing []*ent.Room) error {
	var nos []string
	for i, r := range existing {
		if i == maxListedCollisions {
			nos = append(nos, fmt.Sprintf("等共 %d 间", len(existing)))
			break
		}
		nos = append(nos, RoomNo(r.Floor, r.Number))
	}
	return errs.Newf(errs.Conflict, "这些房间都已存在，没有要添加的房间：%s", strings.Join(nos, "、"))
}
