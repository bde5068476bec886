// Package community manages communities (小区), the tenants of Linli: their
// name, region and address, and their configuration (小区配置).
package community

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/community"
	"linli/internal/ent/device"
	"linli/internal/ent/room"
	"linli/internal/errs"
	"linli/internal/region"
	"linli/internal/store"
	"linli/internal/validate"
)

// Limits of community fields.
const (
	MaxNameLen      = 50
	MaxAddressLen   = 200
	MaxStationCount = 99
	MaxRoles        = 10
	MaxRoleLen      = 10
	MinRingSeconds  = 10
	MaxRingSeconds  = 120
)

// DefaultRoles is the owner role group a new community starts with.
var DefaultRoles = []string{"业主", "家属", "租户"}

// Service manages communities.
type Service struct {
	db *store.Store
}

// NewService returns a Service on db.
func NewService(db *store.Store) *Service { return &Service{db: db} }

// Input creates or changes a community. Nil fields are left as they are
// (or take their defaults on create).
type Input struct {
	Name                   *string
	RegionCode             *string
	Address                *string
	ManagementStationCount *int
	WallStationCount       *int
	CardType               *string
	CommunityPassword      *string
	ResidentRoles          []string
	PhoneGateway           *string
	RingSeconds            *int
	UnlockDTMF             *string
	InviteNeedsApproval    *bool
	RequireTwoFactor       *bool
}

// touchesIdentity reports whether in changes the name, region or address,
// which only operators may change.
func (in Input) touchesIdentity() bool {
	return in.Name != nil || in.RegionCode != nil || in.Address != nil
}

var (
	passwordRE = regexp.MustCompile(`^[0-9A-Za-z]{4,16}$`)
	dtmfRE     = regexp.MustCompile(`^[0-9*#A-D]{1,4}$`)
)

// check validates and normalises in.
func (in *Input) check() error {
	if in.Name != nil {
		v, err := validate.Text("name", "小区名称", *in.Name, 1, MaxNameLen)
		if err != nil {
			return err
		}
		in.Name = &v
	}
	if in.RegionCode != nil {
		if _, ok := region.Lookup(*in.RegionCode); !ok {
			return errs.Fieldf("region_code", "所在城市不正确：%q 不是已知的区县代码，请从列表中选择省/市/区", *in.RegionCode)
		}
	}
	if in.Address != nil {
		v, err := validate.Text("address", "详细地址", *in.Address, 1, MaxAddressLen)
		if err != nil {
			return err
		}
		in.Address = &v
	}
	if in.ManagementStationCount != nil {
		if err := validate.Range("management_station_count", "管理机数量", *in.ManagementStationCount, 0, MaxStationCount); err != nil {
			return err
		}
	}
	if in.WallStationCount != nil {
		if err := validate.Range("wall_station_count", "围墙机数量", *in.WallStationCount, 0, MaxStationCount); err != nil {
			return err
		}
	}
	if in.CardType != nil && community.CardTypeValidator(community.CardType(*in.CardType)) != nil {
		return errs.Field("card_type", "门禁卡类型只能是 ic（IC卡）、id_card（身份证）或 both（IC卡和身份证）")
	}
	if in.CommunityPassword != nil && !passwordRE.MatchString(*in.CommunityPassword) {
		return errs.Field("community_password", "小区密码须为 4 到 16 位数字或字母（安装设备时在设备上输入）")
	}
	if in.PhoneGateway != nil {
		v, err := validate.Text("phone_gateway", "电话网关", *in.PhoneGateway, 0, 200)
		if err != nil {
			return err
		}
		in.PhoneGateway = &v
	}
	if in.RingSeconds != nil {
		if err := validate.Range("ring_seconds", "呼叫振铃时间（秒）", *in.RingSeconds, MinRingSeconds, MaxRingSeconds); err != nil {
			return err
		}
	}
	if in.UnlockDTMF != nil {
		v := strings.ToUpper(strings.TrimSpace(*in.UnlockDTMF))
		if !dtmfRE.MatchString(v) {
			return errs.Field("unlock_dtmf", "通话开门按键须为 1 到 4 个按键：0–9、*、#、A–D，默认 #")
		}
		in.UnlockDTMF = &v
	}
	if in.ResidentRoles != nil {
		roles, err := checkRoles(in.ResidentRoles)
		if err != nil {
			return err
		}
		in.ResidentRoles = roles
	}
	return nil
}

