package auth

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/session"
	"linli/internal/errs"
	"linli/internal/httpapi"
)

// SessionView is a signed-in browser of the account, as 个人信息中心 lists it.
type SessionView struct {
	ID         int       `json:"id"`
	Device     string    `json:"device" doc:"设备（由浏览器标识得出），如 Chrome 126 · Windows"`
	UserAgent  string    `json:"user_agent" doc:"浏览器标识"`
	IP         string    `json:"ip" doc:"登录地址"`
	CreatedAt  time.Time `json:"created_at" doc:"登录时间"`
	LastSeenAt time.Time `json:"last_seen_at" doc:"最近使用（精确到分钟）"`
	ExpiresAt  time.Time `json:"expires_at" doc:"到期时间"`
	Remember   bool      `json:"remember" doc:"是否自动登录"`
	Current    bool      `json:"current" doc:"是否为本浏览器"`
}

// Sessions returns p's live sessions, the most recently used first.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]SessionView, error) {
	rows, err := s.db.Session.Query().
		Where(session.AccountID(p.Account.ID), session.ExpiresAtGT(s.now())).
		Order(ent.Desc(session.FieldLastSeenAt), ent.Desc(session.FieldID)).All(actor.AsSystem(ctx))
	if err != nil {
		return nil, fmt.Errorf("auth: sessions: %w", err)
	}
	out := make([]SessionView, len(rows))
	for i, r := range rows {
		out[i] = SessionView{ID: r.ID, Device: DeviceName(r.UserAgent), UserAgent: r.UserAgent, IP: r.IP,
			CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, ExpiresAt: r.ExpiresAt, Remember: r.Remember,
			Current: r.ID == p.SessionID}
	}
	return out, nil
}

// EndSession ends session id of p (退出 on another browser; ending the
// current one signs this browser out).
//
// Errors: errs.NotFound when p has no such session.
func (s *Service) EndSession(ctx context.Context, p *Principal, id int) error {
	n, err := s.db.Session.Delete().Where(session.ID(id), session.AccountID(p.Account.ID)).Exec(actor.AsSystem(ctx))
	if err != nil {
		return fmt.Errorf("auth: end session: %w", err)
	}
	if n == 0 {
		return errs.New(errs.NotFound, "会话不存在或已退出")
	}
	return nil
}

// EndOtherSessions ends every session of p but the current one (全部退出)
// and says how many it ended.
func (s *Service) EndOtherSessions(ctx context.Context, p *Principal) (int, error) {
	n, err := s.db.Session.Delete().Where(session.AccountID(p.Account.ID), session.IDNEQ(p.SessionID)).Exec(actor.AsSystem(ctx))
	if err != nil {
		return 0, fmt.Errorf("auth: end sessions: %w", err)
	}
	return n, nil
}

type mySessionsOutputBody struct {
	Items []SessionView `json:"items"`
}

type sessionPath struct {
	ID int `path:"id" minimum:"1" doc:"会话编号"`
}

type endMySessionsOutputBody struct {
	Ended int `json:"ended" doc:"退出的会话数"`
}

// registerSessions adds 个人信息中心's list of signed-in browsers.
func (s *Service) registerSessions(api huma.API) {
	huma.Register(api, httpapi.Op("list-my-sessions", http.MethodGet, "/api/v1/me/sessions", "登录设备", Open(),
		httpapi.Tags("账号"),
		httpapi.Describe("本账号已登录的浏览器：设备、登录地址、最近使用时间；current 为本浏览器。")), func(ctx context.Context, _ *struct{}) (*httpapi.Body[mySessionsOutputBody], error) {
		items, err := s.Sessions(ctx, Current(ctx))
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(mySessionsOutputBody{Items: items}), nil
	})

	huma.Register(api, httpapi.Op("end-my-session", http.MethodDelete, "/api/v1/me/sessions/{id}", "退出某个登录设备", Open(),
		httpapi.Tags("账号"),
		httpapi.Status(http.StatusNoContent)), func(ctx context.Context, in *sessionPath) (*struct{}, error) {
		return nil, s.EndSession(ctx, Current(ctx), in.ID)
	})

	huma.Register(api, httpapi.Op("end-my-other-sessions", http.MethodDelete, "/api/v1/me/sessions", "退出其他所有登录设备", Open(),
		httpapi.Tags("账号"),
		httpapi.Describe("结束本账号除本浏览器以外的所有会话。")), func(ctx context.Context, _ *struct{}) (*httpapi.Body[endMySessionsOutputBody], error) {
		n, err := s.EndOtherSessions(ctx, Current(ctx))
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(endMySessionsOutputBody{Ended: n}), nil
	})
}
