// Package perm names the permissions of property staff (角色权限): one per
// console area and action, the built-in roles made of them, and their
// Chinese labels. The gate (package auth) checks them; the console hides
// what a role lacks.
package perm

import "slices"

// Perm is one permission, e.g. "residents.edit".
type Perm string

// Permissions, in the order the role editor shows them.
const (
	CommunityView    Perm = "community.view"
	CommunityEdit    Perm = "community.edit"
	HousingView      Perm = "housing.view"
	HousingEdit      Perm = "housing.edit"
	ResidentsView    Perm = "residents.view"
	ResidentsEdit    Perm = "residents.edit"
	IDNumberView     Perm = "residents.id_number"
	ApplicationsView Perm = "applications.view"
	ApplicationsEdit Perm = "applications.edit"
	CardsView        Perm = "cards.view"
	CardsEdit        Perm = "cards.edit"
	DevicesView      Perm = "devices.view"
	DevicesEdit      Perm = "devices.edit"
	FirmwareUpgrade  Perm = "devices.firmware"
	NoticesView      Perm = "notices.view"
	NoticesEdit      Perm = "notices.edit"
	AdsView          Perm = "ads.view"
	AdsEdit          Perm = "ads.edit"
	RecordsView      Perm = "records.view"
	RecordsExport    Perm = "records.export"
	PassesView       Perm = "passes.view"
	PassesEdit       Perm = "passes.edit"
	DoorCall         Perm = "doorcall.answer"
	StaffManage      Perm = "staff.manage"
)

// PermissionInfo describes a permission for people.
type PermissionInfo struct {
	Perm  Perm   `json:"perm"`
	Area  string `json:"area" doc:"功能区，如 业主"`
	Label string `json:"label" doc:"完整名称，如 业主·编辑"`
	// Needs are the permissions without which this one cannot be used: an
	// edit needs its view, and a page that picks rooms needs 房屋·查看.
	Needs []Perm `json:"needs" doc:"使用本权限所需的其他权限（角色中一并保存）"`
}

// All lists every permission with its area and label, in display order.
var All = []PermissionInfo{
	{CommunityView, "小区信息", "小区信息·查看", []Perm{}},
	{CommunityEdit, "小区信息", "小区信息·编辑", []Perm{CommunityView}},
	{HousingView, "房屋", "房屋·查看", []Perm{}},
	{HousingEdit, "房屋", "房屋·编辑", []Perm{HousingView}},
	{ResidentsView, "业主", "业主·查看", []Perm{HousingView}},
	{ResidentsEdit, "业主", "业主·编辑", []Perm{ResidentsView}},
	{IDNumberView, "业主", "身份证号查看", []Perm{ResidentsView}},
	{ApplicationsView, "业主申请", "业主申请·查看", []Perm{HousingView}},
	{ApplicationsEdit, "业主申请", "业主申请·编辑", []Perm{ApplicationsView}},
	{CardsView, "门禁卡", "门禁卡·查看", []Perm{HousingView}},
	{CardsEdit, "门禁卡", "门禁卡·编辑", []Perm{CardsView}},
	{DevicesView, "设备", "设备·查看", []Perm{HousingView}},
	{DevicesEdit, "设备", "设备·编辑", []Perm{DevicesView}},
	{FirmwareUpgrade, "设备", "固件升级", []Perm{DevicesView}},
	{NoticesView, "通知", "通知·查看", []Perm{}},
	{NoticesEdit, "通知", "通知·编辑", []Perm{NoticesView, HousingView}},
	{AdsView, "广告", "广告·查看", []Perm{}},
	{AdsEdit, "广告", "广告·编辑", []Perm{AdsView}},
	{RecordsView, "呼叫/开锁记录", "呼叫/开锁记录·查看", []Perm{HousingView}},
	{RecordsExport, "呼叫/开锁记录", "呼叫/开锁记录·导出", []Perm{RecordsView}},
	{PassesView, "访客通行", "访客通行·查看", []Perm{HousingView}},
	{PassesEdit, "访客通行", "访客通行·编辑", []Perm{PassesView}},
	{DoorCall, "门口呼叫", "门口呼叫", []Perm{}},
	{StaffManage, "员工与角色", "员工与角色管理", []Perm{}},
}

// info returns the description of p; ok is false for an unknown p.
func info(p Perm) (PermissionInfo, bool) {
	i := slices.IndexFunc(All, func(i PermissionInfo) bool { return i.Perm == p })
	if i < 0 {
		return PermissionInfo{}, false
	}
	return All[i], true
}

// Label returns the Chinese name of p, or p itself when unknown.
func Label(p Perm) string {
	if i, ok := info(p); ok {
		return i.Label
	}
	return string(p)
}

// Known reports whether p is a permission of this version.
func Known(p Perm) bool {
	_, ok := info(p)
	return ok
}

// WithNeeds returns ps with every permission they need, directly or
// through another, in the editor's order and without repeats. Unknown
// permissions are dropped.
func WithNeeds(ps []Perm) []Perm {
	have := map[Perm]bool{}
	var add func(p Perm)
	add = func(p Perm) {
		i, ok := info(p)
		if have[p] || !ok {
			return
		}
		have[p] = true
		for _, n := range i.Needs {
			add(n)
		}
	}
	for _, p := range ps {
		add(p)
	}
	out := make([]Perm, 0, len(have))
	for _, i := range All {
		if have[i.Perm] {
			out = append(out, i.Perm)
		}
	}
	return out
}

// Every returns every permission.
func Every() []Perm {
	ps := make([]Perm, len(All))
	for i, info := range All {
		ps[i] = info.Perm
	}
	return ps
}

// Keys of the built-in roles. An account's staff role is one of these or
// CustomPrefix followed by the id of a role its community created.
const (
	PropertyAdmin   = "property_admin"
	CustomerService = "customer_service"
	Guard           = "guard"
	Engineer        = "engineer"
)

// Builtin is a role every community has.
type Builtin struct {
	Key   string
	Name  string
	Perms []Perm
}

// Builtins are the roles every community has; 物业管理员 holds every
// permission. The defaults are documented in docs/roles.md.
var Builtins = []Builtin{
	{PropertyAdmin, "物业管理员", Every()},
	{CustomerService, "客服", []Perm{
		CommunityView, HousingView, ResidentsView, ResidentsEdit, ApplicationsView, ApplicationsEdit,
		CardsView, CardsEdit, NoticesView, NoticesEdit, RecordsView, PassesView, PassesEdit, DoorCall,
	}},
	{Guard, "保安", []Perm{
		CommunityView, HousingView, DevicesView, RecordsView, PassesView, DoorCall,
	}},
	{Engineer, "工程", []Perm{
		CommunityView, HousingView, CardsView, CardsEdit, DevicesView, DevicesEdit, FirmwareUpgrade, RecordsView,
	}},
}

// BuiltinRole returns the built-in role of key.
func BuiltinRole(key string) (Builtin, bool) {
	for _, b := range Builtins {
		if b.Key == key {
			return b, true
		}
	}
	return Builtin{}, false
}
