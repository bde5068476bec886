package ownerapp

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/ent/appsession"
	"linli/internal/ent/community"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/errs"
	"linli/internal/household"
	"linli/internal/housing"
	"linli/internal/httpapi"
	residents "linli/internal/resident"
)

// AppMe is the signed-in phone and its rooms.
type AppMe struct {
	Phone string    `json:"phone"`
	Name  string    `json:"name" doc:"住户姓名（第一个房间登记的姓名）"`
	Rooms []AppRoom `json:"rooms"`
}

// AppRoom is one room the phone is a resident of.
type AppRoom struct {
	ResidentID     int            `json:"resident_id"`
	RoomID         int            `json:"room_id"`
	Label          string         `json:"label" doc:"【小区】-1区-1栋-1单元-0502"`
	CommunityID    int            `json:"community_id"`
	CommunityName  string         `json:"community_name"`
	Role           string         `json:"role" doc:"业主、家属、租户等（小区的业主角色组）"`
	IsOwner        bool           `json:"is_owner" doc:"角色为业主"`
	Permissions    AppPermissions `json:"permissions"`
	AccessUntil    *string        `json:"access_until" doc:"通行截止日期 YYYY-MM-DD；null 为长期"`
	InvitableRoles []string       `json:"invitable_roles" doc:"业主可邀请的角色（小区角色组中除业主外的角色）；非业主为空"`
}

// AppPermissions are what a resident may use.
type AppPermissions struct {
	AppCall     bool `json:"app_call" doc:"APP呼叫"`
	CallForward bool `json:"call_forward" doc:"电话转移"`
	Face        bool `json:"face" doc:"人脸开门"`
}

// myResidents returns the resident rows of the phone of ctx, oldest first.
func (s *Service) myResidents(ctx context.Context) ([]*ent.Resident, error) {
	a, _ := actor.From(ctx)
	return s.db.Resident.Query().Where(resident.Phone(a.Phone), resident.CommunityIDIn(a.Communities...), household.Current(s.now())).
		Order(ent.Asc(resident.FieldID)).All(actor.AsSystem(ctx))
}

// Me returns the phone of ctx and its rooms.
func (s *Service) Me(ctx context.Context) (*AppMe, error) {
	a, _ := actor.From(ctx)
	sys := actor.AsSystem(ctx)
	rs, err := s.myResidents(ctx)
	if err != nil {
		return nil, err
	}
	out := &AppMe{Phone: a.Phone, Rooms: []AppRoom{}}
	if len(rs) == 0 {
		return out, nil
	}
	out.Name = rs[0].Name
	var roomIDs, cids []int
	for _, r := range rs {
		roomIDs, cids = append(roomIDs, r.RoomID), append(cids, r.CommunityID)
	}
	q := s.db.Room.Query().Where(room.IDIn(roomIDs...))
	housing.WithRoomPath(q)
	rooms, err := q.All(sys)
	if err != nil {
		return nil, err
	}
	byID := map[int]*ent.Room{}
	for _, r := range rooms {
		byID[r.ID] = r
	}
	cs, err := s.db.Community.Query().Where(community.IDIn(cids...)).All(sys)
	if err != nil {
		return nil, err
	}
	comms := map[int]*ent.Community{}
	for _, c := range cs {
		comms[c.ID] = c
	}
	for _, r := range rs {
		c := comms[r.CommunityID]
		if c == nil || byID[r.RoomID] == nil {
			continue
		}
		rm := AppRoom{ResidentID: r.ID, RoomID: r.RoomID, Label: housing.RoomLabel(c.Name, byID[r.RoomID]), CommunityID: c.ID,
			CommunityName: c.Name, Role: r.Role, IsOwner: r.Role == household.OwnerRole, InvitableRoles: []string{},
			Permissions: AppPermissions{AppCall: r.AppCall, CallForward: r.CallForward, Face: r.FaceEnabled},
			AccessUntil: residents.AccessDate(r.AccessUntil)}
		if rm.IsOwner {
			rm.InvitableRoles = household.Invitable(c.ResidentRoles)
		}
		out.Rooms = append(out.Rooms, rm)
	}
	return out, nil
}

// SignedInDevice is one signed-in device of the phone.
type SignedInDevice struct {
	ID         int       `json:"id"`
	DeviceName string    `json:"device_name" doc:"登录时 APP 报告的设备名称"`
	CreatedAt  time.Time `json:"created_at" doc:"登录时间"`
	Current    bool      `json:"current" doc:"就是本设备"`
}

// current returns the session of the bearer token authorization.
//
// Errors: errs.Unauthorized.
func (s *Service) current(ctx context.Context, authorization string) (*ent.AppSession, error) {
	token, _ := strings.CutPrefix(authorization, "Bearer ")
	sess, err := s.db.AppSession.Query().Where(appsession.TokenHash(hash(strings.TrimSpace(token))), appsession.ExpiresAtGT(s.now())).
		Only(actor.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.Unauthorized, "登录已失效，请重新登录")
	}
	return sess, err
}

