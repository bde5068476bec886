package housing

import (
	"context"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/ent/unit"
	"linli/internal/errs"
	"linli/internal/store"
	"linli/internal/validate"
)

// UnitInput creates or changes a unit; nil fields stay as they are.
type UnitInput struct {
	BuildingID  int // create only
	Number      *int
	Name        *string
	Type        *string // "normal" 普通单元 or "villa" 别墅单元
	DeviceCount *int    // door stations (门口机) of the unit
}

func (in *UnitInput) check() error {
	if in.Number != nil {
		if err := validate.Range("number", "单元编号", *in.Number, 1, MaxUnitNumber); err != nil {
			return err
		}
	}
	if in.Name != nil {
		v, err := validate.Text("name", "单元名称", *in.Name, 1, MaxNameLen)
		if err != nil {
			return err
		}
		in.Name = &v
	}
	if in.Type != nil && unit.TypeValidator(unit.Type(*in.Type)) != nil {
		return errs.Field("type", "单元类型只能是 normal（普通单元）或 villa（别墅单元）")
	}
	if in.DeviceCount != nil {
		if err := validate.Range("device_count", "设备数量", *in.DeviceCount, 1, MaxDeviceCount); err != nil {
			return err
		}
	}
	return nil
}

// CreateUnit adds a unit to a building of community cid; its name defaults
// to "N单元".
//
// Errors: errs.Invalid, errs.NotFound (building), errs.Conflict (number taken).
func (s *Service) CreateUnit(ctx context.Context, cid int, in UnitInput) (*ent.Unit, error) {
	switch {
	case in.Number == nil:
		return nil, errs.Field("number", "单元编号不能为空")
	case in.DeviceCount == nil:
		return nil, errs.Field("device_count", "设备数量不能为空")
	}
	if in.Name == nil || *in.Name == "" {
		n := defaultName("", *in.Number, "单元")
		in.Name = &n
	}
	if in.Type == nil {
		t := string(unit.TypeNormal)
		in.Type = &t
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if _, err := s.community(ctx, cid); err != nil {
		return nil, err
	}
	if _, err := s.building(ctx, cid, in.BuildingID); errs.CodeOf(err) == errs.NotFound {
		return nil, errs.Field("building_id", "所选楼栋不存在")
	} else if err != nil {
		return nil, err
	}
	if err := s.unitNumberFree(ctx, in.BuildingID, *in.Number, 0); err != nil {
		return nil, err
	}
	u, err := s.db.Unit.Create().SetCommunityID(cid).SetBuildingID(in.BuildingID).SetNumber(*in.Number).
		SetName(*in.Name).SetType(unit.Type(*in.Type)).SetDeviceCount(*in.DeviceCount).Save(ctx)
	return u, store.Map(err, "单元")
}

func (s *Service) unitNumberFree(ctx context.Context, buildingID, number, except int) error {
	taken, err := s.db.Unit.Query().Where(unit.BuildingID(buildingID), unit.Number(number), unit.IDNEQ(except)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return errs.Fieldf("number", "该楼栋下已有单元编号 %d", number)
	}
	return nil
}

func (s *Service) unit(ctx context.Context, cid, id int) (*ent.Unit, error) {
	u, err := s.db.Unit.Query().Where(unit.ID(id), unit.CommunityID(cid)).Only(ctx)
	return u, store.Map(err, "单元")
}

// UpdateUnit changes unit id of community cid.
func (s *Service) UpdateUnit(ctx context.Context, cid, id int, in UnitInput) (*ent.Unit, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	u, err := s.unit(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	if in.Number != nil {
		if err := s.unitNumberFree(ctx, u.BuildingID, *in.Number, id); err != nil {
			return nil, err
		}
	}
	if in.DeviceCount != nil && *in.DeviceCount < u.DeviceCount {
		last, serial, err := s.devices.LastBoundDoor(ctx, id)
		if err != nil {
			return nil, err
		}
		if last > *in.DeviceCount {
			return nil, errs.Fieldf("device_count", "门口机%d 已绑定设备 %s，设备数量不能少于 %d；请先在设备列表中解绑", last, serial, last)
		}
	}
	upd := s.db.Unit.UpdateOneID(id).SetNillableNumber(in.Number).SetNillableName(in.Name).
		SetNillableDeviceCount(in.DeviceCount).SetUpdatedAt(time.Now())
	if in.Type != nil {
		upd.SetType(unit.Type(*in.Type))
	}
	u, err = upd.Save(ctx)
	return u, store.Map(err, "单元")
}

// DeleteUnit removes unit id.
//
// Errors: errs.NotFound, errs.Conflict when rooms remain.
func (s *Service) DeleteUnit(ctx context.Context, cid, id int) error {
	u, err := s.unit(ctx, cid, id)
	if err != nil {
		return err
	}
	rooms, err := s.db.Room.Query().Where(room.UnitID(id)).Count(ctx)
	if err != nil {
		return err
	}
	residents, err := s.db.Resident.Query().Where(resident.UnitID(id)).Count(ctx)
	if err != nil {
		return err
	}
	devices, err := s.devices.BoundInUnits(ctx, id)
	if err != nil {
		return err
	}
	if rooms > 0 || devices > 0 {
		return notEmpty(u.Name, describe(count{rooms, "房间"}, count{residents, "业主"}, count{devices, "已绑定的门口机"}))
	}
	return store.Map(s.db.Unit.DeleteOneID(id).Exec(ctx), "单元")
}
