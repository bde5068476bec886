package housing

import (
	"context"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/area"
	"linli/internal/ent/building"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/ent/unit"
	"linli/internal/errs"
	"linli/internal/store"
	"linli/internal/validate"
)

// AreaInput creates or changes an area; nil fields stay as they are.
type AreaInput struct {
	Number        *int
	Name          *string
	ParkingLotNo  *string
	ParkingLotKey *string
}

func (in *AreaInput) check() error {
	if in.Number != nil {
		if err := validate.Range("number", "区域编号", *in.Number, 1, MaxAreaNumber); err != nil {
			return err
		}
		if in.Name != nil && *in.Name == "" {
			n := defaultName("", *in.Number, "区")
			in.Name = &n
		}
	}
	for _, f := range []struct {
		p            **string
		field, label string
		min, max     int
	}{
		{&in.Name, "name", "区域名称", 1, MaxNameLen},
		{&in.ParkingLotNo, "parking_lot_no", "车场编号", 0, 64},
		{&in.ParkingLotKey, "parking_lot_key", "车场密钥", 0, 128},
	} {
		if *f.p == nil {
			continue
		}
		v, err := validate.Text(f.field, f.label, **f.p, f.min, f.max)
		if err != nil {
			return err
		}
		*f.p = &v
	}
	return nil
}

// CreateArea adds an area to community cid; its name defaults to "N区".
//
// Errors: errs.Invalid, errs.NotFound (community), errs.Conflict (number taken).
func (s *Service) CreateArea(ctx context.Context, cid int, in AreaInput) (*ent.Area, error) {
	if in.Number == nil {
		return nil, errs.Field("number", "区域编号不能为空")
	}
	if in.Name == nil || *in.Name == "" {
		n := defaultName("", *in.Number, "区")
		in.Name = &n
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if _, err := s.community(ctx, cid); err != nil {
		return nil, err
	}
	if err := s.areaNumberFree(ctx, cid, *in.Number, 0); err != nil {
		return nil, err
	}
	a, err := s.db.Area.Create().SetCommunityID(cid).SetNumber(*in.Number).SetName(*in.Name).
		SetNillableParkingLotNo(in.ParkingLotNo).SetNillableParkingLotKey(in.ParkingLotKey).Save(ctx)
	return a, store.Map(err, "区域")
}

func (s *Service) areaNumberFree(ctx context.Context, cid, number, except int) error {
	taken, err := s.db.Area.Query().Where(area.CommunityID(cid), area.Number(number), area.IDNEQ(except)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return errs.Fieldf("number", "区域编号 %d 已存在", number)
	}
	return nil
}

// area returns area id of community cid.
func (s *Service) area(ctx context.Context, cid, id int) (*ent.Area, error) {
	a, err := s.db.Area.Query().Where(area.ID(id), area.CommunityID(cid)).Only(ctx)
	return a, store.Map(err, "区域")
}

// UpdateArea changes area id of community cid.
func (s *Service) UpdateArea(ctx context.Context, cid, id int, in AreaInput) (*ent.Area, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	if _, err := s.area(ctx, cid, id); err != nil {
		return nil, err
	}
	if in.Number != nil {
		if err := s.areaNumberFree(ctx, cid, *in.Number, id); err != nil {
			return nil, err
		}
	}
	a, err := s.db.Area.UpdateOneID(id).SetNillableNumber(in.Number).SetNillableName(in.Name).
		SetNillableParkingLotNo(in.ParkingLotNo).SetNillableParkingLotKey(in.ParkingLotKey).
		SetUpdatedAt(time.Now()).Save(ctx)
	return a, store.Map(err, "区域")
}

// DeleteArea removes area id with its empty buildings and units.
//
// Errors: errs.NotFound, errs.Conflict when rooms remain (says how many).
func (s *Service) DeleteArea(ctx context.Context, cid, id int) error {
	a, err := s.area(ctx, cid, id)
	if err != nil {
		return err
	}
	rooms, err := s.db.Room.Query().Where(room.HasUnitWith(unit.HasBuildingWith(building.AreaID(id)))).Count(ctx)
	if err != nil {
		return err
	}
	residents, err := s.db.Resident.Query().Where(resident.AreaID(id)).Count(ctx)
	if err != nil {
		return err
	}
	unitIDs, err := s.db.Unit.Query().Where(unit.HasBuildingWith(building.AreaID(id))).IDs(ctx)
	if err != nil {
		return err
	}
	devices, err := s.devices.BoundInUnits(ctx, unitIDs...)
	if err != nil {
		return err
	}
	if rooms > 0 || devices > 0 {
		buildings, err := s.db.Building.Query().Where(building.AreaID(id)).Count(ctx)
		if err != nil {
			return err
		}
		units, err := s.db.Unit.Query().Where(unit.HasBuildingWith(building.AreaID(id))).Count(ctx)
		if err != nil {
			return err
		}
		return notEmpty(a.Name, describe(count{buildings, "楼栋"}, count{units, "单元"}, count{rooms, "房间"}, count{residents, "业主"}, count{devices, "已绑定的门口机"}))
	}
	return s.db.InTx(ctx, func(tx *ent.Tx) error {
		if _, err := tx.Unit.Delete().Where(unit.HasBuildingWith(building.AreaID(id))).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.Building.Delete().Where(building.AreaID(id)).Exec(ctx); err != nil {
			return err
		}
		return store.Map(tx.Area.DeleteOneID(id).Exec(ctx), "区域")
	})
}
