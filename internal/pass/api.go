package pass

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/httpapi"
	"linli/internal/perm"
)

type createInput struct {
	Body struct {
		RoomID      int        `json:"room_id" minimum:"1" doc:"我的房间"`
		VisitorName string     `json:"visitor_name" maxLength:"64" doc:"访客姓名，1 到 32 个字"`
		Note        string     `json:"note,omitempty" maxLength:"200" doc:"备注，最多 100 个字"`
		Kind        string     `json:"kind" enum:"visitor,delivery" doc:"visitor 访客；delivery 快递码（默认一次、24 小时）"`
		ValidFrom   *time.Time `json:"valid_from,omitempty" doc:"开始时间；不填为现在"`
		ValidTo     *time.Time `json:"valid_to,omitempty" doc:"结束时间：晚于开始时间和现在，最长到 7 天以后；快递码不填为开始后 24 小时"`
		MaxUses     *int       `json:"max_uses,omitempty" doc:"可用次数，0 表示有效期内不限次数；快递码不填为 1"`
		DoorID      *int       `json:"door_id,omitempty" minimum:"1" doc:"只开这一台门禁设备（GET /app/v1/doors 的 id）；不填为本单元门口机和围墙机"`
	}
}

type listMineInput struct {
	RoomID int    `query:"room_id" minimum:"0" doc:"只看这个房间"`
	Status string `query:"status" enum:"有效,已用完,已撤销,已过期,未开始," doc:"状态"`
}

type idInput struct {
	ID int `path:"id" minimum:"1" doc:"通行证编号"`
}

type passesOutputBody struct {
	Items []Pass `json:"items"`
}

type shareInput struct {
	Token string `path:"token" maxLength:"100" doc:"分享链接中的令牌"`
}

type staffListInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	httpapi.PageParams
	Filter
}

type staffPath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	ID  int `path:"id" minimum:"1" doc:"通行证编号"`
}

// Register adds the app's pass operations (/app/v1/passes), the public
// share page's data (/app/v1/pass-shares) and 访客通行 of the console.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("app-create-pass", http.MethodPost, "/app/v1/passes", "创建访客通行证", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusCreated),
		httpapi.Describe("为自己房间的单元门口机和小区围墙机生成二维码和 6 位密码，有效期最长 7 天。"+
			"快递码（kind=delivery）默认一次、24 小时，可只开一台设备（door_id）。")),
		func(ctx context.Context, in *createInput) (*httpapi.Body[*Pass], error) {
			b := in.Body
			p, err := s.Create(ctx, Input{RoomID: b.RoomID, VisitorName: b.VisitorName, Note: b.Note, Kind: b.Kind,
				ValidFrom: b.ValidFrom, ValidTo: b.ValidTo, MaxUses: b.MaxUses, DoorID: b.DoorID})
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(p), nil
		})
	huma.Register(api, httpapi.Op("app-list-passes", http.MethodGet, "/app/v1/passes", "我的访客通行证", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("我所有房间的通行证，最新的在前（最多 500 条）。")),
		func(ctx context.Context, in *listMineInput) (*httpapi.Body[passesOutputBody], error) {
			ps, err := s.Mine(ctx, in.RoomID, in.Status)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(passesOutputBody{Items: ps}), nil
		})
	huma.Register(api, httpapi.Op("app-get-pass", http.MethodGet, "/app/v1/passes/{id}", "访客通行证详情", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app")),
		func(ctx context.Context, in *idInput) (*httpapi.Body[*Pass], error) {
			p, err := s.Get(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(p), nil
		})
	huma.Register(api, httpapi.Op("app-revoke-pass", http.MethodDelete, "/app/v1/passes/{id}", "撤销访客通行证", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("房间的任一住户都可撤销；撤销后各门禁设备在下次同步时删除该通行证。")),
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			return nil, s.RevokeMine(ctx, in.ID)
		})
	huma.Register(api, httpapi.Op("app-get-pass-share", http.MethodGet, "/app/v1/pass-shares/{token}", "分享的访客通行证", auth.Public(),
		httpapi.Tags("业主 APP"),
		httpapi.Describe("访客打开分享链接时看到的内容；已撤销、用完或过期的通行证仍显示状态，但不显示密码和二维码。")),
		func(ctx context.Context, in *shareInput) (*httpapi.Body[*Shared], error) {
			sh, err := s.Share(ctx, in.Token)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(sh), nil
		})
	huma.Register(api, httpapi.Op("app-get-pass-share-qr", http.MethodGet, "/app/v1/pass-shares/{token}/qr.png", "分享的访客通行证二维码", auth.Public(),
		httpapi.Tags("业主 APP"),
		httpapi.Binary("image/png", "二维码 PNG")),
		func(ctx context.Context, in *shareInput) (*httpapi.File, error) {
			data, err := s.QRCode(ctx, in.Token)
			if err != nil {
				return nil, err
			}
			return httpapi.NewFile("image/png", "private, no-store", data), nil
		})

	huma.Register(api, httpapi.Op("list-passes", http.MethodGet, "/api/v1/communities/{cid}/passes", "访客通行", auth.Needs(perm.PassesView),
		httpapi.Tags("门禁信息管理"),
		httpapi.Describe("业主为访客和快递生成的通行证，最新的在前。不显示密码和二维码。")),
		func(ctx context.Context, in *staffListInput) (*httpapi.Body[httpapi.Page[StaffPass]], error) {
			ps, total, err := s.List(ctx, in.CID, in.Filter, in.Offset(), in.Size)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(httpapi.Page[StaffPass]{Items: ps, Total: total}), nil
		})
	huma.Register(api, httpapi.Op("revoke-pass", http.MethodPost, "/api/v1/communities/{cid}/passes/{id}/revoke", "撤销通行证", auth.Needs(perm.PassesEdit),
		httpapi.Tags("门禁信息管理"),
		httpapi.Describe("撤销后各门禁设备在下次同步时删除该通行证；已撤销的再撤销不变。")),
		func(ctx context.Context, in *staffPath) (*httpapi.Body[*StaffPass], error) {
			p, err := s.Revoke(ctx, in.CID, in.ID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(p), nil
		})
}
