package housing

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/ent/area"
	"linli/internal/ent/building"
	"linli/internal/ent/unit"
	"linli/internal/httpapi"
	"linli/internal/perm"
)

// Area is an area as the API shows it.
type Area struct {
	ID            int    `json:"id"`
	Number        int    `json:"number" doc:"区域编号"`
	Name          string `json:"name" doc:"区域名称"`
	ParkingLotNo  string `json:"parking_lot_no" doc:"车场编号"`
	ParkingLotKey string `json:"parking_lot_key" doc:"车场密钥"`
}

// Building is a building as the API shows it.
type Building struct {
	ID     int    `json:"id"`
	AreaID int    `json:"area_id"`
	Number int    `json:"number" doc:"楼栋编号"`
	Name   string `json:"name" doc:"楼栋名称"`
}

// Unit is a unit as the API shows it.
type Unit struct {
	ID          int    `json:"id"`
	BuildingID  int    `json:"building_id"`
	Number      int    `json:"number" doc:"单元编号"`
	Name        string `json:"name" doc:"单元名称"`
	Type        string `json:"type" enum:"normal,villa" doc:"单元类型"`
	DeviceCount int    `json:"device_count" doc:"设备数量"`
}

// Room is a room as the API shows it.
type Room struct {
	ID     int    `json:"id"`
	UnitID int    `json:"unit_id"`
	Floor  int    `json:"floor" doc:"楼层编号"`
	Number int    `json:"number" doc:"房间编号"`
	RoomNo string `json:"room_no" doc:"房号，如 0502"`
	Label  string `json:"label" doc:"房间信息，如 【测试小区1】-1区-1栋-1单元-0502"`
}

func areaView(a *ent.Area) Area {
	return Area{ID: a.ID, Number: a.Number, Name: a.Name, ParkingLotNo: a.ParkingLotNo, ParkingLotKey: a.ParkingLotKey}
}

func buildingView(b *ent.Building) Building {
	return Building{ID: b.ID, AreaID: b.AreaID, Number: b.Number, Name: b.Name}
}

func unitView(u *ent.Unit) Unit {
	return Unit{ID: u.ID, BuildingID: u.BuildingID, Number: u.Number, Name: u.Name, Type: string(u.Type), DeviceCount: u.DeviceCount}
}

func roomView(communityName string, r *ent.Room) Room {
	return Room{ID: r.ID, UnitID: r.UnitID, Floor: r.Floor, Number: r.Number,
		RoomNo: RoomNo(r.Floor, r.Number), Label: RoomLabel(communityName, r)}
}

type CommunityPath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
}

type NodePath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	ID  int `path:"id" minimum:"1" doc:"区域、楼栋、单元或房间的编号"`
}

type areaFields struct {
	Number        *int    `json:"number,omitempty" minimum:"1" maximum:"999" doc:"区域编号（1区填 1）"`
	Name          *string `json:"name,omitempty" maxLength:"20" doc:"区域名称，不填自动生成“N区”"`
	ParkingLotNo  *string `json:"parking_lot_no,omitempty" maxLength:"64" doc:"车场编号"`
	ParkingLotKey *string `json:"parking_lot_key,omitempty" maxLength:"128" doc:"车场密钥"`
}

func (f areaFields) input() AreaInput {
	return AreaInput{Number: f.Number, Name: f.Name, ParkingLotNo: f.ParkingLotNo, ParkingLotKey: f.ParkingLotKey}
}

type createAreaInput struct {
	CommunityPath
	Body struct {
		Number        int     `json:"number" minimum:"1" maximum:"999" doc:"区域编号（1区填 1）"`
		Name          string  `json:"name,omitempty" maxLength:"20" doc:"区域名称，不填自动生成“N区”"`
		ParkingLotNo  *string `json:"parking_lot_no,omitempty" maxLength:"64" doc:"车场编号"`
		ParkingLotKey *string `json:"parking_lot_key,omitempty" maxLength:"128" doc:"车场密钥"`
	}
}

type updateAreaInput struct {
	NodePath
	Body areaFields
}

type createBuildingInput struct {
	CommunityPath
	Body struct {
		AreaID int    `json:"area_id" minimum:"1" doc:"所属区域"`
		Number int    `json:"number" minimum:"1" maximum:"999" doc:"楼栋编号（1栋填 1）"`
		Name   string `json:"name,omitempty" maxLength:"20" doc:"楼栋名称，不填自动生成“N栋”"`
	}
}

type updateBuildingInput struct {
	NodePath
	Body struct {
		Number *int    `json:"number,omitempty" minimum:"1" maximum:"999" doc:"楼栋编号"`
		Name   *string `json:"name,omitempty" maxLength:"20" doc:"楼栋名称"`
	}
}

