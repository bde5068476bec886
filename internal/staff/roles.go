// Package staff lets a community's property admin (物业管理员) manage its
// staff: roles made of permissions (角色权限, the role editor) and staff
// accounts with a role. Operators may do the same for any community. The
// gate enforces the permissions; this package only keeps them.
package staff

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"linli/internal/account"
	"linli/internal/auth"
	"linli/internal/ent"
	entaccount "linli/internal/ent/account"
	"linli/internal/ent/staffrole"
	"linli/internal/errs"
	"linli/internal/perm"
	"linli/internal/store"
	"linli/internal/validate"
)

// Service manages roles and staff accounts.
type Service struct {
	db       *store.Store
	accounts *account.Service
	logger   *slog.Logger
}

// NewService returns a Service on db that creates accounts with accounts.
func NewService(db *store.Store, accounts *account.Service, logger *slog.Logger) *Service {
	return &Service{db: db, accounts: accounts, logger: logger}
}

// Role is a role of a community as the role editor shows it.
type Role struct {
	Key         string   `json:"key" doc:"角色标识：内置角色为 property_admin、customer_service、guard、engineer，自建角色为 custom:编号"`
	ID          int      `json:"id,omitempty" doc:"自建角色的编号；内置角色为 0"`
	Name        string   `json:"name" doc:"角色名称"`
	Builtin     bool     `json:"builtin" doc:"内置角色不能修改或删除"`
	Permissions []string `json:"permissions" doc:"权限列表"`
	Accounts    int      `json:"accounts" doc:"使用该角色的本小区账号数"`
}

// RoleInput creates or changes a role.
type RoleInput struct {
	Name        *string
	Permissions []string
}

func builtinView(b perm.Builtin) Role {
	ps := make([]string, len(b.Perms))
	for i, p := range b.Perms {
		ps[i] = string(p)
	}
	return Role{Key: b.Key, Name: b.Name, Builtin: true, Permissions: ps}
}

func customView(r *ent.StaffRole) Role {
	ps := r.Permissions
	if ps == nil {
		ps = []string{}
	}
	return Role{Key: auth.CustomRolePrefix + fmt.Sprint(r.ID), ID: r.ID, Name: r.Name, Permissions: ps}
}

// Roles returns the built-in roles and the roles community cid created,
// each with the number of its accounts in cid.
//
// Errors: errs.NotFound (the community, also one the actor may not see).
func (s *Service) Roles(ctx context.Context, cid int) ([]Role, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, err
	}
	var out []Role
	for _, b := range perm.Builtins {
		out = append(out, builtinView(b))
	}
	rs, err := s.db.StaffRole.Query().Where(staffrole.CommunityID(cid)).Order(ent.Asc(staffrole.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		out = append(out, customView(r))
	}
	accs, err := s.members(ctx, cid)
	if err != nil {
		return nil, err
	}
	for i := range out {
		for _, a := range accs {
			if roleKey(a) == out[i].Key {
				out[i].Accounts++
			}
		}
	}
	return out, nil
}

// checkRole validates a role's name and permissions.
func checkRole(in RoleInput, creating bool) (RoleInput, error) {
	if in.Name != nil || creating {
		name := ""
		if in.Name != nil {
			name = *in.Name
		}
		v, err := validate.Text("name", "角色名称", name, 1, 32)
		if err != nil {
			return in, err
		}
		for _, b := range perm.Builtins {
			if b.Name == v {
				return in, errs.Fieldf("name", "“%s”是内置角色，请换一个名称", v)
			}
		}
		in.Name = &v
	}
	if in.Permissions != nil {
		ps := make([]perm.Perm, 0, len(in.Permissions))
		for _, p := range in.Permissions {
			p = strings.TrimSpace(p)
			if !perm.Known(perm.Perm(p)) {
				return in, errs.Fieldf("permissions", "未知的权限：%s", p)
			}
			ps = append(ps, perm.Perm(p))
		}
		// What a permission needs is saved with it (业主·编辑 brings 业主·查看
		// and 房屋·查看), in the editor's order, so the same set always reads
		// the same.
		in.Permissions = in.Permissions[:0]
		for _, p := range perm.WithNeeds(ps) {
			in.Permissions = append(in.Permissions, string(p))
		}
	} else if creating {
		in.Permissions = []string{}
	}
	return in, nil
}

