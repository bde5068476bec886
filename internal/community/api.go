package community

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/httpapi"
	"linli/internal/perm"
	"linli/internal/region"
)

// Community is a community as the API shows it.
type Community struct {
	ID                     int       `json:"id" doc:"小区编号"`
	Name                   string    `json:"name" doc:"小区名称"`
	RegionCode             string    `json:"region_code" doc:"所在城市（区县代码，GB/T 2260）"`
	RegionName             string    `json:"region_name" doc:"所在城市，如 广东省/深圳市/宝安区"`
	Address                string    `json:"address" doc:"详细地址"`
	ManagementStationCount int       `json:"management_station_count" doc:"管理机数量"`
	WallStationCount       int       `json:"wall_station_count" doc:"围墙机数量"`
	CardType               string    `json:"card_type" enum:"ic,id_card,both" doc:"门禁卡类型"`
	CommunityPassword      string    `json:"community_password,omitempty" doc:"小区密码（安装设备时使用）；只给有 小区信息·编辑 或 设备·编辑 权限的账号"`
	ResidentRoles          []string  `json:"resident_roles" doc:"业主角色组"`
	PhoneGateway           string    `json:"phone_gateway" doc:"电话网关（SIP 地址）；为空表示未配置，不能开启电话转移"`
	RingSeconds            int       `json:"ring_seconds" doc:"呼叫振铃时间（秒）：无人接听多久后转移到电话"`
	UnlockDTMF             string    `json:"unlock_dtmf" doc:"通话中开门按键（DTMF），默认 #"`
	InviteNeedsApproval    bool      `json:"invite_needs_approval" doc:"邀请需物业审核：业主在 APP 邀请的家人/租户须物业审核通过后才成为住户"`
	RequireTwoFactor       bool      `json:"require_two_factor" doc:"要求登录验证：本小区所有物业人员在新设备登录时须输入验证码"`
	CreatedAt              time.Time `json:"created_at" doc:"创建时间"`
	UpdatedAt              time.Time `json:"updated_at"`
}

// viewFor returns View for the caller of ctx: the 小区密码 binds devices
// that then receive the whole whitelist, so only those who configure the
// community or install its devices see it.
func viewFor(ctx context.Context) func(*ent.Community) Community {
	p := auth.Current(ctx)
	secret := p != nil && (p.Can(perm.CommunityEdit) || p.Can(perm.DevicesEdit))
	return func(c *ent.Community) Community {
		v := View(c)
		if !secret {
			v.CommunityPassword = ""
		}
		return v
	}
}

// View returns the API form of c.
func View(c *ent.Community) Community {
	p, _ := region.Lookup(c.RegionCode)
	return Community{
		ID: c.ID, Name: c.Name, RegionCode: c.RegionCode, RegionName: p.Label(), Address: c.Address,
		ManagementStationCount: c.ManagementStationCount, WallStationCount: c.WallStationCount,
		CardType: string(c.CardType), CommunityPassword: c.CommunityPassword,
		ResidentRoles: c.ResidentRoles, PhoneGateway: c.PhoneGateway, RingSeconds: c.RingSeconds, UnlockDTMF: c.UnlockDtmf, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		InviteNeedsApproval: c.InviteNeedsApproval, RequireTwoFactor: c.RequireTwoFactor,
	}
}

// communityBody is the body of create and update; every field is optional
// in the schema so that PATCH can send only what changes.
type communityBody struct {
	Name                   *string  `json:"name,omitempty" minLength:"1" maxLength:"50" doc:"小区名称"`
	RegionCode             *string  `json:"region_code,omitempty" pattern:"^[0-9]{6}$" patternDescription:"6 位区县代码" doc:"所在城市（区县代码）"`
	Address                *string  `json:"address,omitempty" minLength:"1" maxLength:"200" doc:"详细地址"`
	ManagementStationCount *int     `json:"management_station_count,omitempty" minimum:"0" maximum:"99" doc:"管理机数量"`
	WallStationCount       *int     `json:"wall_station_count,omitempty" minimum:"0" maximum:"99" doc:"围墙机数量"`
	CardType               *string  `json:"card_type,omitempty" enum:"ic,id_card,both" doc:"门禁卡类型：ic IC卡；id_card 身份证；both 两者"`
	CommunityPassword      *string  `json:"community_password,omitempty" minLength:"4" maxLength:"16" doc:"小区密码：4 到 16 位数字或字母"`
	ResidentRoles          []string `json:"resident_roles,omitempty" minItems:"1" maxItems:"10" doc:"业主角色组，如 业主、家属、租户"`
	PhoneGateway           *string  `json:"phone_gateway,omitempty" maxLength:"200" doc:"电话网关（SIP 地址，如 sip:gw.example.com:5060）；空字符串表示不配置"`
	RingSeconds            *int     `json:"ring_seconds,omitempty" doc:"呼叫振铃时间（秒），10–120，默认 30"`
	UnlockDTMF             *string  `json:"unlock_dtmf,omitempty" maxLength:"4" doc:"通话中开门按键：1–4 个 0–9 * # A–D，默认 #"`
	InviteNeedsApproval    *bool    `json:"invite_needs_approval,omitempty" doc:"邀请需物业审核，默认否（业主邀请后立即成为住户）"`
	RequireTwoFactor       *bool    `json:"require_two_factor,omitempty" doc:"要求登录验证（仅平台管理员可设置）：本小区所有物业人员在未记住的浏览器上登录须输入短信、邮箱或身份验证器的验证码"`
}

