package auth

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/httpapi"
	"linli/internal/perm"
)

// Me is the signed-in account as the console sees it.
type Me struct {
	ID                 int      `json:"id"`
	Account            string   `json:"account" doc:"登录账号"`
	Name               string   `json:"name" doc:"称呼"`
	Phone              string   `json:"phone" doc:"电话"`
	Email              string   `json:"email" doc:"邮箱"`
	Role               string   `json:"role" enum:"operator,property_admin" doc:"operator 平台管理员；property_admin 物业管理员"`
	CommunityIDs       []int    `json:"community_ids" doc:"所属小区（平台管理员为空，表示全部）"`
	MustChangePassword bool     `json:"must_change_password" doc:"为 true 时必须先修改密码"`
	StaffRole          string   `json:"staff_role" doc:"物业人员的角色：property_admin、customer_service、guard、engineer 或 custom:编号；平台管理员为空"`
	RoleName           string   `json:"role_name" doc:"角色名称，如 物业管理员、保安"`
	Permissions        []string `json:"permissions" doc:"本账号拥有的权限（见 GET /api/v1/permissions）；控制台据此显示菜单和按钮"`
}

func meOf(p *Principal) *Me {
	ids := p.Communities
	if ids == nil {
		ids = []int{}
	}
	a := p.Account
	perms := make([]string, len(p.Permissions))
	for i, x := range p.Permissions {
		perms[i] = string(x)
	}
	staffRole := ""
	if !p.IsOperator() {
		staffRole = a.StaffRole
		if staffRole == "" {
			staffRole = perm.PropertyAdmin
		}
	}
	return &Me{ID: a.ID, Account: a.Account, Name: a.Name, Phone: a.Phone, Email: a.Email,
		Role: string(a.Role), CommunityIDs: ids, MustChangePassword: a.MustChangePassword,
		StaffRole: staffRole, RoleName: p.RoleName, Permissions: perms}
}

type loginInput struct {
	Device string `cookie:"linli_device" doc:"本浏览器的设备标识（服务器签发的 Cookie）"`
	Body   struct {
		Account  string `json:"account" minLength:"1" maxLength:"64" doc:"账号"`
		Password string `json:"password" minLength:"1" maxLength:"128" doc:"密码"`
		Remember bool   `json:"remember,omitempty" doc:"自动登录：保持登录 30 天"`
	}
}

type meOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
	Body      *Me
}

// SignIn is the answer to a sign-in: the account now signed in, or, with
// status 202, the second factor the browser must prove first (Verify).
type SignIn struct {
	Me
	Verify *Verify `json:"verify,omitempty" doc:"需要登录验证时（状态 202）：可用的验证方式；此时尚未登录"`
}

// Verify is a sign-in waiting for a second factor.
type Verify struct {
	Challenge string   `json:"challenge" doc:"验证凭据，提交验证码时带上；10 分钟内有效，最多试 5 次"`
	Methods   []string `json:"methods" doc:"可用的验证方式：totp 身份验证器，recovery 恢复码，sms 短信验证码，email 邮箱验证码"`
	Phone     string   `json:"phone,omitempty" doc:"绑定的手机（部分隐藏）"`
	Email     string   `json:"email,omitempty" doc:"绑定的邮箱（部分隐藏）"`
}

// SignInOutput is the HTTP answer of a sign-in step.
type SignInOutput struct {
	Status    int
	SetCookie []http.Cookie `header:"Set-Cookie"`
	Body      *SignIn
}

// SignedIn is the answer to a completed sign-in: the session cookie (and a
// new device cookie when the browser had none) and the account.
func (s *Service) SignedIn(ctx context.Context, res *LoginResult, deviceCookie string) *SignInOutput {
	out := &SignInOutput{Status: http.StatusOK}
	if res.Challenge != nil {
		c := res.Challenge
		out.Status = http.StatusAccepted
		out.Body = &SignIn{Verify: &Verify{Challenge: c.Token, Methods: c.Methods, Phone: c.Phone, Email: c.Email}}
	} else {
		out.SetCookie = append(out.SetCookie, sessionCookie(ctx, res.Token, res.Remember, res.ExpiresAt))
		out.Body = &SignIn{Me: *meOf(res.Principal)}
	}
	// The session cookie comes first: it is the one a sign-in is about.
	if deviceCookie != "" {
		out.SetCookie = append(out.SetCookie, s.deviceCookie(ctx, deviceCookie))
	}
	return out
}

// deviceCookie returns the cookie that names this browser for 记住此设备.
func (s *Service) deviceCookie(ctx context.Context, value string) http.Cookie {
	return http.Cookie{
		Name: DeviceCookie, Value: value, Path: "/api/v1/session", MaxAge: int(deviceCookieAge.Seconds()),
		Expires: s.now().Add(deviceCookieAge), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: requestOf(ctx).https,
	}
}

type logoutOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
}