// CreateRole adds a role to community cid.
//
// Errors: errs.Invalid, errs.Conflict (the name is taken), errs.NotFound.
func (s *Service) CreateRole(ctx context.Context, cid int, in RoleInput) (Role, error) {
	in, err := checkRole(in, true)
	if err != nil {
		return Role{}, err
	}
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return Role{}, err
	}
	if err := s.nameFree(ctx, cid, 0, *in.Name); err != nil {
		return Role{}, err
	}
	r, err := s.db.StaffRole.Create().SetCommunityID(cid).SetName(*in.Name).SetPermissions(in.Permissions).Save(ctx)
	if err != nil {
		return Role{}, store.Map(err, "角色")
	}
	s.logger.InfoContext(ctx, "staff role created", "community", cid, "role", r.Name, "permissions", r.Permissions)
	return customView(r), nil
}

func (s *Service) nameFree(ctx context.Context, cid, except int, name string) error {
	taken, err := s.db.StaffRole.Query().Where(staffrole.CommunityID(cid), staffrole.Name(name), staffrole.IDNEQ(except)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return errs.Fieldf("name", "角色“%s”已存在", name)
	}
	return nil
}

// UpdateRole changes the name or permissions of role id of community cid;
// its accounts hold the new permissions from their next request.
//
// Errors: errs.Invalid, errs.NotFound.
func (s *Service) UpdateRole(ctx context.Context, cid, id int, in RoleInput) (Role, error) {
	in, err := checkRole(in, false)
	if err != nil {
		return Role{}, err
	}
	r, err := s.role(ctx, cid, id)
	if err != nil {
		return Role{}, err
	}
	u := r.Update().SetUpdatedAt(time.Now())
	if in.Name != nil {
		if err := s.nameFree(ctx, cid, id, *in.Name); err != nil {
			return Role{}, err
		}
		u.SetName(*in.Name)
	}
	if in.Permissions != nil {
		u.SetPermissions(in.Permissions)
	}
	r, err = u.Save(ctx)
	if err != nil {
		return Role{}, store.Map(err, "角色")
	}
	s.logger.InfoContext(ctx, "staff role changed", "community", cid, "role", r.Name, "permissions", r.Permissions)
	return customView(r), nil
}

// DeleteRole removes role id of community cid.
//
// Errors: errs.NotFound, errs.Conflict (accounts still have the role).
func (s *Service) DeleteRole(ctx context.Context, cid, id int) error {
	r, err := s.role(ctx, cid, id)
	if err != nil {
		return err
	}
	n, err := s.db.Account.Query().Where(entaccount.StaffRole(auth.CustomRolePrefix + fmt.Sprint(id))).Count(sysOf(ctx))
	if err != nil {
		return err
	}
	if n > 0 {
		return errs.Newf(errs.Conflict, "还有 %d 个账号使用角色“%s”，请先给他们换一个角色", n, r.Name)
	}
	return store.Map(s.db.StaffRole.DeleteOneID(id).Exec(ctx), "角色")
}

func (s *Service) role(ctx context.Context, cid, id int) (*ent.StaffRole, error) {
	r, err := s.db.StaffRole.Query().Where(staffrole.ID(id), staffrole.CommunityID(cid)).Only(ctx)
	return r, store.Map(err, "角色")
}

// roleName checks that key is a role of community cid and returns its name.
func (s *Service) roleName(ctx context.Context, cid int, key string) (string, error) {
	if b, ok := perm.BuiltinRole(key); ok {
		return b.Name, nil
	}
	if id := auth.CustomRoleID(key); id > 0 {
		r, err := s.role(ctx, cid, id)
		if err == nil {
			return r.Name, nil
		}
		if errs.CodeOf(err) != errs.NotFound {
			return "", err
		}
	}
	return "", errs.Field("role", "所选角色不存在")
}