type createUnitInput struct {
	CommunityPath
	Body struct {
		BuildingID  int    `json:"building_id" minimum:"1" doc:"所属楼栋"`
		Number      int    `json:"number" minimum:"1" maximum:"99" doc:"单元编号（1单元填 1）"`
		Type        string `json:"type,omitempty" enum:"normal,villa" default:"normal" doc:"单元类型：normal 普通单元；villa 别墅单元"`
		DeviceCount int    `json:"device_count" minimum:"1" maximum:"20" doc:"设备数量：本单元门口机台数（一主一副填 2）"`
		Name        string `json:"name,omitempty" maxLength:"20" doc:"单元名称，不填自动生成“N单元”"`
	}
}

type updateUnitInput struct {
	NodePath
	Body struct {
		Number      *int    `json:"number,omitempty" minimum:"1" maximum:"99" doc:"单元编号"`
		Type        *string `json:"type,omitempty" enum:"normal,villa" doc:"单元类型"`
		DeviceCount *int    `json:"device_count,omitempty" minimum:"1" maximum:"20" doc:"设备数量"`
		Name        *string `json:"name,omitempty" maxLength:"20" doc:"单元名称"`
	}
}

type createRoomInput struct {
	CommunityPath
	Body struct {
		UnitID int `json:"unit_id" minimum:"1" doc:"所属单元"`
		Floor  int `json:"floor" minimum:"1" maximum:"99" doc:"楼层编号（几楼）"`
		Number int `json:"number" minimum:"1" maximum:"99" doc:"房间编号（房号）"`
	}
}

type updateRoomInput struct {
	NodePath
	Body struct {
		Floor  *int `json:"floor,omitempty" minimum:"1" maximum:"99" doc:"楼层编号"`
		Number *int `json:"number,omitempty" minimum:"1" maximum:"99" doc:"房间编号"`
	}
}

type listRoomsInput struct {
	CommunityPath
	httpapi.PageParams
	UnitID int `query:"unit_id" minimum:"0" doc:"只看该单元"`
	Floor  int `query:"floor" minimum:"0" maximum:"99" doc:"只看该楼层"`
}

type listBuildingsInput struct {
	CommunityPath
	AreaID int `query:"area_id" minimum:"0" doc:"只看该区域"`
}

type listUnitsInput struct {
	CommunityPath
	BuildingID int `query:"building_id" minimum:"0" doc:"只看该楼栋"`
}

type batchInput struct {
	CID  int `path:"cid" minimum:"1" doc:"小区编号"`
	UID  int `path:"uid" minimum:"1" doc:"单元"`
	Body struct {
		Floors        int `json:"floors" minimum:"1" maximum:"99" doc:"楼层数（单元一共多少层）"`
		RoomsPerFloor int `json:"rooms_per_floor" minimum:"1" maximum:"30" doc:"房间数（每层多少个房间）"`
	}
}

type batchOutputBody struct {
	Created int `json:"created" doc:"添加的房间数"`
	Skipped int `json:"skipped" doc:"已存在而跳过的房间数"`
}

