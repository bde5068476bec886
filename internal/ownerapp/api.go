package ownerapp

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
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

type sessionOutput struct{ Body *Session }

type sipOutput struct{ Body *SIPAccount }

type bearerInput struct {
	Authorization string `header:"Authorization"`
}

type noticesOutput struct {
	Body struct {
		Items []Notice `json:"items"`
	}
}

type noticeInput struct {
	ID int `path:"id" minimum:"1" doc:"通知编号"`
}

// appSecurity documents that an operation takes the app's bearer token.
var appSecurity = []map[string][]string{{"app": {}}}

// Register adds the app operations (/app/v1) to api.
func (s *Service) Register(api huma.API) {
	tags := []string{"业主 APP"}
	huma.Register(api, huma.Operation{OperationID: "app-send-code", Method: http.MethodPost, Path: "/app/v1/sms-codes",
		Summary: "获取登录验证码", Tags: tags, Metadata: auth.Public(), DefaultStatus: http.StatusNoContent,
		Description: "向已登记业主的手机号发送 6 位验证码，5 分钟内有效。同一手机号 60 秒一次、每天 10 次。"},
		func(ctx context.Context, in *codeInput) (*struct{}, error) {
			return nil, s.SendCode(ctx, in.Body.Phone, auth.ClientIP(ctx))
		})
	huma.Register(api, huma.Operation{OperationID: "app-sign-in", Method: http.MethodPost, Path: "/app/v1/session",
		Summary: "验证码登录", Tags: tags, Metadata: auth.Public(), DefaultStatus: http.StatusOK},
		func(ctx context.Context, in *signInInput) (*sessionOutput, error) {
			sess, err := s.SignInDevice(ctx, in.Body.Phone, in.Body.Code, in.Body.DeviceName)
			if err != nil {
				return nil, err
			}
			return &sessionOutput{Body: sess}, nil
		})
	huma.Register(api, huma.Operation{OperationID: "app-sign-out", Method: http.MethodDelete, Path: "/app/v1/session",
		Summary: "退出登录", Tags: tags, Metadata: auth.ResidentOnly(), Security: appSecurity, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *bearerInput) (*struct{}, error) {
			return nil, s.SignOut(ctx, in.Authorization)
		})
	huma.Register(api, huma.Operation{OperationID: "app-get-sip", Method: http.MethodGet, Path: "/app/v1/sip",
		Summary: "本 APP 的 SIP 账号", Tags: tags, Metadata: auth.ResidentOnly(), Security: appSecurity,
		Description: "每次登录（每个 APP 安装）有自己的 SIP 账号，用于接听门口机呼叫和监视门口机；退出登录、业主被删除或失去 APP呼叫 权限后立即失效。"},
		func(ctx context.Context, in *bearerInput) (*sipOutput, error) {
			acc, err := s.SIP(ctx, in.Authorization)
			if err != nil {
				return nil, err
			}
			return &sipOutput{Body: acc}, nil
		})
	huma.Register(api, huma.Operation{OperationID: "app-list-notices", Method: http.MethodGet, Path: "/app/v1/notices",
		Summary: "我的通知", Tags: tags, Metadata: auth.ResidentOnly(), Security: appSecurity,
		Description: "业主所在小区的小区通知和所在房间的房间通知（近 90 天），带已读状态。"},
		func(ctx context.Context, _ *struct{}) (*noticesOutput, error) {
			ns, err := s.Notices(ctx)
			if err != nil {
				return nil, err
			}
			out := &noticesOutput{}
			out.Body.Items = ns
			return out, nil
		})
	huma.Register(api, huma.Operation{OperationID: "app-read-notice", Method: http.MethodPost, Path: "/app/v1/notices/{id}/read",
		Summary: "标记通知已读", Tags: tags, Metadata: auth.ResidentOnly(), Security: appSecurity, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *noticeInput) (*struct{}, error) {
			return nil, s.MarkRead(ctx, in.ID)
		})
	s.registerMe(api, tags)
	s.registerDoors(api, tags)
	s.registerCalls(api, tags)
	s.registerDND(api, tags)
}
