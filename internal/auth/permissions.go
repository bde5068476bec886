package auth

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/perm"
)

// Keys of an operation's Metadata that the gate reads for staff.
const (
	permKey = "perm"
	openKey = "open"
)

// CustomRolePrefix starts the staff_role of an account whose role its
// community made in the role editor; the id of the StaffRole follows.
const CustomRolePrefix = "custom:"

// Needs marks an operation that staff may call only when their role holds
// every one of ps (发普通卡 needs 门禁卡·编辑 and, since it picks a resident,
// 业主·查看). Operators may call it regardless.
func Needs(ps ...perm.Perm) map[string]any { return map[string]any{permKey: ps} }

// Open marks an operation that every signed-in account may call whatever its
// role (the community list, the own profile). An operation that declares
// neither Needs nor Open is refused to every role short of 物业管理员, so a
// new operation cannot slip past the roles.
func Open() map[string]any { return map[string]any{openKey: true} }

// Required returns the permissions the operation with metadata meta needs,
// or none when it declares none.
func Required(meta map[string]any) []perm.Perm {
	ps, _ := meta[permKey].([]perm.Perm)
	return ps
}

// Declared reports whether meta says who may call the operation: a
// permission, open to every session, public, device, resident or operator.
func Declared(meta map[string]any) bool {
	if len(Required(meta)) > 0 || meta[openKey] == true || meta[roleKey] == "operator" {
		return true
	}
	_, ok := meta[accessKey]
	return ok
}

// Can reports whether p holds permission x. Operators hold every permission.
func (p *Principal) Can(x perm.Perm) bool {
	return p.IsOperator() || slices.Contains(p.Permissions, x)
}

// full reports whether p holds every permission (operators, 物业管理员).
func (p *Principal) full() bool {
	if p.IsOperator() {
		return true
	}
	for _, x := range perm.Every() {
		if !slices.Contains(p.Permissions, x) {
			return false
		}
	}
	return true
}

// checkPermission answers whether p may call an operation with metadata
// meta; the error names the missing permission.
func checkPermission(p *Principal, meta map[string]any) error {
	if needs := Required(meta); len(needs) > 0 {
		for _, need := range needs {
			if !p.Can(need) {
				return errs.New(errs.Forbidden, fmt.Sprintf("无权限：需要「%s」权限", perm.Label(need)))
			}
		}
		return nil
	}
	if meta[openKey] == true || meta[accessKey] == accessAnySession || p.full() {
		return nil
	}
	return errs.New(errs.Forbidden, "无权限：需要「物业管理员」权限")
}

// RoleName returns the name of a staff role key: a built-in role or a role
// of the community (custom). Unknown keys read as they are.
func RoleName(key string, custom *ent.StaffRole) string {
	if key == "" {
		key = perm.PropertyAdmin
	}
	if b, ok := perm.BuiltinRole(key); ok {
		return b.Name
	}
	if custom != nil {
		return custom.Name
	}
	return key
}

// CustomRoleID returns the StaffRole id of key, or 0 for built-in roles.
func CustomRoleID(key string) int {
	id, err := strconv.Atoi(strings.TrimPrefix(key, CustomRolePrefix))
	if !strings.HasPrefix(key, CustomRolePrefix) || err != nil {
		return 0
	}
	return id
}

// permissionsOf resolves the permissions of a staff account and the name
// of its role.
func (s *Service) permissionsOf(sys context.Context, acc *ent.Account) ([]perm.Perm, string, error) {
	return RolePermissions(sys, s.db.Client, acc)
}

// RolePermissions resolves the permissions of staff account acc and the
// name of its role. The role is read with ctx (the system, or the account's
// own community roles); a custom role that no longer exists grants nothing.
func RolePermissions(ctx context.Context, db *ent.Client, acc *ent.Account) ([]perm.Perm, string, error) {
	key := acc.StaffRole
	if key == "" {
		key = perm.PropertyAdmin
	}
	if b, ok := perm.BuiltinRole(key); ok {
		return b.Perms, b.Name, nil
	}
	id := CustomRoleID(key)
	r, err := db.StaffRole.Get(ctx, id)
	if ent.IsNotFound(err) {
		return []perm.Perm{}, key, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("auth: staff role %d: %w", id, err)
	}
	ps := make([]perm.Perm, 0, len(r.Permissions))
	for _, x := range r.Permissions {
		ps = append(ps, perm.Perm(x))
	}
	// Roles saved before a permission's needs were known get them here.
	return perm.WithNeeds(ps), r.Name, nil
}