func (b communityBody) input() Input {
	return Input{
		Name: b.Name, RegionCode: b.RegionCode, Address: b.Address,
		ManagementStationCount: b.ManagementStationCount, WallStationCount: b.WallStationCount,
		CardType: b.CardType, CommunityPassword: b.CommunityPassword, ResidentRoles: b.ResidentRoles,
		PhoneGateway: b.PhoneGateway, RingSeconds: b.RingSeconds, UnlockDTMF: b.UnlockDTMF,
		InviteNeedsApproval: b.InviteNeedsApproval, RequireTwoFactor: b.RequireTwoFactor,
	}
}

type createBody struct {
	Name                   string   `json:"name" minLength:"1" maxLength:"50" doc:"小区名称"`
	RegionCode             string   `json:"region_code" pattern:"^[0-9]{6}$" patternDescription:"6 位区县代码" doc:"所在城市（区县代码）"`
	Address                string   `json:"address" minLength:"1" maxLength:"200" doc:"详细地址"`
	ManagementStationCount *int     `json:"management_station_count,omitempty" minimum:"0" maximum:"99" doc:"管理机数量，默认 1"`
	WallStationCount       *int     `json:"wall_station_count,omitempty" minimum:"0" maximum:"99" doc:"围墙机数量，默认 1"`
	CardType               *string  `json:"card_type,omitempty" enum:"ic,id_card,both" doc:"门禁卡类型，默认 ic"`
	CommunityPassword      *string  `json:"community_password,omitempty" minLength:"4" maxLength:"16" doc:"小区密码，默认随机 6 位数字"`
	ResidentRoles          []string `json:"resident_roles,omitempty" minItems:"1" maxItems:"10" doc:"业主角色组，默认 业主、家属、租户"`
}

type createInput struct {
	Body createBody
}

type CommunityPath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
}

type updateInput struct {
	CommunityPath
	Body communityBody
}

type listInput struct {
	httpapi.PageParams
}

// Register adds the community operations to api.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("list-communities", http.MethodGet, "/api/v1/communities", "小区信息列表", auth.Open(),
		httpapi.Tags("小区")), func(ctx context.Context, in *listInput) (*httpapi.Body[httpapi.Page[Community]], error) {
		items, total, err := s.List(ctx, in.Offset(), in.Size)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(httpapi.PageOf(items, total, viewFor(ctx))), nil
	})

	huma.Register(api, httpapi.Op("create-community", http.MethodPost, "/api/v1/communities", "添加小区", auth.OperatorOnly(),
		httpapi.Tags("小区"),
		httpapi.Status(http.StatusCreated)), func(ctx context.Context, in *createInput) (*httpapi.Body[Community], error) {
		b := in.Body
		c, err := s.Create(ctx, Input{
			Name: &b.Name, RegionCode: &b.RegionCode, Address: &b.Address,
			ManagementStationCount: b.ManagementStationCount, WallStationCount: b.WallStationCount,
			CardType: b.CardType, CommunityPassword: b.CommunityPassword, ResidentRoles: b.ResidentRoles,
		})
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(View(c)), nil
	})

	huma.Register(api, httpapi.Op("get-community", http.MethodGet, "/api/v1/communities/{cid}", "小区详情", auth.Needs(perm.CommunityView),
		httpapi.Tags("小区")), func(ctx context.Context, in *CommunityPath) (*httpapi.Body[Community], error) {
		c, err := s.Get(ctx, in.CID)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(viewFor(ctx)(c)), nil
	})

	huma.Register(api, httpapi.Op("update-community", http.MethodPatch, "/api/v1/communities/{cid}", "编辑或配置小区", auth.Needs(perm.CommunityEdit),
		httpapi.Tags("小区"),
		httpapi.Describe("只提交要修改的字段。"+
			"物业管理员只能修改小区配置（管理机数量、围墙机数量、门禁卡类型、小区密码、业主角色组、电话网关、呼叫振铃时间、通话开门按键）。")), func(ctx context.Context, in *updateInput) (*httpapi.Body[Community], error) {
		c, err := s.Update(ctx, in.CID, in.Body.input(), auth.Current(ctx).IsOperator())
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(View(c)), nil
	})

	huma.Register(api, httpapi.Op("delete-community", http.MethodDelete, "/api/v1/communities/{cid}", "删除小区", auth.OperatorOnly(),
		httpapi.Tags("小区"),
		httpapi.Status(http.StatusNoContent)), func(ctx context.Context, in *CommunityPath) (*struct{}, error) {
		return nil, s.Delete(ctx, in.CID)
	})

	huma.Register(api, httpapi.Op("list-regions", http.MethodGet, "/api/v1/regions", "省/市/区列表（GB/T 2260）", auth.Open(),
		httpapi.Tags("小区")), func(ctx context.Context, _ *struct{}) (*regionsOutput, error) {
		return &regionsOutput{CacheControl: "private, max-age=86400", Body: region.Tree()}, nil
	})
}

type regionsOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         []region.Node
}
