package auth

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"linli/internal/httpapi"
)

// TwoFactorBody is 登录验证 as 个人信息中心 shows it.
type TwoFactorBody struct {
	TOTP            bool `json:"totp" doc:"已绑定身份验证器"`
	LoginCheck      bool `json:"login_check" doc:"新设备登录验证：在未记住的浏览器上登录需要验证码"`
	Required        bool `json:"required" doc:"所在小区要求登录验证（不能关闭）"`
	BackupCodesLeft int  `json:"backup_codes_left" doc:"剩余可用的恢复码"`
	TrustedDevices  int  `json:"trusted_devices" doc:"记住的浏览器数（30 天内免验证）"`
}

type passwordInput struct {
	Body struct {
		Password string `json:"password" minLength:"1" maxLength:"128" doc:"当前密码"`
	}
}

type loginCheckInput struct {
	Body struct {
		Enabled  bool   `json:"enabled" doc:"开启或关闭新设备登录验证"`
		Password string `json:"password" minLength:"1" maxLength:"128" doc:"当前密码"`
	}
}

type enrolmentOutputBody struct {
	Secret string `json:"secret" doc:"密钥（无法扫码时手动输入）"`
	URI    string `json:"uri" doc:"otpauth:// 地址"`
	QRCode string `json:"qr_code" doc:"二维码图片（PNG data URL），用身份验证器扫描"`
}

type totpCodeInput struct {
	Body struct {
		Code string `json:"code" minLength:"1" maxLength:"12" doc:"身份验证器显示的 6 位验证码"`
	}
}

type backupCodesOutputBody struct {
	Codes []string `json:"recovery_codes" doc:"10 个一次性恢复码，只显示这一次：手机丢失时用来登录，请妥善保存"`
}

type accountIDInput struct {
	ID int `path:"id" minimum:"1" doc:"账号编号"`
}

func (s *Service) twoFactorOf(ctx context.Context) (*httpapi.Body[*TwoFactorBody], error) {
	st, err := s.TwoFactor(ctx, Current(ctx))
	if err != nil {
		return nil, err
	}
	return httpapi.Reply(&TwoFactorBody{TOTP: st.TOTP, LoginCheck: st.LoginCheck, Required: st.Required,
		BackupCodesLeft: st.BackupCodesLeft, TrustedDevices: st.TrustedDevices}), nil
}

func backupCodes(codes []string) *httpapi.Body[backupCodesOutputBody] {
	return httpapi.Reply(backupCodesOutputBody{Codes: codes})
}

// registerTwoFactor adds 登录验证 of 个人信息中心 and the operator's reset.
func (s *Service) registerTwoFactor(api huma.API) {
	huma.Register(api, httpapi.Op("get-my-two-factor", http.MethodGet, "/api/v1/me/two-factor", "登录验证设置", Open(),
		httpapi.Tags("账号")), func(ctx context.Context, _ *struct{}) (*httpapi.Body[*TwoFactorBody], error) {
		return s.twoFactorOf(ctx)
	})

	huma.Register(api, httpapi.Op("set-my-login-check", http.MethodPut, "/api/v1/me/login-check", "开启或关闭新设备登录验证", Open(),
		httpapi.Tags("账号"),
		httpapi.Describe("开启后，在未记住的浏览器上登录需要短信、邮箱或身份验证器的验证码。需要当前密码。")), func(ctx context.Context, in *loginCheckInput) (*httpapi.Body[*TwoFactorBody], error) {
		if _, err := s.SetLoginCheck(ctx, Current(ctx), in.Body.Enabled, in.Body.Password); err != nil {
			return nil, err
		}
		return s.twoFactorOf(ctx)
	})

	huma.Register(api, httpapi.Op("start-totp", http.MethodPost, "/api/v1/me/totp", "绑定身份验证器：生成二维码", Open(),
		httpapi.Tags("账号"),
		httpapi.Describe("生成新的密钥和二维码；用身份验证器扫描后，用 PUT /api/v1/me/totp 提交显示的验证码完成绑定。")), func(ctx context.Context, _ *struct{}) (*httpapi.Body[enrolmentOutputBody], error) {
		e, err := s.StartTOTP(ctx, Current(ctx))
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(enrolmentOutputBody{Secret: e.Secret, URI: e.URI, QRCode: e.QRCode}), nil
	})

	huma.Register(api, httpapi.Op("confirm-totp", http.MethodPut, "/api/v1/me/totp", "绑定身份验证器：确认验证码", Open(),
		httpapi.Tags("账号"),
		httpapi.Describe("验证码正确即完成绑定，并返回 10 个一次性恢复码（只显示这一次）。")), func(ctx context.Context, in *totpCodeInput) (*httpapi.Body[backupCodesOutputBody], error) {
		codes, err := s.ConfirmTOTP(ctx, Current(ctx), in.Body.Code)
		if err != nil {
			return nil, err
		}
		return backupCodes(codes), nil
	})

	huma.Register(api, httpapi.Op("remove-totp", http.MethodPost, "/api/v1/me/totp/remove", "解除绑定身份验证器", Open(),
		httpapi.Tags("账号"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("需要当前密码；恢复码一并作废。")), func(ctx context.Context, in *passwordInput) (*struct{}, error) {
		return nil, s.RemoveTOTP(ctx, Current(ctx), in.Body.Password)
	})

	huma.Register(api, httpapi.Op("renew-recovery-codes", http.MethodPost, "/api/v1/me/totp/recovery-codes", "重新生成恢复码", Open(),
		httpapi.Tags("账号"),
		httpapi.Describe("需要当前密码；原来的恢复码全部作废。")), func(ctx context.Context, in *passwordInput) (*httpapi.Body[backupCodesOutputBody], error) {
		codes, err := s.NewBackupCodes(ctx, Current(ctx), in.Body.Password)
		if err != nil {
			return nil, err
		}
		return backupCodes(codes), nil
	})

	huma.Register(api, httpapi.Op("forget-my-devices", http.MethodDelete, "/api/v1/me/trusted-devices", "不再记住任何浏览器", Open(),
		httpapi.Tags("账号"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("之后在任何浏览器上登录都需要重新验证（已登录的会话不受影响，可在登录设备中退出）。")), func(ctx context.Context, _ *struct{}) (*struct{}, error) {
		return nil, s.ForgetDevices(ctx, Current(ctx))
	})

	huma.Register(api, httpapi.Op("reset-account-two-factor", http.MethodDelete, "/api/v1/accounts/{id}/two-factor", "重置登录验证", OperatorOnly(),
		httpapi.Tags("账号"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("员工丢失了装有身份验证器的手机时使用：解除其身份验证器、作废恢复码、忘记所有记住的浏览器，并关闭新设备登录验证。"+
			"所在小区要求登录验证时，之后仍需短信或邮箱验证码。此操作记入操作日志。")), func(ctx context.Context, in *accountIDInput) (*struct{}, error) {
		return nil, s.ResetSecondFactor(ctx, in.ID)
	})
}

// Client returns where the request of ctx comes from.
func Client(ctx context.Context) ClientInfo { return requestOf(ctx).client }

// SessionToken returns the session cookie the request of ctx carries, if any.
func SessionToken(ctx context.Context) string { return requestOf(ctx).token }
