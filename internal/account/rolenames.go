package account

import (
	"context"
	"fmt"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/ent/staffrole"
)

// RoleNames returns the 角色 of each account by id as people call it:
// 平台管理员, a built-in staff role, or the name of its community's role.
func (s *Service) RoleNames(ctx context.Context, accs []*ent.Account) (map[int]string, error) {
	var custom []int
	for _, a := range accs {
		if id := auth.CustomRoleID(a.StaffRole); id > 0 {
			custom = append(custom, id)
		}
	}
	roles := map[int]*ent.StaffRole{}
	if len(custom) > 0 {
		rs, err := s.db.StaffRole.Query().Where(staffrole.IDIn(custom...)).All(actor.AsSystem(ctx))
		if err != nil {
			return nil, fmt.Errorf("account: staff roles: %w", err)
		}
		for _, r := range rs {
			roles[r.ID] = r
		}
	}
	out := make(map[int]string, len(accs))
	for _, a := range accs {
		switch {
		case a.Role == RoleOperator:
			out[a.ID] = "平台管理员"
		case auth.CustomRoleID(a.StaffRole) > 0 && roles[auth.CustomRoleID(a.StaffRole)] == nil:
			out[a.ID] = "（角色已删除）"
		default:
			out[a.ID] = auth.RoleName(a.StaffRole, roles[auth.CustomRoleID(a.StaffRole)])
		}
	}
	return out, nil
}