func checkRoles(roles []string) ([]string, error) {
	if len(roles) == 0 {
		return nil, errs.Field("resident_roles", "业主角色组至少需要一个角色")
	}
	if len(roles) > MaxRoles {
		return nil, errs.Fieldf("resident_roles", "业主角色组最多 %d 个角色", MaxRoles)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		v, err := validate.Text("resident_roles", "业主角色", r, 1, MaxRoleLen)
		if err != nil {
			return nil, err
		}
		if seen[v] {
			return nil, errs.Fieldf("resident_roles", "业主角色“%s”重复", v)
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}

// randomPassword returns a 6-digit community password.
func randomPassword() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// Create adds a community. Name, region and address are required; the
// configuration takes defaults (one management and one wall station, IC
// cards, a random 6-digit community password, roles 业主/家属/租户).
//
// Errors: errs.Invalid, errs.Conflict (the name is taken), errs.Forbidden.
func (s *Service) Create(ctx context.Context, in Input) (*ent.Community, error) {
	switch {
	case in.Name == nil:
		return nil, errs.Field("name", "小区名称不能为空")
	case in.RegionCode == nil:
		return nil, errs.Field("region_code", "请选择所在城市")
	case in.Address == nil:
		return nil, errs.Field("address", "详细地址不能为空")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if err := s.nameFree(ctx, *in.Name, 0); err != nil {
		return nil, err
	}
	c := s.db.Community.Create().SetName(*in.Name).SetRegionCode(*in.RegionCode).SetAddress(*in.Address)
	c.SetNillableManagementStationCount(in.ManagementStationCount).SetNillableWallStationCount(in.WallStationCount)
	if in.CardType != nil {
		c.SetCardType(community.CardType(*in.CardType))
	}
	pw := randomPassword()
	if in.CommunityPassword != nil {
		pw = *in.CommunityPassword
	}
	roles := DefaultRoles
	if in.ResidentRoles != nil {
		roles = in.ResidentRoles
	}
	created, err := c.SetCommunityPassword(pw).SetResidentRoles(roles).SetNillablePhoneGateway(in.PhoneGateway).
		SetNillableRingSeconds(in.RingSeconds).SetNillableUnlockDtmf(in.UnlockDTMF).
		SetNillableInviteNeedsApproval(in.InviteNeedsApproval).SetNillableRequireTwoFactor(in.RequireTwoFactor).Save(ctx)
	return created, store.Map(err, "小区")
}

// nameFree checks that no other community is called name.
func (s *Service) nameFree(ctx context.Context, name string, except int) error {
	// The name must be unique across the platform, also among communities the
	// actor cannot see, so this check reads as the system.
	n, err := s.db.Community.Query().Where(community.Name(name), community.IDNEQ(except)).Count(actor.AsSystem(ctx))
	if err != nil {
		return err
	}
	if n > 0 {
		return errs.Fieldf("name", "小区名称“%s”已存在", name)
	}
	return nil
}

// Get returns community id. Errors: errs.NotFound (also for a community the
// actor may not see).
func (s *Service) Get(ctx context.Context, id int) (*ent.Community, error) {
	return store.Community(ctx, s.db.Client, id)
}

// List returns a page of the communities the actor may see, by number.
func (s *Service) List(ctx context.Context, offset, limit int) ([]*ent.Community, int, error) {
	q := s.db.Community.Query()
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	items, err := q.Order(ent.Asc(community.FieldID)).Offset(offset).Limit(limit).All(ctx)
	return items, total, err
}

// Update changes community id. Only operators may change name, region and
// address (operator is true for them); property staff may change the
// configuration of their own community.
//
// Errors: errs.Invalid, errs.NotFound, errs.Forbidden, errs.Conflict.
func (s *Service) Update(ctx context.Context, id int, in Input, operator bool) (*ent.Community, error) {
	if in.touchesIdentity() && !operator {
		return nil, errs.New(errs.Forbidden, "小区名称、所在城市和地址只能由平台管理员修改")
	}
	if in.RequireTwoFactor != nil && !operator {
		return nil, errs.New(errs.Forbidden, "要求登录验证只能由平台管理员设置")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := s.nameFree(ctx, *in.Name, id); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct {
		n           *int
		kind, field string
		label       string
	}{
		{in.WallStationCount, "wall", "wall_station_count", "围墙机"},
		{in.ManagementStationCount, "management", "management_station_count", "管理机"},
	} {
		if c.n == nil {
			continue
		}
		bound, err := s.db.Device.Query().Where(device.CommunityID(id), device.KindEQ(device.Kind(c.kind)), device.IndexGT(*c.n)).
			Order(ent.Desc(device.FieldIndex)).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		if bound != nil {
			return nil, errs.Fieldf(c.field, "%s%d 已绑定设备 %s，数量不能少于 %d；请先在设备列表中解绑", c.label, bound.Index, bound.Serial, bound.Index)
		}
	}
	u := s.db.Community.UpdateOneID(id).
		SetNillableName(in.Name).SetNillableRegionCode(in.RegionCode).SetNillableAddress(in.Address).
		SetNillableManagementStationCount(in.ManagementStationCount).SetNillableWallStationCount(in.WallStationCount).
		SetNillableCommunityPassword(in.CommunityPassword).SetNillablePhoneGateway(in.PhoneGateway).
		SetNillableRingSeconds(in.RingSeconds).SetNillableUnlockDtmf(in.UnlockDTMF).SetUpdatedAt(time.Now()).
		SetNillableInviteNeedsApproval(in.InviteNeedsApproval).SetNillableRequireTwoFactor(in.RequireTwoFactor)
	if in.CardType != nil {
		u.SetCardType(community.CardType(*in.CardType))
	}
	if in.ResidentRoles != nil {
		u.SetResidentRoles(in.ResidentRoles)
	}
	c, err := u.Save(ctx)
	return c, store.Map(err, "小区")
}

// Delete removes community id when it holds no housing. Its staff accounts
// stay and lose their membership.
//
// Errors: errs.NotFound, errs.Conflict (says what is inside).
func (s *Service) Delete(ctx context.Context, id int) error {
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	areas, err := c.QueryAreas().Count(ctx)
	if err != nil {
		return err
	}
	rooms, err := s.db.Room.Query().Where(room.CommunityID(id)).Count(ctx)
	if err != nil {
		return err
	}
	if areas > 0 {
		return errs.Newf(errs.Conflict, "小区“%s”下还有 %d 个区域、%d 个房间，请先在房屋信息列表中删除后再删除小区", c.Name, areas, rooms)
	}
	return store.Map(s.db.Community.DeleteOneID(id).Exec(ctx), "小区")
}
