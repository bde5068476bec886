package ownerapp

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/httpapi"
)

type codeInput struct {
	Body struct {
		Phone string `json:"phone" maxLength:"20" doc:"业主登记的手机号"`
	}
}

type signInInput struct {
	Body struct {
		Phone string `json:"phone" maxLength:"20" doc:"业主登记的手机号"`
		Code  string `json:"code" maxLength:"10" doc:"短信验证码"`
		// DeviceName names the phone in the list of signed-in devices.
		DeviceName string `json:"device_name,omitempty" required:"false" maxLength:"64" doc:"设备名称，如 iPhone 15（登录设备列表中显示）"`
	}
}

type bearerInput struct {
	Authorization string `header:"Authorization"`
}

type noticesOutputBody struct {
	Items []Notice `json:"items"`
}

type noticeInput struct {
	ID int `path:"id" minimum:"1" doc:"通知编号"`
}

// Register adds the app operations (/app/v1) to api.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("app-send-code", http.MethodPost, "/app/v1/sms-codes", "获取登录验证码", auth.Public(),
		httpapi.Tags("业主 APP"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("向已登记业主的手机号发送 6 位验证码，5 分钟内有效。同一手机号 60 秒一次、每天 10 次。")),
		func(ctx context.Context, in *codeInput) (*struct{}, error) {
			return nil, s.SendCode(ctx, in.Body.Phone, auth.ClientIP(ctx))
		})
	huma.Register(api, httpapi.Op("app-sign-in", http.MethodPost, "/app/v1/session", "验证码登录", auth.Public(),
		httpapi.Tags("业主 APP")),
		func(ctx context.Context, in *signInInput) (*httpapi.Body[*Session], error) {
			sess, err := s.SignInDevice(ctx, in.Body.Phone, in.Body.Code, in.Body.DeviceName)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(sess), nil
		})
	huma.Register(api, httpapi.Op("app-sign-out", http.MethodDelete, "/app/v1/session", "退出登录", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *bearerInput) (*struct{}, error) {
			return nil, s.SignOut(ctx, in.Authorization)
		})
	huma.Register(api, httpapi.Op("app-get-sip", http.MethodGet, "/app/v1/sip", "本 APP 的 SIP 账号", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("每次登录（每个 APP 安装）有自己的 SIP 账号，用于接听门口机呼叫和监视门口机；"+
			"退出登录、业主被删除或失去 APP呼叫 权限后立即失效。")),
		func(ctx context.Context, in *bearerInput) (*httpapi.Body[*SIPAccount], error) {
			acc, err := s.SIP(ctx, in.Authorization)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(acc), nil
		})
	huma.Register(api, httpapi.Op("app-list-notices", http.MethodGet, "/app/v1/notices", "我的通知", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("业主所在小区的小区通知和所在房间的房间通知（近 90 天），带已读状态。")),
		func(ctx context.Context, _ *struct{}) (*httpapi.Body[noticesOutputBody], error) {
			ns, err := s.Notices(ctx)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(noticesOutputBody{Items: ns}), nil
		})
	huma.Register(api, httpapi.Op("app-read-notice", http.MethodPost, "/app/v1/notices/{id}/read", "标记通知已读", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *noticeInput) (*struct{}, error) {
			return nil, s.MarkRead(ctx, in.ID)
		})
	s.registerMe(api)
	s.registerDoors(api)
	s.registerCalls(api)
	s.registerDND(api)
}
