package ad

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	entad "linli/internal/ent/ad"
	"linli/internal/ent/adtarget"
	"linli/internal/httpapi"
	"linli/internal/perm"
	"linli/internal/store"
)

// AdSlot is one ad slot as 门口机内容管理 shows it.
type AdSlot struct {
	Slot      int        `json:"slot" doc:"广告位 1–4"`
	HasImage  bool       `json:"has_image"`
	Width     int        `json:"width,omitempty"`
	Height    int        `json:"height,omitempty"`
	Size      int        `json:"size,omitempty" doc:"字节"`
	Version   string     `json:"version,omitempty" doc:"图片的 SHA-256 前 16 位，换图后变化"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// AdScreen is the ads of one orientation and the devices that show them.
type AdScreen struct {
	Orientation string   `json:"orientation" enum:"landscape,portrait" doc:"横屏或竖屏"`
	MaxWidth    int      `json:"max_width" doc:"图片宽度上限"`
	MaxHeight   int      `json:"max_height" doc:"图片高度上限"`
	Slots       []AdSlot `json:"slots"`
	DeviceIDs   []int    `json:"device_ids" doc:"显示广告的设备；为空表示该方向的全部门口机和围墙机"`
}

// Ads returns both screens of community cid.
func (s *Service) Ads(ctx context.Context, cid int) ([]AdScreen, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, err
	}
	ads, err := s.db.Ad.Query().Where(entad.CommunityID(cid)).All(ctx)
	if err != nil {
		return nil, err
	}
	targets, err := s.db.AdTarget.Query().Where(adtarget.CommunityID(cid)).Order(ent.Asc(adtarget.FieldDeviceID)).All(ctx)
	if err != nil {
		return nil, err
	}
	var out []AdScreen
	for _, o := range []string{"landscape", "portrait"} {
		w, h := AdLimit(o)
		sc := AdScreen{Orientation: o, MaxWidth: w, MaxHeight: h, DeviceIDs: []int{}}
		for i := 1; i <= AdSlots; i++ {
			sl := AdSlot{Slot: i}
			for _, a := range ads {
				if string(a.Orientation) == o && a.Slot == i {
					t := a.UpdatedAt
					sl = AdSlot{Slot: i, HasImage: true, Width: a.Width, Height: a.Height, Size: a.Size, Version: a.Sha256[:16], UpdatedAt: &t}
				}
			}
			sc.Slots = append(sc.Slots, sl)
		}
		for _, t := range targets {
			if string(t.Orientation) == o {
				sc.DeviceIDs = append(sc.DeviceIDs, t.DeviceID)
			}
		}
		out = append(out, sc)
	}
	return out, nil
}

type adsInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
}

type adsOutputBody struct {
	Screens []AdScreen `json:"screens"`
}

// AdSlotPath names one ad slot.
type AdSlotPath struct {
	CID         int    `path:"cid" minimum:"1" doc:"小区编号"`
	Orientation string `path:"orientation" enum:"landscape,portrait" doc:"横屏或竖屏"`
	Slot        int    `path:"slot" minimum:"1" maximum:"4" doc:"广告位"`
}

type adForm struct {
	File huma.FormFile `form:"file" required:"true" doc:"JPEG 或 PNG 图片，最大 10 MB"`
	Fit  string        `form:"fit" required:"false" doc:"true：超过屏幕尺寸时按比例缩小到屏幕内"`
}

type putAdInput struct {
	AdSlotPath
	RawBody huma.MultipartFormFiles[adForm]
}

type adTargetsInput struct {
	CID         int    `path:"cid" minimum:"1" doc:"小区编号"`
	Orientation string `path:"orientation" enum:"landscape,portrait" doc:"屏幕方向：landscape 横屏；portrait 竖屏"`
	Body        struct {
		DeviceIDs []int `json:"device_ids" maxItems:"2000" doc:"显示该方向广告的设备；空数组表示全部"`
	}
}

// DeviceAd is the device request for an ad picture: the device's place
// comes from its token.
type DeviceAd struct {
	ID int `path:"id" minimum:"1" doc:"广告编号（同步结果中的 url）"`
}

// Register adds 门口机内容管理 and the devices' ad downloads to api.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("list-ads", http.MethodGet, "/api/v1/communities/{cid}/ads", "门口机内容管理", auth.Needs(perm.AdsView),
		httpapi.Tags("内容信息管理")),
		func(ctx context.Context, in *adsInput) (*httpapi.Body[adsOutputBody], error) {
			return s.adsOutput(ctx, in.CID)
		})
	huma.Register(api, httpapi.Op("put-ad", http.MethodPut, "/api/v1/communities/{cid}/ads/{orientation}/{slot}", "替换广告图片", auth.Needs(perm.AdsEdit),
		httpapi.Tags("内容信息管理"),
		httpapi.MaxBody(MaxAdBytes+64<<10),
		httpapi.Describe("JPEG 或 PNG（按内容判断）。横屏不大于 1280×800，竖屏不大于 800×1280；"+
			"更大的图片在 fit=true 时按比例缩小，否则拒绝。图片会重新编码，去掉拍摄信息等元数据。")),
		func(ctx context.Context, in *putAdInput) (*httpapi.Body[adsOutputBody], error) {
			form := in.RawBody.Data()
			if _, err := s.PutAd(ctx, in.CID, in.Orientation, in.Slot, form.File.Filename, form.File, form.Fit == "true"); err != nil {
				return nil, err
			}
			return s.adsOutput(ctx, in.CID)
		})
	huma.Register(api, httpapi.Op("delete-ad", http.MethodDelete, "/api/v1/communities/{cid}/ads/{orientation}/{slot}", "删除广告图片", auth.Needs(perm.AdsEdit),
		httpapi.Tags("内容信息管理"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *AdSlotPath) (*struct{}, error) {
			return nil, s.DeleteAd(ctx, in.CID, in.Orientation, in.Slot)
		})
	huma.Register(api, httpapi.Op("get-ad-image", http.MethodGet, "/api/v1/communities/{cid}/ads/{orientation}/{slot}/image", "广告图片", auth.Needs(perm.AdsView),
		httpapi.Tags("内容信息管理"),
		httpapi.Binary("image/jpeg", "广告图片")),
		func(ctx context.Context, in *AdSlotPath) (*httpapi.File, error) {
			data, err := s.AdPicture(ctx, in.CID, in.Orientation, in.Slot)
			if err != nil {
				return nil, err
			}
			return httpapi.NewFile("image/jpeg", "private, no-cache", data), nil
		})
	huma.Register(api, httpapi.Op("set-ad-targets", http.MethodPut, "/api/v1/communities/{cid}/ads/{orientation}/targets", "选择显示广告的设备", auth.Needs(perm.AdsEdit),
		httpapi.Tags("内容信息管理")),
		func(ctx context.Context, in *adTargetsInput) (*httpapi.Body[adsOutputBody], error) {
			if err := s.SetAdTargets(ctx, in.CID, in.Orientation, in.Body.DeviceIDs); err != nil {
				return nil, err
			}
			return s.adsOutput(ctx, in.CID)
		})
	huma.Register(api, httpapi.Op("device-get-ad", http.MethodGet, "/device/v1/ads/{id}", "下载广告图片", auth.DeviceOnly(),
		httpapi.Tags("设备接口"),
		httpapi.Security("device"),
		httpapi.Binary("image/jpeg", "广告图片"),
		httpapi.Describe("只能下载本设备应显示的广告（同一小区、相同屏幕方向、被选中或未指定设备）。")),
		func(ctx context.Context, in *DeviceAd) (*httpapi.File, error) {
			loc, err := s.devices.Location(ctx, s.devices.Current(ctx))
			if err != nil {
				return nil, err
			}
			data, _, err := s.AdImage(ctx, loc, in.ID)
			if err != nil {
				return nil, err
			}
			return httpapi.NewFile("image/jpeg", "private, max-age=86400", data), nil
		})
}

func (s *Service) adsOutput(ctx context.Context, cid int) (*httpapi.Body[adsOutputBody], error) {
	screens, err := s.Ads(ctx, cid)
	if err != nil {
		return nil, err
	}
	return httpapi.Reply(adsOutputBody{Screens: screens}), nil
}
