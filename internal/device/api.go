package device

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/httpapi"
	"linli/internal/perm"
	"linli/internal/store"
	"linli/internal/whitelist"
)

type bindInput struct {
	Body struct {
		CommunityID       int    `json:"community_id" minimum:"1" doc:"小区编号"`
		CommunityPassword string `json:"community_password" minLength:"1" maxLength:"64" doc:"小区密码"`
		Slot              Slot   `json:"slot" doc:"安装位置"`
		Serial            string `json:"serial" minLength:"1" maxLength:"64" doc:"设备序列号"`
		Model             string `json:"model,omitempty" maxLength:"64" doc:"型号"`
		Firmware          string `json:"firmware,omitempty" maxLength:"64" doc:"固件版本"`
		Orientation       string `json:"orientation,omitempty" enum:"landscape,portrait" doc:"屏幕方向：landscape 横屏；portrait 竖屏"`
	}
}

type slotsInput struct {
	CID        int    `path:"cid" minimum:"1" doc:"小区编号"`
	Kind       string `query:"kind" enum:"door,wall,management,indoor," doc:"设备类型；不填为门口机、围墙机、管理机"`
	AreaID     int    `query:"area_id" minimum:"0" doc:"区域编号；不填或 0 为不限"`
	BuildingID int    `query:"building_id" minimum:"0" doc:"楼栋编号；不填或 0 为不限"`
	UnitID     int    `query:"unit_id" minimum:"0" doc:"单元编号；不填或 0 为不限"`
	Status     string `query:"status" enum:"online,offline,unbound," doc:"在线、离线、未绑定"`
}

type slotsOutputBody struct {
	Items []SlotView `json:"items"`
	Total int        `json:"total"`
}

// DevicePath is the path of one bound device.
type DevicePath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	ID  int `path:"id" minimum:"1" doc:"设备编号"`
}

type upgradeInput struct {
	CID  int `path:"cid" minimum:"1" doc:"小区编号"`
	Body struct {
		DeviceIDs  []int `json:"device_ids" minItems:"1" maxItems:"1000" doc:"要升级的设备"`
		FirmwareID int   `json:"firmware_id" minimum:"1" doc:"固件"`
	}
}

type firmwareInput struct {
	ID int `path:"id" minimum:"1" doc:"固件编号"`
}

type progressInput struct{ Body Progress }

type deviceKey struct{}

// Resolve authenticates the bearer token of a device request and returns a
// context acting as the device (see Current). The gate calls it for every
// DeviceOnly operation.
//
// Errors: errs.Unauthorized (no token, or a token replaced by a new binding).
func (s *Service) Resolve(ctx context.Context, authorization string) (context.Context, error) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return ctx, errs.New(errs.Unauthorized, "缺少设备令牌：请求头应为 Authorization: Bearer <token>")
	}
	d, err := s.Authenticate(ctx, strings.TrimSpace(token))
	if err != nil {
		return ctx, err
	}
	if d == nil {
		return ctx, errs.New(errs.Unauthorized, "设备令牌无效或已被重新绑定替换，请重新绑定")
	}
	ctx = context.WithValue(ctx, deviceKey{}, d)
	return actor.With(ctx, actor.Actor{Kind: actor.Device, DeviceID: d.ID, Communities: []int{d.CommunityID}}), nil
}

// Current returns the device of a DeviceOnly request.
func Current(ctx context.Context) *ent.Device {
	d, _ := ctx.Value(deviceKey{}).(*ent.Device)
	return d
}

// Current returns the device of a device request (the package's Current,
// for the features that are handed the device service).
func (s *Service) Current(ctx context.Context) *ent.Device { return Current(ctx) }

// Location returns where device d stands for its whitelist.
func (s *Service) Location(ctx context.Context, d *ent.Device) (whitelist.Location, error) {
	unitOf := map[int]int{}
	if d.RoomID != nil {
		r, err := s.db.Room.Get(ctx, *d.RoomID)
		if err != nil {
			return whitelist.Location{}, store.Map(err, "房间")
		}
		unitOf[r.ID] = r.UnitID
	}
	return location(d, unitOf), nil
}

// location is where device d stands; unitOf gives the unit of an indoor
// monitor's room.
func location(d *ent.Device, unitOf map[int]int) whitelist.Location {
	loc := whitelist.Location{CommunityID: d.CommunityID, DeviceID: d.ID, Orientation: string(d.Orientation),
		Screen: d.Kind == KindDoor || d.Kind == KindWall}
	switch {
	case d.UnitID != nil:
		loc.UnitID = *d.UnitID
	case d.RoomID != nil:
		loc.UnitID, loc.RoomID = unitOf[*d.RoomID], *d.RoomID
	}
	return loc
}

