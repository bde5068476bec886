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
}

// All lists every permission with its area and label, in display order.
var All = []PermissionInfo{
	{CommunityView, "小区信息", "小区信息·查看"},
	{CommunityEdit, "小区信息", "小区信息·编辑"},
	{HousingView, "房屋", "房屋·查看"},
	{HousingEdit, "房屋", "房屋·编辑"},
	{ResidentsView, "业主", "业主·查看"},
	{ResidentsEdit, "业主", "业主·编辑"},
	{IDNumberView, "业主", "身份证号查看"},
	{ApplicationsView, "业主申请", "业主申请·查看"},
	{ApplicationsEdit, "业主申请", "业主申请·编辑"},
	{CardsView, "门禁卡", "门禁卡·查看"},
	{CardsEdit, "门禁卡", "门禁卡·编辑"},
	{DevicesView, "设备", "设备·查看"},
	{DevicesEdit, "设备", "设备·编辑"},
	{FirmwareUpgrade, "设备", "固件升级"},
	{NoticesView, "通知", "通知·查看"},
	{NoticesEdit, "通知", "通知·编辑"},
	{AdsView, "广告", "广告·查看"},
	{AdsEdit, "广告", "广告·编辑"},
	{RecordsView, "呼叫/开锁记录", "呼叫/开锁记录·查看"},
	{RecordsExport, "呼叫/开锁记录", "呼叫/开锁记录·导出"},
	{PassesView, "访客通行", "访客通行·查看"},
	{PassesEdit, "访客通行", "访客通行·编辑"},
	{DoorCall, "门口呼叫", "门口呼叫"},
	{StaffManage, "员工与角色", "员工与角色管理"},
}

// Label returns the Chinese name of p, or p itself when unknown.
func Label(p Perm) string {
	for _, i := range All {
		if i.Perm == p {
			return i.Label
		}
	}
	return string(p)
}

// Known reports whether p is a permission of this version.
func Known(p Perm) bool {
	return slices.ContainsFunc(All, func(i PermissionInfo) bool { return i.Perm == p })
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
		CommunityView, HousingView, RecordsView, PassesView, DoorCall, DevicesView,
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