type changePasswordInput struct {
	Body struct {
		OldPassword string `json:"old_password" minLength:"1" maxLength:"128" doc:"原密码"`
		NewPassword string `json:"new_password" minLength:"1" maxLength:"128" doc:"新密码：至少 8 位；不能是 123456 或常见密码，不能含本人手机号、邮箱、姓名或所属小区名称，不能是账号或 linli 加数字，也不能是 5201314、键盘连键、姓名拼音加生日这类组合"`
	}
}

type profileInput struct {
	Body struct {
		Name  *string `json:"name,omitempty" maxLength:"32" doc:"称呼"`
		Phone *string `json:"phone,omitempty" maxLength:"20" doc:"安全手机：只能原样提交；替换手机用 PUT /api/v1/me/phone（需当前密码和验证码）"`
		Email *string `json:"email,omitempty" maxLength:"254" doc:"安全邮箱：只能原样提交；替换邮箱用 PUT /api/v1/me/email（需当前密码和验证码）"`
	}
}

// Register adds the session and "me" operations to api.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("login", http.MethodPost, "/api/v1/session", "登录", Public(),
		httpapi.Tags("账号"),
		httpapi.Describe("账号密码登录。同一账号 10 分钟内失败 10 次将被锁定 10 分钟。成功时设置会话 Cookie（200）。"+
			"开启了登录验证的账号在未记住的浏览器上登录时，密码正确后回答 202 和 verify："+
			"再用 POST /api/v1/session/verify 提交验证码（短信、邮箱验证码先用 POST /api/v1/session/code 获取）。"),
		// Declaring 202 here takes away what huma adds by itself: the body of
		// 202 (the same SignIn, with verify) and the error answers.
		httpapi.Response("202", &huma.Response{Description: "密码正确，需要登录验证（见 verify）", Content: map[string]*huma.MediaType{
			"application/json": {Schema: &huma.Schema{Ref: "#/components/schemas/SignIn"}},
		}}),
		httpapi.Response("default", &huma.Response{Description: "Error", Content: map[string]*huma.MediaType{
			"application/problem+json": {Schema: &huma.Schema{Ref: "#/components/schemas/ErrorModel"}},
		}})),
		func(ctx context.Context, in *loginInput) (*SignInOutput, error) {
			req := requestOf(ctx)
			device, cookie, fresh := s.Device(in.Device)
			if !fresh {
				cookie = ""
			}
			res, err := s.Login(ctx, in.Body.Account, in.Body.Password, in.Body.Remember, req.client, req.token, device)
			if err != nil {
				return nil, err
			}
			return s.SignedIn(ctx, res, cookie), nil
		})

	huma.Register(api, httpapi.Op("logout", http.MethodDelete, "/api/v1/session", "退出登录", Public(),
		httpapi.Tags("账号"),
		httpapi.Status(http.StatusNoContent)), func(ctx context.Context, _ *struct{}) (*logoutOutput, error) {
		if t := requestOf(ctx).token; t != "" {
			if err := s.Logout(ctx, t); err != nil {
				return nil, err
			}
		}
		return &logoutOutput{SetCookie: clearCookie(ctx)}, nil
	})

	huma.Register(api, httpapi.Op("get-me", http.MethodGet, "/api/v1/me", "当前账号", AnySession(),
		httpapi.Tags("账号")), func(ctx context.Context, _ *struct{}) (*httpapi.Body[*Me], error) {
		return httpapi.Reply(meOf(Current(ctx))), nil
	})

	huma.Register(api, httpapi.Op("change-my-password", http.MethodPut, "/api/v1/me/password", "修改密码", AnySession(),
		httpapi.Tags("账号"),
		httpapi.Describe("校验原密码后修改密码。该账号的所有会话都会失效，本浏览器获得新的会话 Cookie。")), func(ctx context.Context, in *changePasswordInput) (*meOutput, error) {
		res, err := s.ChangePassword(ctx, Current(ctx), in.Body.OldPassword, in.Body.NewPassword, requestOf(ctx).client)
		if err != nil {
			return nil, err
		}
		return &meOutput{SetCookie: sessionCookie(ctx, res.Token, res.Remember, res.ExpiresAt), Body: meOf(res.Principal)}, nil
	})

	huma.Register(api, httpapi.Op("update-me", http.MethodPatch, "/api/v1/me", "修改个人信息（称呼）", Open(),
		httpapi.Tags("账号")), func(ctx context.Context, in *profileInput) (*httpapi.Body[*Me], error) {
		p := Current(ctx)
		acc, err := s.UpdateProfile(ctx, p, ProfileInput{Name: in.Body.Name, Phone: in.Body.Phone, Email: in.Body.Email})
		if err != nil {
			return nil, err
		}
		updated := *p
		updated.Account = acc
		return httpapi.Reply(meOf(&updated)), nil
	})

	s.registerSessions(api)
	s.registerTwoFactor(api)
}