// Sessions lists the live sessions of the phone, newest first.
func (s *Service) Sessions(ctx context.Context, authorization string) ([]SignedInDevice, error) {
	cur, err := s.current(ctx, authorization)
	if err != nil {
		return nil, err
	}
	ss, err := s.db.AppSession.Query().Where(appsession.Phone(cur.Phone), appsession.ExpiresAtGT(s.now())).
		Order(ent.Desc(appsession.FieldCreatedAt), ent.Desc(appsession.FieldID)).All(actor.AsSystem(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]SignedInDevice, len(ss))
	for i, x := range ss {
		out[i] = SignedInDevice{ID: x.ID, DeviceName: x.DeviceName, CreatedAt: x.CreatedAt, Current: x.ID == cur.ID}
	}
	return out, nil
}

// EndSession signs one device of the phone out; its SIP account ends with it.
//
// Errors: errs.Unauthorized, errs.NotFound (no such session of the phone).
func (s *Service) EndSession(ctx context.Context, authorization string, id int) error {
	cur, err := s.current(ctx, authorization)
	if err != nil {
		return err
	}
	n, err := s.db.AppSession.Delete().Where(appsession.ID(id), appsession.Phone(cur.Phone)).Exec(actor.AsSystem(ctx))
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.New(errs.NotFound, "该登录设备不存在或已退出")
	}
	return nil
}

// EndAllSessions signs every device of the phone out, this one included.
//
// Errors: errs.Unauthorized.
func (s *Service) EndAllSessions(ctx context.Context, authorization string) error {
	cur, err := s.current(ctx, authorization)
	if err != nil {
		return err
	}
	_, err = s.db.AppSession.Delete().Where(appsession.Phone(cur.Phone)).Exec(actor.AsSystem(ctx))
	return err
}

// PushPlatforms are the push services a session may register with.
var PushPlatforms = []string{"apns", "fcm", "hms", "mipush", "log"}

// SetPushToken stores the push token of the current session.
//
// Errors: errs.Unauthorized, errs.Invalid.
func (s *Service) SetPushToken(ctx context.Context, authorization, platform, token string) error {
	token = strings.TrimSpace(token)
	if !slices.Contains(PushPlatforms, platform) {
		return errs.Field("platform", "推送平台只能是 apns、fcm、hms、mipush 或 log")
	}
	if token == "" || len(token) > 512 {
		return errs.Field("token", "推送令牌应为 1 到 512 个字符")
	}
	cur, err := s.current(ctx, authorization)
	if err != nil {
		return err
	}
	return s.db.AppSession.UpdateOneID(cur.ID).SetPushPlatform(platform).SetPushToken(token).Exec(actor.AsSystem(ctx))
}

type sessionsOutputBody struct {
	Items []SignedInDevice `json:"items"`
}

type sessionIDInput struct {
	Authorization string `header:"Authorization"`
	ID            int    `path:"id" minimum:"1" doc:"登录设备编号"`
}

type pushTokenInput struct {
	Authorization string `header:"Authorization"`
	Body          struct {
		Platform string `json:"platform" enum:"apns,fcm,hms,mipush,log" doc:"推送平台"`
		Token    string `json:"token" minLength:"1" maxLength:"512" doc:"推送令牌"`
	}
}

func (s *Service) registerMe(api huma.API) {
	huma.Register(api, httpapi.Op("app-me", http.MethodGet, "/app/v1/me", "我的信息和房屋", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app")),
		func(ctx context.Context, _ *struct{}) (*httpapi.Body[*AppMe], error) {
			me, err := s.Me(ctx)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(me), nil
		})
	huma.Register(api, httpapi.Op("app-list-sessions", http.MethodGet, "/app/v1/sessions", "登录设备", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("本手机号当前有效的登录（每台设备一个），current 为本设备。")),
		func(ctx context.Context, in *bearerInput) (*httpapi.Body[sessionsOutputBody], error) {
			items, err := s.Sessions(ctx, in.Authorization)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(sessionsOutputBody{Items: items}), nil
		})
	huma.Register(api, httpapi.Op("app-end-session", http.MethodDelete, "/app/v1/sessions/{id}", "退出某台设备", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("该设备的登录和 SIP 账号立即失效。")),
		func(ctx context.Context, in *sessionIDInput) (*struct{}, error) {
			return nil, s.EndSession(ctx, in.Authorization, in.ID)
		})
	huma.Register(api, httpapi.Op("app-end-all-sessions", http.MethodDelete, "/app/v1/sessions", "退出所有设备", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("本手机号的所有登录（包括本设备）和它们的 SIP 账号立即失效。")),
		func(ctx context.Context, in *bearerInput) (*struct{}, error) {
			return nil, s.EndAllSessions(ctx, in.Authorization)
		})
	huma.Register(api, httpapi.Op("app-set-push-token", http.MethodPut, "/app/v1/push-token", "登记推送令牌", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent),
		httpapi.Describe("本设备（本次登录）的推送令牌，用于门口机来电、未接来电和新通知的推送。")),
		func(ctx context.Context, in *pushTokenInput) (*struct{}, error) {
			return nil, s.SetPushToken(ctx, in.Authorization, in.Body.Platform, in.Body.Token)
		})
}
