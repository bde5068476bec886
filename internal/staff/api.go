package staff

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/httpapi"
	"linli/internal/perm"
)

// CommunityPath is a community of the staff operations.
type CommunityPath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
}

// RolePath is a role of a community.
type RolePath struct {
	CommunityPath
	ID int `path:"id" minimum:"1" doc:"角色编号"`
}

type roleBody struct {
	Name        *string  `json:"name,omitempty" maxLength:"32" doc:"角色名称，1–32 字，不能与内置角色同名"`
	Permissions []string `json:"permissions,omitempty" maxItems:"64" doc:"权限列表（见 GET /api/v1/permissions）"`
}

type createRoleInput struct {
	CommunityPath
	Body roleBody
}

type updateRoleInput struct {
	RolePath
	Body roleBody
}

type rolesOutputBody struct {
	Items []Role `json:"items"`
}

// StaffPath is a staff account of a community.
type StaffPath struct {
	CommunityPath
	ID int `path:"id" minimum:"1" doc:"账号编号"`
}

type createMemberInput struct {
	CommunityPath
	Body struct {
		StaffAccount string `json:"account" minLength:"3" maxLength:"32" doc:"登录账号"`
		Name         string `json:"name" minLength:"1" maxLength:"32" doc:"称呼"`
		Phone        string `json:"phone" minLength:"5" maxLength:"20" doc:"电话"`
		Email        string `json:"email,omitempty" maxLength:"254" doc:"邮箱（可选）"`
		Role         string `json:"role" minLength:"1" maxLength:"32" doc:"角色标识（见角色列表的 key）"`
		Password     string `json:"password,omitempty" maxLength:"128" doc:"初始密码，不填为 123456；首次登录必须修改"`
	}
}

type setMemberRoleInput struct {
	StaffPath
	Body struct {
		Role string `json:"role" minLength:"1" maxLength:"32" doc:"角色标识"`
	}
}

type membersOutputBody struct {
	Items []StaffAccount `json:"items"`
}

type adminsOutputBody struct {
	Items []Admin `json:"items"`
}

type permissionsOutputBody struct {
	Items []perm.PermissionInfo `json:"items" doc:"全部权限，按角色编辑器的顺序"`
}

// Register adds the role editor and the staff accounts of a community.
// They need 员工与角色管理, which only 物业管理员 holds among the built-in roles.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("list-permissions", http.MethodGet, "/api/v1/permissions", "全部权限", auth.Open(),
		httpapi.Tags("员工与角色")), func(context.Context, *struct{}) (*httpapi.Body[permissionsOutputBody], error) {
		return httpapi.Reply(permissionsOutputBody{Items: perm.All}), nil
	})

	huma.Register(api, httpapi.Op("list-community-admins", http.MethodGet, "/api/v1/communities/{cid}/admins", "本小区的物业管理员（申请权限时联系）", auth.Open(),
		httpapi.Tags("员工与角色")), func(ctx context.Context, in *CommunityPath) (*httpapi.Body[adminsOutputBody], error) {
		as, err := s.Admins(ctx, in.CID)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(adminsOutputBody{Items: as}), nil
	})

	huma.Register(api, httpapi.Op("list-roles", http.MethodGet, "/api/v1/communities/{cid}/roles", "角色列表（内置角色和自建角色）", auth.Needs(perm.StaffManage),
		httpapi.Tags("员工与角色")),
		func(ctx context.Context, in *CommunityPath) (*httpapi.Body[rolesOutputBody], error) {
			rs, err := s.Roles(ctx, in.CID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(rolesOutputBody{Items: rs}), nil
		})
	huma.Register(api, httpapi.Op("create-role", http.MethodPost, "/api/v1/communities/{cid}/roles", "新建角色", auth.Needs(perm.StaffManage),
		httpapi.Tags("员工与角色"),
		httpapi.Status(http.StatusCreated)),
		func(ctx context.Context, in *createRoleInput) (*httpapi.Body[Role], error) {
			r, err := s.CreateRole(ctx, in.CID, RoleInput{Name: in.Body.Name, Permissions: in.Body.Permissions})
			return httpapi.Reply(r), err
		})
	huma.Register(api, httpapi.Op("update-role", http.MethodPatch, "/api/v1/communities/{cid}/roles/{id}", "修改角色", auth.Needs(perm.StaffManage),
		httpapi.Tags("员工与角色"),
		httpapi.Describe("内置角色不能修改。使用该角色的账号从下一次请求起按新的权限。")), func(ctx context.Context, in *updateRoleInput) (*httpapi.Body[Role], error) {
		r, err := s.UpdateRole(ctx, in.CID, in.ID, RoleInput{Name: in.Body.Name, Permissions: in.Body.Permissions})
		return httpapi.Reply(r), err
	})
	huma.Register(api, httpapi.Op("delete-role", http.MethodDelete, "/api/v1/communities/{cid}/roles/{id}", "删除角色", auth.Needs(perm.StaffManage),
		httpapi.Tags("员工与角色"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *RolePath) (*struct{}, error) {
			return nil, s.DeleteRole(ctx, in.CID, in.ID)
		})

	huma.Register(api, httpapi.Op("list-staff", http.MethodGet, "/api/v1/communities/{cid}/staff", "员工账号列表", auth.Needs(perm.StaffManage),
		httpapi.Tags("员工与角色")),
		func(ctx context.Context, in *CommunityPath) (*httpapi.Body[membersOutputBody], error) {
			ms, err := s.Members(ctx, in.CID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(membersOutputBody{Items: ms}), nil
		})
	huma.Register(api, httpapi.Op("create-staff", http.MethodPost, "/api/v1/communities/{cid}/staff", "新建员工账号", auth.Needs(perm.StaffManage),
		httpapi.Tags("员工与角色"),
		httpapi.Status(http.StatusCreated),
		httpapi.Describe("为本小区创建员工账号并指定角色。首次登录必须修改初始密码。")), func(ctx context.Context, in *createMemberInput) (*httpapi.Body[StaffAccount], error) {
		b := in.Body
		m, err := s.CreateMember(ctx, in.CID, MemberInput{Account: b.StaffAccount, Name: b.Name, Phone: b.Phone, Email: b.Email, Role: b.Role, Password: b.Password})
		return httpapi.Reply(m), err
	})
	huma.Register(api, httpapi.Op("set-staff-role", http.MethodPut, "/api/v1/communities/{cid}/staff/{id}/role", "修改员工角色", auth.Needs(perm.StaffManage),
		httpapi.Tags("员工与角色")),
		func(ctx context.Context, in *setMemberRoleInput) (*httpapi.Body[StaffAccount], error) {
			m, err := s.SetMemberRole(ctx, in.CID, in.ID, in.Body.Role)
			return httpapi.Reply(m), err
		})
	huma.Register(api, httpapi.Op("delete-staff", http.MethodDelete, "/api/v1/communities/{cid}/staff/{id}", "删除员工账号", auth.Needs(perm.StaffManage),
		httpapi.Tags("员工与角色"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *StaffPath) (*struct{}, error) {
			return nil, s.DeleteMember(ctx, in.CID, in.ID)
		})
}