// Register adds the housing operations to api.
func (s *Service) Register(api huma.API) {
	// Reading 房屋 needs 房屋·查看, every change 房屋·编辑.
	huma.Register(api, httpapi.Op("get-housing-tree", http.MethodGet, "/api/v1/communities/{cid}/tree", "房屋信息树（区域/楼栋/单元）", auth.Needs(perm.HousingView),
		httpapi.Tags("房屋信息")),
		func(ctx context.Context, in *CommunityPath) (*httpapi.Body[[]TreeArea], error) {
			t, err := s.Tree(ctx, in.CID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(t), nil
		})

	// Areas.
	huma.Register(api, httpapi.Op("list-areas", http.MethodGet, "/api/v1/communities/{cid}/areas", "区域列表", auth.Needs(perm.HousingView),
		httpapi.Tags("房屋信息")),
		func(ctx context.Context, in *CommunityPath) (*httpapi.Body[httpapi.Page[Area]], error) {
			if _, err := s.community(ctx, in.CID); err != nil {
				return nil, err
			}
			as, err := s.db.Area.Query().Where(area.CommunityID(in.CID)).Order(ent.Asc(area.FieldNumber)).All(ctx)
			if err != nil {
				return nil, err
			}
			items := make([]Area, len(as))
			for i, a := range as {
				items[i] = areaView(a)
			}
			return httpapi.Reply(httpapi.Page[Area]{Items: items, Total: len(items)}), nil
		})
	huma.Register(api, httpapi.Op("create-area", http.MethodPost, "/api/v1/communities/{cid}/areas", "添加区域", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息"),
		httpapi.Status(http.StatusCreated)),
		func(ctx context.Context, in *createAreaInput) (*httpapi.Body[Area], error) {
			b := in.Body
			a, err := s.CreateArea(ctx, in.CID, AreaInput{Number: &b.Number, Name: &b.Name, ParkingLotNo: b.ParkingLotNo, ParkingLotKey: b.ParkingLotKey})
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(areaView(a)), nil
		})
	huma.Register(api, httpapi.Op("update-area", http.MethodPatch, "/api/v1/communities/{cid}/areas/{id}", "编辑区域", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息")),
		func(ctx context.Context, in *updateAreaInput) (*httpapi.Body[Area], error) {
			a, err := s.UpdateArea(ctx, in.CID, in.ID, in.Body.input())
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(areaView(a)), nil
		})
	huma.Register(api, httpapi.Op("delete-area", http.MethodDelete, "/api/v1/communities/{cid}/areas/{id}", "删除区域", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *NodePath) (*struct{}, error) {
			return nil, s.DeleteArea(ctx, in.CID, in.ID)
		})

	// Buildings.
	huma.Register(api, httpapi.Op("list-buildings", http.MethodGet, "/api/v1/communities/{cid}/buildings", "楼栋列表", auth.Needs(perm.HousingView),
		httpapi.Tags("房屋信息")),
		func(ctx context.Context, in *listBuildingsInput) (*httpapi.Body[httpapi.Page[Building]], error) {
			if _, err := s.community(ctx, in.CID); err != nil {
				return nil, err
			}
			q := s.db.Building.Query().Where(building.CommunityID(in.CID))
			if in.AreaID > 0 {
				q.Where(building.AreaID(in.AreaID))
			}
			bs, err := q.Order(ent.Asc(building.FieldAreaID), ent.Asc(building.FieldNumber)).All(ctx)
			if err != nil {
				return nil, err
			}
			items := make([]Building, len(bs))
			for i, b := range bs {
				items[i] = buildingView(b)
			}
			return httpapi.Reply(httpapi.Page[Building]{Items: items, Total: len(items)}), nil
		})
	huma.Register(api, httpapi.Op("create-building", http.MethodPost, "/api/v1/communities/{cid}/buildings", "添加楼栋", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息"),
		httpapi.Status(http.StatusCreated)),
		func(ctx context.Context, in *createBuildingInput) (*httpapi.Body[Building], error) {
			b, err := s.CreateBuilding(ctx, in.CID, BuildingInput{AreaID: in.Body.AreaID, Number: &in.Body.Number, Name: &in.Body.Name})
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(buildingView(b)), nil
		})
	huma.Register(api, httpapi.Op("update-building", http.MethodPatch, "/api/v1/communities/{cid}/buildings/{id}", "编辑楼栋", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息")),
		func(ctx context.Context, in *updateBuildingInput) (*httpapi.Body[Building], error) {
			b, err := s.UpdateBuilding(ctx, in.CID, in.ID, BuildingInput{Number: in.Body.Number, Name: in.Body.Name})
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(buildingView(b)), nil
		})
	huma.Register(api, httpapi.Op("delete-building", http.MethodDelete, "/api/v1/communities/{cid}/buildings/{id}", "删除楼栋", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *NodePath) (*struct{}, error) {
			return nil, s.DeleteBuilding(ctx, in.CID, in.ID)
		})

	// Units.
	huma.Register(api, httpapi.Op("list-units", http.MethodGet, "/api/v1/communities/{cid}/units", "单元列表", auth.Needs(perm.HousingView),
		httpapi.Tags("房屋信息")),
		func(ctx context.Context, in *listUnitsInput) (*httpapi.Body[httpapi.Page[Unit]], error) {
			if _, err := s.community(ctx, in.CID); err != nil {
				return nil, err
			}
			q := s.db.Unit.Query().Where(unit.CommunityID(in.CID))
			if in.BuildingID > 0 {
				q.Where(unit.BuildingID(in.BuildingID))
			}
			us, err := q.Order(ent.Asc(unit.FieldBuildingID), ent.Asc(unit.FieldNumber)).All(ctx)
			if err != nil {
				return nil, err
			}
			items := make([]Unit, len(us))
			for i, u := range us {
				items[i] = unitView(u)
			}
			return httpapi.Reply(httpapi.Page[Unit]{Items: items, Total: len(items)}), nil
		})
	huma.Register(api, httpapi.Op("create-unit", http.MethodPost, "/api/v1/communities/{cid}/units", "添加单元", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息"),
		httpapi.Status(http.StatusCreated)),
		func(ctx context.Context, in *createUnitInput) (*httpapi.Body[Unit], error) {
			b := in.Body
			u, err := s.CreateUnit(ctx, in.CID, UnitInput{BuildingID: b.BuildingID, Number: &b.Number, Name: &b.Name, Type: &b.Type, DeviceCount: &b.DeviceCount})
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(unitView(u)), nil
		})
	huma.Register(api, httpapi.Op("update-unit", http.MethodPatch, "/api/v1/communities/{cid}/units/{id}", "编辑单元", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息")),
		func(ctx context.Context, in *updateUnitInput) (*httpapi.Body[Unit], error) {
			b := in.Body
			u, err := s.UpdateUnit(ctx, in.CID, in.ID, UnitInput{Number: b.Number, Name: b.Name, Type: b.Type, DeviceCount: b.DeviceCount})
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(unitView(u)), nil
		})
	huma.Register(api, httpapi.Op("delete-unit", http.MethodDelete, "/api/v1/communities/{cid}/units/{id}", "删除单元", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *NodePath) (*struct{}, error) {
			return nil, s.DeleteUnit(ctx, in.CID, in.ID)
		})

	// Rooms.
	huma.Register(api, httpapi.Op("list-rooms", http.MethodGet, "/api/v1/communities/{cid}/rooms", "房间列表", auth.Needs(perm.HousingView),
		httpapi.Tags("房屋信息")),
		func(ctx context.Context, in *listRoomsInput) (*httpapi.Body[httpapi.Page[Room]], error) {
			c, err := s.community(ctx, in.CID)
			if err != nil {
				return nil, err
			}
			rs, total, err := s.ListRooms(ctx, in.CID, RoomFilter{UnitID: in.UnitID, Floor: in.Floor}, in.Offset(), in.Size)
			if err != nil {
				return nil, err
			}
			items := make([]Room, len(rs))
			for i, r := range rs {
				items[i] = roomView(c.Name, r)
			}
			return httpapi.Reply(httpapi.Page[Room]{Items: items, Total: total}), nil
		})
	huma.Register(api, httpapi.Op("create-room", http.MethodPost, "/api/v1/communities/{cid}/rooms", "添加房间", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息"),
		httpapi.Status(http.StatusCreated)),
		func(ctx context.Context, in *createRoomInput) (*httpapi.Body[Room], error) {
			b := in.Body
			r, err := s.CreateRoom(ctx, in.CID, RoomInput{UnitID: b.UnitID, Floor: &b.Floor, Number: &b.Number})
			if err != nil {
				return nil, err
			}
			return s.roomOutput(ctx, in.CID, r)
		})
	huma.Register(api, httpapi.Op("update-room", http.MethodPatch, "/api/v1/communities/{cid}/rooms/{id}", "编辑房间", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息")),
		func(ctx context.Context, in *updateRoomInput) (*httpapi.Body[Room], error) {
			r, err := s.UpdateRoom(ctx, in.CID, in.ID, RoomInput{Floor: in.Body.Floor, Number: in.Body.Number})
			if err != nil {
				return nil, err
			}
			return s.roomOutput(ctx, in.CID, r)
		})
	huma.Register(api, httpapi.Op("delete-room", http.MethodDelete, "/api/v1/communities/{cid}/rooms/{id}", "删除房间", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *NodePath) (*struct{}, error) {
			return nil, s.DeleteRoom(ctx, in.CID, in.ID)
		})
	huma.Register(api, httpapi.Op("batch-create-rooms", http.MethodPost, "/api/v1/communities/{cid}/units/{uid}/rooms/batch", "批量添加房间", auth.Needs(perm.HousingEdit),
		httpapi.Tags("房屋信息"),
		httpapi.Describe("添加本单元“楼层数 × 每层房间数”范围内还没有的房间（0101 起）；已存在的房间保留并跳过。全部已存在时返回 409。"),
		httpapi.Status(http.StatusCreated)),
		func(ctx context.Context, in *batchInput) (*httpapi.Body[batchOutputBody], error) {
			n, skipped, err := s.BatchRooms(ctx, in.CID, in.UID, in.Body.Floors, in.Body.RoomsPerFloor)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(batchOutputBody{Created: n, Skipped: skipped}), nil
		})
}

// roomOutput returns r with its label.
func (s *Service) roomOutput(ctx context.Context, cid int, r *ent.Room) (*httpapi.Body[Room], error) {
	c, err := s.community(ctx, cid)
	if err != nil {
		return nil, err
	}
	labels, err := RoomLabels(ctx, s.db.Client, c.Name, []int{r.ID})
	if err != nil {
		return nil, err
	}
	return httpapi.Reply(Room{ID: r.ID, UnitID: r.UnitID, Floor: r.Floor, Number: r.Number,
		RoomNo: RoomNo(r.Floor, r.Number), Label: labels[r.ID]}), nil
}
