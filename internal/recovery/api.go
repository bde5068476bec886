package recovery

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/httpapi"
)

type resetRequestInput struct {
	Body struct {
		Account string `json:"account" minLength:"1" maxLength:"64" doc:"账号"`
		Method  string `json:"method" enum:"sms,email" doc:"sms 向绑定手机发送验证码；email 向绑定邮箱发送重置链接"`
	}
}

type messageOutputBody struct {
	Message string `json:"message" doc:"给用户看的提示"`
}

func message(m string) *httpapi.Body[messageOutputBody] {
	return httpapi.Reply(messageOutputBody{Message: m})
}

type resetByCodeInput struct {
	Body struct {
		Account     string `json:"account" minLength:"1" maxLength:"64" doc:"账号"`
		Code        string `json:"code" minLength:"1" maxLength:"12" doc:"手机收到的 6 位验证码"`
		NewPassword string `json:"new_password" minLength:"1" maxLength:"128" doc:"新密码（与修改密码的规则相同）"`
	}
}

type resetByLinkInput struct {
	Body struct {
		Token       string `json:"token" minLength:"1" maxLength:"128" doc:"邮件链接中的 token"`
		NewPassword string `json:"new_password" minLength:"1" maxLength:"128" doc:"新密码（与修改密码的规则相同）"`
	}
}

type contactCodeInput struct {
	Body struct {
		Kind  string `json:"kind" enum:"phone,email" doc:"phone 替换手机；email 替换邮箱"`
		Value string `json:"value" minLength:"1" maxLength:"254" doc:"新手机号或新邮箱"`
	}
}

type changePhoneInput struct {
	Body struct {
		Phone    string `json:"phone" minLength:"1" maxLength:"20" doc:"新手机号（中国大陆手机号）"`
		Code     string `json:"code" minLength:"1" maxLength:"12" doc:"新手机收到的 6 位验证码"`
		Password string `json:"password" minLength:"1" maxLength:"128" doc:"当前密码"`
	}
}

type changeEmailInput struct {
	Body struct {
		Email    string `json:"email" minLength:"1" maxLength:"254" doc:"新邮箱"`
		Code     string `json:"code" minLength:"1" maxLength:"12" doc:"新邮箱收到的 6 位验证码"`
		Password string `json:"password" minLength:"1" maxLength:"128" doc:"当前密码"`
	}
}

type loginCodeInput struct {
	Body struct {
		Account   string `json:"account" minLength:"1" maxLength:"64" doc:"账号（与登录时相同）"`
		Challenge string `json:"challenge" minLength:"1" maxLength:"100" doc:"登录回答 202 时的 verify.challenge"`
		Method    string `json:"method" enum:"sms,email" doc:"sms 发到绑定手机；email 发到绑定邮箱"`
	}
}

type verifyLoginInput struct {
	Device string `cookie:"linli_device" doc:"本浏览器的设备标识（服务器签发的 Cookie）"`
	Body   struct {
		Account     string `json:"account" minLength:"1" maxLength:"64" doc:"账号（与登录时相同）"`
		Challenge   string `json:"challenge" minLength:"1" maxLength:"100" doc:"登录回答 202 时的 verify.challenge"`
		Method      string `json:"method" enum:"totp,recovery,sms,email" doc:"totp 身份验证器；recovery 恢复码；sms 短信验证码；email 邮箱验证码"`
		Code        string `json:"code" minLength:"1" maxLength:"20" doc:"验证码或恢复码"`
		TrustDevice bool   `json:"trust_device,omitempty" doc:"记住此设备：30 天内在本浏览器登录不再验证"`
	}
}

