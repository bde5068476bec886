package webcall

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/actor"
	"linli/internal/auth"
	entdevice "linli/internal/ent/device"
	"linli/internal/ent/resident"
	"linli/internal/errs"
	"linli/internal/household"
	"linli/internal/httpapi"
	"linli/internal/perm"
	"linli/internal/sip"
)

type staffTicketInput struct {
	Body struct {
		CommunityID int `json:"community_id" minimum:"1" doc:"接听哪个小区的门口呼叫"`
	}
}

type appTicketInput struct {
	Authorization string `header:"Authorization"`
}

// Ticket is a single-use pass to open the page's WebSocket.
type Ticket struct {
	Ticket    string `json:"ticket" doc:"一次性凭证：打开 /webcall/ws?ticket=… 时使用"`
	ExpiresIn int    `json:"expires_in" doc:"有效秒数"`
}

// Station is a door or wall station a resident may watch.
type Station struct {
	DeviceID int    `json:"device_id" doc:"设备编号"`
	Label    string `json:"label" doc:"设备位置，如【测试小区1】-1区-2栋-1单元-门口机1"`
	Kind     string `json:"kind" enum:"door,wall" doc:"door 门口机；wall 围墙机"`
	Online   bool   `json:"online" doc:"设备是否在线"`
}

type stationsOutputBody struct {
	Items []Station `json:"items"`
}

// Register adds the ticket operations and the residents' station list;
// the socket itself is ServeHTTP, mounted at /webcall/ws.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("webcall-staff-ticket", http.MethodPost, "/api/v1/webcall/ticket", "门口呼叫连接凭证", auth.Needs(perm.DoorCall),
		httpapi.Tags("门口呼叫"),
		httpapi.Describe("打开门口呼叫页面时获取，用于连接 /webcall/ws（见 docs/webcall.md）：页面即成为该小区管理中心（9900）的接听方之一，并可监视本小区的门口机和围墙机。")),
		func(ctx context.Context, in *staffTicketInput) (*httpapi.Body[*Ticket], error) {
			t, err := s.StaffTicket(ctx, in.Body.CommunityID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(t), nil
		})
	huma.Register(api, httpapi.Op("app-webcall-ticket", http.MethodPost, "/app/v1/webcall/ticket", "网页接听连接凭证", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("H5 页面打开期间作为本 APP 的一个接听端：呼叫房间时与室内分机、APP 同时振铃；"+
			"也可监视本单元门口机和小区围墙机。需要房间开通 APP呼叫。")),
		func(ctx context.Context, in *appTicketInput) (*httpapi.Body[*Ticket], error) {
			t, err := s.AppTicket(ctx, in.Authorization)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(t), nil
		})
	huma.Register(api, httpapi.Op("app-webcall-stations", http.MethodGet, "/app/v1/webcall/stations", "可监视的设备", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("本人房间所在单元的门口机和小区的围墙机（房间需开通 APP呼叫）。")),
		func(ctx context.Context, in *appTicketInput) (*httpapi.Body[stationsOutputBody], error) {
			items, err := s.Stations(ctx, in.Authorization)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(stationsOutputBody{Items: items}), nil
		})
}

// StaffTicket lets the signed-in staff member's page take community
// cid's door calls.
func (s *Service) StaffTicket(ctx context.Context, cid int) (*Ticket, error) {
	if s.sip == nil {
		return nil, errOff
	}
	p := auth.Current(ctx)
	if p == nil {
		return nil, errs.New(errs.Unauthorized, "请先登录")
	}
	if !p.Actor().CanAccess(cid) {
		return nil, errs.New(errs.NotFound, "小区不存在")
	}
	acc, ok, err := s.dir.StaffAccount(ctx, p.Account.ID, cid)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.New(errs.NotFound, "小区不存在")
	}
	t, ttl := s.issue(acc.Username)
	return &Ticket{Ticket: t, ExpiresIn: int(ttl.Seconds())}, nil
}

// AppTicket lets a resident's H5 page be one of the app's contacts.
func (s *Service) AppTicket(ctx context.Context, authorization string) (*Ticket, error) {
	acc, err := s.appAccount(ctx, authorization)
	if err != nil {
		return nil, err
	}
	t, ttl := s.issue(acc.Username)
	return &Ticket{Ticket: t, ExpiresIn: int(ttl.Seconds())}, nil
}

func (s *Service) appAccount(ctx context.Context, authorization string) (sip.Account, error) {
	if s.sip == nil {
		return sip.Account{}, errOff
	}
	username, err := s.appSIP(ctx, authorization)
	if err != nil {
		return sip.Account{}, err
	}
	acc, ok, err := s.dir.Account(ctx, username)
	if err != nil {
		return sip.Account{}, err
	}
	if !ok {
		return sip.Account{}, errs.New(errs.Forbidden, "您的房间没有开通 APP呼叫，请联系物业开通")
	}
	return acc, nil
}

// Stations lists what the resident may watch.
func (s *Service) Stations(ctx context.Context, authorization string) ([]Station, error) {
	acc, err := s.appAccount(ctx, authorization)
	if err != nil {
		return nil, err
	}
	sys := actor.AsSystem(ctx)
	units, err := s.db.Resident.Query().Where(resident.Phone(acc.Phone), resident.AppCall(true), resident.CommunityID(acc.CommunityID),
		household.Current(time.Now())).Unique(true).Select(resident.FieldUnitID).Ints(sys)
	if err != nil {
		return nil, err
	}
	ds, err := s.db.Device.Query().Where(entdevice.CommunityID(acc.CommunityID), entdevice.Or(
		entdevice.And(entdevice.KindEQ(entdevice.KindDoor), entdevice.UnitIDIn(units...)),
		entdevice.KindEQ(entdevice.KindWall))).Order(entdevice.ByKind(), entdevice.ByUnitID(), entdevice.ByIndex()).All(sys)
	if err != nil {
		return nil, err
	}
	out := []Station{}
	for _, d := range ds {
		acc, ok, err := s.dir.Account(ctx, "d"+strconv.Itoa(d.ID))
		if err != nil {
			return nil, err
		}
		label := ""
		if ok {
			label = acc.Label
		}
		out = append(out, Station{DeviceID: d.ID, Label: label, Kind: string(d.Kind), Online: d.Online})
	}
	return out, nil
}
