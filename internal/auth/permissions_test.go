package auth

import (
	"testing"

	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/perm"
)

func TestCheckPermission(t *testing.T) {
	guard, _ := perm.BuiltinRole(perm.Guard)
	staff := func(ps []perm.Perm) *Principal {
		return &Principal{Account: &ent.Account{Role: "property_admin"}, Permissions: ps}
	}
	operator := &Principal{Account: &ent.Account{Role: "operator"}}
	for _, c := range []struct {
		name string
		p    *Principal
		meta map[string]any
		want string // "" allowed, else the refusal's text
	}{
		{"guard with the permission", staff(guard.Perms), Needs(perm.RecordsView), ""},
		{"guard without it", staff(guard.Perms), Needs(perm.ResidentsEdit), "无权限：需要「业主·编辑」权限"},
		{"guard on an open operation", staff(guard.Perms), Open(), ""},
		{"guard before changing the password", staff(guard.Perms), AnySession(), ""},
		// Nothing declared: only a role holding everything passes.
		{"guard on an undeclared operation", staff(guard.Perms), map[string]any{}, "无权限：需要「物业管理员」权限"},
		{"admin on an undeclared operation", staff(perm.Every()), map[string]any{}, ""},
		{"admin with the permission", staff(perm.Every()), Needs(perm.StaffManage), ""},
		{"empty role", staff(nil), Needs(perm.CommunityView), "无权限：需要「小区信息·查看」权限"},
		{"operator", operator, Needs(perm.IDNumberView), ""},
		{"operator on an undeclared operation", operator, map[string]any{}, ""},
	} {
		err := checkPermission(c.p, c.meta)
		got := ""
		if err != nil {
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Forbidden {
				t.Errorf("%s: %v is not a refusal", c.name, err)
				continue
			}
			got = e.Message
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCustomRoleID(t *testing.T) {
	for key, want := range map[string]int{"custom:12": 12, "guard": 0, "custom:": 0, "custom:x": 0, "12": 0} {
		if got := CustomRoleID(key); got != want {
			t.Errorf("CustomRoleID(%q) = %d, want %d", key, got, want)
		}
	}
}
