package housing

import (
	"context"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/building"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/ent/unit"
	"linli/internal/errs"
	"linli/internal/store"
	"linli/internal/validate"
)

// BuildingInput creates or changes a building; nil fields stay as they are.
type BuildingInput struct {
	AreaID int // create only
	Number *int
	Name   *string
}

func (in *BuildingInput) check() error {
	if in.Number != nil {
		if err := validate.Range("number", "楼栋编号", *in.Number, 1, MaxBuildingNumber); err != nil {
			return err
		}
	}
	if in.Name != nil {
		v, err := validate.Text("name", "楼栋名称", *in.Name, 1, MaxNameLen)
		if err != nil {
			return err
		}
		in.Name = &v
	}
	return nil
}

// CreateBuilding adds a building to an area of community cid; its name
// defaults to "N栋".
//
// Errors: errs.Invalid, errs.NotFound (area), errs.Conflict (number taken).
func (s *Service) CreateBuilding(ctx context.Context, cid int, in BuildingInput) (*ent.Building, error) {
	if in.Number == nil {
		return nil, errs.Field("number", "楼栋编号不能为空")
	}
	if in.Name == nil || *in.Name == "" {
		n := defaultName("", *in.Number, "栋")
		in.Name = &n
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if _, err := s.community(ctx, cid); err != nil {
		return nil, err
	}
	if _, err := s.area(ctx, cid, in.AreaID); errs.CodeOf(err) == errs.NotFound {
		return nil, errs.Field("area_id", "所选区域不存在")
	} else if err != nil {
		return nil, err
	}
	if err := s.buildingNumberFree(ctx, in.AreaID, *in.Number, 0); err != nil {
		return nil, err
	}
	b, err := s.db.Building.Create().SetCommunityID(cid).SetAreaID(in.AreaID).
		SetNumber(*in.Number).SetName(*in.Name).Save(ctx)
	return b, store.Map(err, "楼栋")
}

func (s *Service) buildingNumberFree(ctx context.Context, areaID, number, except int) error {
	taken, err := s.db.Building.Query().Where(building.AreaID(areaID), building.Number(number), building.IDNEQ(except)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return errs.Fieldf("number", "该区域下已有楼栋编号 %d", number)
	}
	return nil
}

func (s *Service) building(ctx context.Context, cid, id int) (*ent.Building, error) {
	b, err := s.db.Building.Query().Where(building.ID(id), building.CommunityID(cid)).Only(ctx)
	return b, store.Map(err, "楼栋")
}

// UpdateBuilding changes building id of community cid.
func (s *Service) UpdateBuilding(ctx context.Context, cid, id int, in BuildingInput) (*ent.Building, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	b, err := s.building(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	if in.Number != nil {
		if err := s.buildingNumberFree(ctx, b.AreaID, *in.Number, id); err != nil {
			return nil, err
		}
	}
	b, err = s.db.Building.UpdateOneID(id).SetNillableNumber(in.Number).SetNillableName(in.Name).
		SetUpdatedAt(time.Now()).Save(ctx)
	return b, store.Map(err, "楼栋")
}

// DeleteBuilding removes building id with its empty units.
//
// Errors: errs.NotFound, errs.Conflict when rooms remain.
func (s *Service) DeleteBuilding(ctx context.Context, cid, id int) error {
	b, err := s.building(ctx, cid, id)
	if err != nil {
		return err
	}
	rooms, err := s.db.Room.Query().Where(room.HasUnitWith(unit.BuildingID(id))).Count(ctx)
	if err != nil {
		return err
	}
	residents, err := s.db.Resident.Query().Where(resident.BuildingID(id)).Count(ctx)
	if err != nil {
		return err
	}
	unitIDs, err := s.db.Unit.Query().Where(unit.BuildingID(id)).IDs(ctx)
	if err != nil {
		return err
	}
	devices, err := s.devices.BoundInUnits(ctx, unitIDs...)
	if err != nil {
		return err
	}
	if rooms > 0 || devices > 0 {
		units, err := s.db.Unit.Query().Where(unit.BuildingID(id)).Count(ctx)
		if err != nil {
			return err
		}
		return notEmpty(b.Name, describe(count{units, "单元"}, count{rooms, "房间"}, count{residents, "业主"}, count{devices, "已绑定的门口机"}))
	}
	return s.db.InTx(ctx, func(tx *ent.Tx) error {
		if _, err := tx.Unit.Delete().Where(unit.BuildingID(id)).Exec(ctx); err != nil {
			return err
		}
		return store.Map(tx.Building.DeleteOneID(id).Exec(ctx), "楼栋")
	})
}