// Register adds 忘记密码 and 替换手机/替换邮箱 to api.
func (s *Service) Register(api huma.API) {
	publicURL := s.publicURL
	// The link goes to the account's mailbox, asked for by anyone: without a
	// configured address it names this server, never a host the caller chose.
	baseURL := func(ctx context.Context) string {
		if publicURL != "" {
			return publicURL
		}
		return auth.OwnBaseURL(ctx)
	}
	huma.Register(api, httpapi.Op("request-password-reset", http.MethodPost, "/api/v1/password-resets", "忘记密码：发送验证码或重置链接", auth.Public(),
		httpapi.Tags("账号"),
		httpapi.Status(http.StatusAccepted),
		httpapi.Describe("向账号绑定的手机发送 6 位验证码（5 分钟内有效，最多试 5 次），或向绑定的邮箱发送重置链接（30 分钟内有效）。"+
			"无论账号是否存在、是否绑定了手机或邮箱，回答都相同。同一账号每分钟 1 次、每天 10 次，同一地址每小时 20 次。")), func(ctx context.Context, in *resetRequestInput) (*httpapi.Body[messageOutputBody], error) {
		m, err := s.RequestReset(ctx, in.Body.Account, in.Body.Method, auth.ClientIP(ctx), baseURL(ctx))
		if err != nil {
			return nil, err
		}
		return message(m), nil
	})

	huma.Register(api, httpapi.Op("reset-password-by-code", http.MethodPost, "/api/v1/password-resets/by-code", "忘记密码：用手机验证码设置新密码", auth.Public(),
		httpapi.Tags("账号"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("验证码正确时设置新密码，该账号的所有登录会话都会退出。")), func(ctx context.Context, in *resetByCodeInput) (*struct{}, error) {
		return nil, s.ResetWithCode(ctx, in.Body.Account, in.Body.Code, in.Body.NewPassword, auth.ClientIP(ctx))
	})

	huma.Register(api, httpapi.Op("reset-password-by-link", http.MethodPost, "/api/v1/password-resets/by-link", "忘记密码：用邮件链接设置新密码", auth.Public(),
		httpapi.Tags("账号"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("链接只能使用一次；设置后该账号的所有登录会话都会退出。")), func(ctx context.Context, in *resetByLinkInput) (*struct{}, error) {
		return nil, s.ResetWithLink(ctx, in.Body.Token, in.Body.NewPassword, auth.ClientIP(ctx))
	})

	huma.Register(api, httpapi.Op("send-login-code", http.MethodPost, "/api/v1/session/code", "登录验证：发送短信或邮箱验证码", auth.Public(),
		httpapi.Tags("账号"),
		httpapi.Status(http.StatusAccepted),
		httpapi.Describe("登录回答 202 后，向账号绑定的手机或邮箱发送 6 位验证码（5 分钟内有效）。同一账号每分钟 1 次、每天 10 次。")), func(ctx context.Context, in *loginCodeInput) (*httpapi.Body[messageOutputBody], error) {
		m, err := s.SendLoginCode(ctx, in.Body.Account, in.Body.Challenge, in.Body.Method, auth.ClientIP(ctx))
		if err != nil {
			return nil, err
		}
		return message(m), nil
	})

	huma.Register(api, httpapi.Op("verify-login", http.MethodPost, "/api/v1/session/verify", "登录验证：提交验证码", auth.Public(),
		httpapi.Tags("账号"),
		httpapi.Describe("验证码正确即完成登录并设置会话 Cookie。验证码错误计入账号的登录失败次数（10 分钟内 10 次锁定）；"+
			"同一次登录最多试 5 次，之后需重新输入密码。")), func(ctx context.Context, in *verifyLoginInput) (*auth.SignInOutput, error) {
		check, err := s.Check(in.Body.Method, in.Body.Code)
		if err != nil {
			return nil, err
		}
		device, cookie, fresh := s.auth.Device(in.Device)
		if !fresh {
			cookie = ""
		}
		res, err := s.auth.CompleteSignIn(ctx, in.Body.Account, in.Body.Challenge, check, in.Body.TrustDevice, device,
			auth.Client(ctx), auth.SessionToken(ctx))
		if err != nil {
			return nil, err
		}
		return s.auth.SignedIn(ctx, res, cookie), nil
	})

	huma.Register(api, httpapi.Op("send-contact-code", http.MethodPost, "/api/v1/me/contact-codes", "替换手机/邮箱：向新手机或新邮箱发送验证码", auth.Open(),
		httpapi.Tags("账号"),
		httpapi.Status(http.StatusAccepted)), func(ctx context.Context, in *contactCodeInput) (*httpapi.Body[messageOutputBody], error) {
		m, err := s.SendContactCode(ctx, auth.Current(ctx), in.Body.Kind, in.Body.Value, auth.ClientIP(ctx))
		if err != nil {
			return nil, err
		}
		return message(m), nil
	})

	change := func(ctx context.Context, kind, value, code, pw string) (*httpapi.Body[*auth.Me], error) {
		p := auth.Current(ctx)
		acc, err := s.ChangeContact(ctx, p, kind, value, code, pw, auth.ClientIP(ctx))
		if err != nil {
			return nil, err
		}
		updated := *p
		updated.Account = acc
		return httpapi.Reply(auth.MeOf(&updated)), nil
	}
	huma.Register(api, httpapi.Op("change-my-phone", http.MethodPut, "/api/v1/me/phone", "替换手机", auth.Open(),
		httpapi.Tags("账号"),
		httpapi.Describe("需要当前密码和新手机收到的验证码（先调用 POST /api/v1/me/contact-codes）。")), func(ctx context.Context, in *changePhoneInput) (*httpapi.Body[*auth.Me], error) {
		return change(ctx, KindPhone, in.Body.Phone, in.Body.Code, in.Body.Password)
	})
	huma.Register(api, httpapi.Op("change-my-email", http.MethodPut, "/api/v1/me/email", "替换邮箱", auth.Open(),
		httpapi.Tags("账号"),
		httpapi.Describe("需要当前密码和新邮箱收到的验证码（先调用 POST /api/v1/me/contact-codes）。")), func(ctx context.Context, in *changeEmailInput) (*httpapi.Body[*auth.Me], error) {
		return change(ctx, KindEmail, in.Body.Email, in.Body.Code, in.Body.Password)
	})
}
