package account

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/httpapi"
)

// Account is a console account as the API shows it.
type Account struct {
	ID                 int       `json:"id"`
	Account            string    `json:"account" doc:"登录账号"`
	Name               string    `json:"name" doc:"称呼"`
	Phone              string    `json:"phone" doc:"电话"`
	Email              string    `json:"email" doc:"邮箱"`
	Role               string    `json:"role" enum:"operator,property_admin"`
	RoleName           string    `json:"role_name" doc:"角色名称：平台管理员，或物业人员的角色（物业管理员、客服、保安、工程或小区自建的角色）"`
	CommunityIDs       []int     `json:"community_ids" doc:"所属小区"`
	MustChangePassword bool      `json:"must_change_password" doc:"是否还需修改初始密码"`
	Disabled           bool      `json:"disabled" doc:"是否已停用"`
	CreatedAt          time.Time `json:"created_at"`
}

func view(a *ent.Account, roleName string) Account {
	ids := make([]int, 0, len(a.Edges.Communities))
	for _, c := range a.Edges.Communities {
		ids = append(ids, c.ID)
	}
	return Account{ID: a.ID, Account: a.Account, Name: a.Name, Phone: a.Phone, Email: a.Email,
		Role: string(a.Role), RoleName: roleName, CommunityIDs: ids, MustChangePassword: a.MustChangePassword, Disabled: a.Disabled, CreatedAt: a.CreatedAt}
}

type createAccountInput struct {
	Body struct {
		Account      string `json:"account" minLength:"3" maxLength:"32" doc:"登录账号"`
		Name         string `json:"name" minLength:"1" maxLength:"32" doc:"称呼"`
		Phone        string `json:"phone" minLength:"5" maxLength:"20" doc:"电话"`
		Email        string `json:"email,omitempty" maxLength:"254" doc:"邮箱（可选）"`
		CommunityIDs []int  `json:"community_ids,omitempty" maxItems:"100" doc:"所属小区（物业管理员必填）"`
		Role         string `json:"role,omitempty" enum:"property_admin,operator" default:"property_admin" doc:"角色"`
		Password     string `json:"password,omitempty" maxLength:"128" doc:"初始密码，不填为 123456；首次登录必须修改"`
	}
}

type listInput struct {
	httpapi.PageParams
	CommunityID int `query:"community_id" minimum:"0" doc:"只看该小区的账号"`
}

type AccountPath struct {
	ID int `path:"id" minimum:"1" doc:"账号编号"`
}

type resetInput struct {
	AccountPath
	Body *struct {
		Password string `json:"password,omitempty" maxLength:"128" doc:"新的初始密码，不填为 123456"`
	}
}

// Register adds the account operations (operators only) to api.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("list-accounts", http.MethodGet, "/api/v1/accounts", "账号列表", auth.OperatorOnly(),
		httpapi.Tags("账号管理")), func(ctx context.Context, in *listInput) (*httpapi.Body[httpapi.Page[Account]], error) {
		items, total, err := s.List(ctx, in.CommunityID, in.Offset(), in.Size)
		if err != nil {
			return nil, err
		}
		names, err := s.RoleNames(ctx, items)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(httpapi.PageOf(items, total, func(a *ent.Account) Account { return view(a, names[a.ID]) })), nil
	})

	huma.Register(api, httpapi.Op("create-account", http.MethodPost, "/api/v1/accounts", "创建物业管理账号", auth.OperatorOnly(),
		httpapi.Tags("账号管理"),
		httpapi.Status(http.StatusCreated)), func(ctx context.Context, in *createAccountInput) (*httpapi.Body[Account], error) {
		b := in.Body
		a, err := s.Create(ctx, Input{Account: b.Account, Name: b.Name, Phone: b.Phone, Email: b.Email,
			Role: b.Role, CommunityIDs: b.CommunityIDs, Password: b.Password})
		if err != nil {
			return nil, err
		}
		names, err := s.RoleNames(ctx, []*ent.Account{a})
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(view(a, names[a.ID])), nil
	})

	huma.Register(api, httpapi.Op("reset-account-password", http.MethodPost, "/api/v1/accounts/{id}/password-reset", "重置密码", auth.OperatorOnly(),
		httpapi.Tags("账号管理"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("把密码重置为 123456（或指定的密码），该账号下次登录必须修改密码，现有会话全部失效。")), func(ctx context.Context, in *resetInput) (*struct{}, error) {
		pw := ""
		if in.Body != nil {
			pw = in.Body.Password
		}
		return nil, s.ResetPassword(ctx, in.ID, pw)
	})

	huma.Register(api, httpapi.Op("delete-account", http.MethodDelete, "/api/v1/accounts/{id}", "删除账号", auth.OperatorOnly(),
		httpapi.Tags("账号管理"),
		httpapi.Status(http.StatusNoContent)), func(ctx context.Context, in *AccountPath) (*struct{}, error) {
		return nil, s.Delete(ctx, in.ID)
	})

	s.registerDisable(api)
}