// Register adds the device operations (/device/v1) and the console's device
// list (/api/v1) to api; GET /device/v1/sync is the whitelist's.
func (s *Service) Register(api huma.API) {
	fws := s.firmware
	huma.Register(api, httpapi.Op("device-bind", http.MethodPost, "/device/v1/bind", "绑定设备", auth.Public(),
		httpapi.Tags("设备接口"),
		httpapi.Describe("安装人员在设备上输入小区编号、小区密码和安装位置。小区密码连续错误 5 次将锁定 10 分钟。"+
			"同一序列号重新绑定到同一位置会得到新的凭据，旧凭据作废。")),
		func(ctx context.Context, in *bindInput) (*httpapi.Body[*Credentials], error) {
			b := in.Body
			cr, err := s.Bind(ctx, BindInput{CommunityID: b.CommunityID, CommunityPassword: b.CommunityPassword, Slot: b.Slot,
				Serial: strings.TrimSpace(b.Serial), Model: b.Model, Firmware: b.Firmware, Orientation: b.Orientation, IP: auth.ClientIP(ctx)})
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(cr), nil
		})
	huma.Register(api, httpapi.Op("device-download-firmware", http.MethodGet, "/device/v1/firmware/{id}", "下载固件", auth.DeviceOnly(),
		httpapi.Tags("设备接口"),
		httpapi.Security("device"),
		httpapi.Binary("application/octet-stream", "固件文件"),
		httpapi.Describe("支持 Range 请求，可断点续传。只能下载本设备型号的固件。")),
		func(ctx context.Context, in *firmwareInput) (*huma.StreamResponse, error) {
			fw, err := s.Firmware(ctx, fws, Current(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			f, err := fws.Open(ctx, fw)
			if err != nil {
				return nil, err
			}
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				defer f.Close()
				r, w := humago.Unwrap(hctx)
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Header().Set("X-Content-SHA256", fw.Sha256)
				http.ServeContent(w, r, fw.FileName, fw.CreatedAt, f)
			}}, nil
		})
	huma.Register(api, httpapi.Op("device-report-upgrade", http.MethodPost, "/device/v1/upgrade", "回报升级进度", auth.DeviceOnly(),
		httpapi.Tags("设备接口"),
		httpapi.Security("device"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("设备在下载、安装过程中回报进度，结束时回报 succeeded 或 failed（附原因）。")),
		func(ctx context.Context, in *progressInput) (*struct{}, error) {
			return nil, s.ReportUpgrade(ctx, Current(ctx), in.Body)
		})

	huma.Register(api, httpapi.Op("upgrade-devices", http.MethodPost, "/api/v1/communities/{cid}/devices/upgrade", "固件升级", auth.Needs(perm.FirmwareUpgrade),
		httpapi.Tags("门禁信息管理"),
		httpapi.Status(http.StatusAccepted),
		httpapi.Describe("向所选的在线设备下发升级指令。设备必须是固件的型号、版本低于固件版本；任何一台不符合时都不下发。")),
		func(ctx context.Context, in *upgradeInput) (*struct{}, error) {
			return nil, s.StartUpgrade(ctx, fws, in.CID, in.Body.DeviceIDs, in.Body.FirmwareID)
		})
	huma.Register(api, httpapi.Op("list-devices", http.MethodGet, "/api/v1/communities/{cid}/devices", "设备列表（按安装位置）", auth.Needs(perm.DevicesView),
		httpapi.Tags("门禁信息管理")),
		func(ctx context.Context, in *slotsInput) (*httpapi.Body[slotsOutputBody], error) {
			items, err := s.Slots(ctx, in.CID, SlotFilter{Kind: in.Kind, AreaID: in.AreaID, BuildingID: in.BuildingID, UnitID: in.UnitID, Status: in.Status})
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(slotsOutputBody{Items: items, Total: len(items)}), nil
		})
	huma.Register(api, httpapi.Op("unbind-device", http.MethodDelete, "/api/v1/communities/{cid}/devices/{id}", "解绑设备", auth.Needs(perm.DevicesEdit),
		httpapi.Tags("门禁信息管理"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *DevicePath) (*struct{}, error) {
			return nil, s.Unbind(ctx, in.CID, in.ID)
		})
}
