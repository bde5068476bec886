package staff

import (
	"context"
	"fmt"

	"linli/internal/account"
	"linli/internal/actor"
	"linli/internal/ent"
	entaccount "linli/internal/ent/account"
	"linli/internal/ent/community"
	"linli/internal/errs"
	"linli/internal/perm"
	"linli/internal/store"
)

// StaffAccount is a staff account of a community as the staff list shows it.
type StaffAccount struct {
	ID                 int    `json:"id"`
	Account            string `json:"account" doc:"登录账号"`
	Name               string `json:"name" doc:"称呼"`
	Phone              string `json:"phone" doc:"电话"`
	Email              string `json:"email" doc:"邮箱"`
	Role               string `json:"role" doc:"角色标识"`
	RoleName           string `json:"role_name" doc:"角色名称"`
	MustChangePassword bool   `json:"must_change_password" doc:"是否还需修改初始密码"`
	Disabled           bool   `json:"disabled" doc:"是否已停用"`
}

// MemberInput creates a staff account.
type MemberInput struct {
	Account  string
	Name     string
	Phone    string
	Email    string
	Role     string
	Password string
}

// sysOf returns ctx acting as the system. Accounts are not scoped by
// community in the data layer (staff see only their own), so this package
// checks the community itself before it reads or changes them.
func sysOf(ctx context.Context) context.Context { return actor.AsSystem(ctx) }

func roleKey(a *ent.Account) string {
	if a.StaffRole == "" {
		return perm.PropertyAdmin
	}
	return a.StaffRole
}

// members returns the staff accounts of community cid, which the actor in
// ctx must see.
func (s *Service) members(ctx context.Context, cid int) ([]*ent.Account, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, err
	}
	return s.db.Account.Query().
		Where(entaccount.RoleEQ(entaccount.RolePropertyAdmin), entaccount.HasCommunitiesWith(community.ID(cid))).
		Order(ent.Asc(entaccount.FieldID)).All(sysOf(ctx))
}

// Members returns the staff accounts of community cid with their roles.
//
// Errors: errs.NotFound (the community).
func (s *Service) Members(ctx context.Context, cid int) ([]StaffAccount, error) {
	accs, err := s.members(ctx, cid)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := make([]StaffAccount, 0, len(accs))
	for _, a := range accs {
		key := roleKey(a)
		name, ok := names[key]
		if !ok {
			if name, err = s.roleName(ctx, cid, key); errs.CodeOf(err) == errs.Invalid {
				name, err = "（角色已删除）", nil
			}
			if err != nil {
				return nil, err
			}
			names[key] = name
		}
		out = append(out, memberView(a, name))
	}
	return out, nil
}

func memberView(a *ent.Account, roleName string) StaffAccount {
	return StaffAccount{ID: a.ID, Account: a.Account, Name: a.Name, Phone: a.Phone, Email: a.Email,
		Role: roleKey(a), RoleName: roleName, MustChangePassword: a.MustChangePassword, Disabled: a.Disabled}
}

// CreateMember adds a staff account to community cid with a role; like
// every new account it must change its initial password at first login.
//
// Errors: errs.Invalid (details, unknown role), errs.NotFound (community).
func (s *Service) CreateMember(ctx context.Context, cid int, in MemberInput) (StaffAccount, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return StaffAccount{}, err
	}
	name, err := s.roleName(ctx, cid, in.Role)
	if err != nil {
		return StaffAccount{}, err
	}
	a, err := s.accounts.Create(sysOf(ctx), account.Input{Account: in.Account, Name: in.Name, Phone: in.Phone, Email: in.Email,
		Role: account.RolePropertyAdmin, CommunityIDs: []int{cid}, Password: in.Password, StaffRole: in.Role})
	if err != nil {
		return StaffAccount{}, err
	}
	s.logger.InfoContext(ctx, "staff account created", "community", cid, "account", a.Account, "role", in.Role)
	return memberView(a, name), nil
}

// member returns staff account id of community cid that the actor in ctx
// may manage: not itself, and in no community the actor does not manage.
func (s *Service) member(ctx context.Context, cid, id int) (*ent.Account, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, err
	}
	a, err := s.db.Account.Query().
		Where(entaccount.ID(id), entaccount.RoleEQ(entaccount.RolePropertyAdmin), entaccount.HasCommunitiesWith(community.ID(cid))).
		WithCommunities().Only(sysOf(ctx))
	if err != nil {
		return nil, store.Map(err, "账号")
	}
	me, _ := actor.From(ctx)
	if me.AccountID == a.ID {
		return nil, errs.New(errs.Conflict, "不能修改或删除自己的账号角色，请联系其他物业管理员或平台管理员")
	}
	for _, c := range a.Edges.Communities {
		if !me.CanAccess(c.ID) {
			return nil, errs.New(errs.Forbidden, "该账号也属于其他小区，请联系平台管理员修改")
		}
	}
	return a, nil
}

// SetMemberRole gives staff account id of community cid another role; it
// holds the new permissions from its next request.
//
// Errors: errs.Invalid (unknown role), errs.NotFound, errs.Conflict (own
// account), errs.Forbidden (the account also belongs to another community).
func (s *Service) SetMemberRole(ctx context.Context, cid, id int, role string) (StaffAccount, error) {
	a, err := s.member(ctx, cid, id)
	if err != nil {
		return StaffAccount{}, err
	}
	name, err := s.roleName(ctx, cid, role)
	if err != nil {
		return StaffAccount{}, err
	}
	a, err = a.Update().SetStaffRole(role).Save(sysOf(ctx))
	if err != nil {
		return StaffAccount{}, fmt.Errorf("staff: set role: %w", err)
	}
	s.logger.InfoContext(ctx, "staff role assigned", "community", cid, "account", a.Account, "role", role)
	return memberView(a, name), nil
}

// DeleteMember removes staff account id of community cid and its sessions.
//
// Errors: as SetMemberRole.
func (s *Service) DeleteMember(ctx context.Context, cid, id int) error {
	if _, err := s.member(ctx, cid, id); err != nil {
		return err
	}
	return s.accounts.Delete(sysOf(ctx), id)
}

// Admin is a 物业管理员 of a community as the 无权限 page names them: whom
// to ask for a permission.
type Admin struct {
	Name  string `json:"name" doc:"称呼"`
	Phone string `json:"phone" doc:"电话"`
}

// Admins returns the enabled 物业管理员 of community cid.
//
// Errors: errs.NotFound (the community, also one the actor may not see).
func (s *Service) Admins(ctx context.Context, cid int) ([]Admin, error) {
	accs, err := s.members(ctx, cid)
	if err != nil {
		return nil, err
	}
	out := []Admin{}
	for _, a := range accs {
		if roleKey(a) == perm.PropertyAdmin && !a.Disabled {
			out = append(out, Admin{Name: a.Name, Phone: a.Phone})
		}
	}
	return out, nil
}
