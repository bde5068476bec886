package ownerapp

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	entevent "linli/internal/ent/event"
	"linli/internal/errs"
	"linli/internal/httpapi"
)

// AppCall is a door call to one of the resident's rooms, as the app lists it.
type AppCall struct {
	ID              int       `json:"id"`
	RoomLabel       string    `json:"room_label" doc:"被呼叫的房间"`
	DeviceName      string    `json:"device_name" doc:"呼叫的设备，如【小区】-1区-1栋-1单元-门口机1"`
	StartedAt       time.Time `json:"started_at"`
	Result          string    `json:"result" enum:"已接听,未接听"`
	AnsweredBy      string    `json:"answered_by" doc:"接听者：室内分机、住户姓名、电话转移 138****1234；未接听为空"`
	DurationSeconds int       `json:"duration_seconds" doc:"通话时长（秒）"`
	HasSnapshot     bool      `json:"has_snapshot" doc:"有抓拍照片"`
	Seen            bool      `json:"seen" doc:"已查看（已接听的呼叫总是已查看）"`
}

// Paging of the call list.
const (
	DefaultCalls = 20
	MaxCalls     = 100
)

// myCalls is the query of the door calls to the rooms of the phone of ctx
// (监视 left out).
func (s *Service) myCalls(ctx context.Context) (*ent.EventQuery, error) {
	rs, err := s.myResidents(ctx)
	if err != nil {
		return nil, err
	}
	var rooms []int
	for _, r := range rs {
		rooms = append(rooms, r.RoomID)
	}
	return s.db.Event.Query().Where(entevent.KindEQ(entevent.KindCall), entevent.RoomIDIn(rooms...), entevent.Monitor(false)), nil
}

// Calls lists the phone's calls newest first, before record id beforeID
// (0: from the newest), at most limit, and how many missed calls it has
// not seen.
//
// Errors: errs.Invalid (limit out of range).
func (s *Service) Calls(ctx context.Context, beforeID, limit int) ([]AppCall, int, error) {
	a, _ := actor.From(ctx)
	sys := actor.AsSystem(ctx)
	if limit == 0 {
		limit = DefaultCalls
	}
	if limit < 1 || limit > MaxCalls {
		return nil, 0, errs.Fieldf("limit", "limit 应为 1 到 %d", MaxCalls)
	}
	q, err := s.myCalls(ctx)
	if err != nil {
		return nil, 0, err
	}
	p, err := s.phoneSettings(ctx, a.Phone)
	if err != nil {
		return nil, 0, err
	}
	unseen, err := q.Clone().Where(entevent.AnsweredAtIsNil(), entevent.ResultNEQ(""), entevent.IDGT(p.CallsSeenID)).Count(sys)
	if err != nil {
		return nil, 0, err
	}
	if beforeID > 0 {
		q.Where(entevent.IDLT(beforeID))
	}
	es, err := q.Order(ent.Desc(entevent.FieldID)).Limit(limit).All(sys)
	if err != nil {
		return nil, 0, err
	}
	out := make([]AppCall, len(es))
	for i, e := range es {
		c := AppCall{ID: e.ID, RoomLabel: e.Callee, DeviceName: e.DeviceLabel, StartedAt: e.OccurredAt, Result: "未接听",
			DurationSeconds: e.TalkSeconds, HasSnapshot: e.SnapshotKey != "", Seen: e.ID <= p.CallsSeenID}
		if e.AnsweredAt != nil {
			c.Result, c.AnsweredBy, c.Seen = "已接听", e.Answerer, true
		}
		out[i] = c
	}
	return out, unseen, nil
}

// CallSnapshot returns the snapshot of call id of the phone's rooms.
//
// Errors: errs.NotFound (not the phone's call, or no snapshot).
func (s *Service) CallSnapshot(ctx context.Context, id int) ([]byte, error) {
	q, err := s.myCalls(ctx)
	if err != nil {
		return nil, err
	}
	e, err := q.Where(entevent.ID(id)).Only(actor.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "呼叫记录不存在")
	}
	if err != nil {
		return nil, err
	}
	if e.SnapshotKey == "" || s.snapshots == nil {
		return nil, errs.New(errs.NotFound, "这次呼叫没有抓拍照片")
	}
	return s.snapshots.Snapshot(actor.AsSystem(ctx), e.CommunityID, e.ID)
}

// SeeCalls marks every missed call of the phone's rooms seen, for this
// phone only.
func (s *Service) SeeCalls(ctx context.Context) error {
	a, _ := actor.From(ctx)
	sys := actor.AsSystem(ctx)
	q, err := s.myCalls(ctx)
	if err != nil {
		return err
	}
	last, err := q.Order(ent.Desc(entevent.FieldID)).FirstID(sys)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.updatePhone(ctx, a.Phone, func(u *ent.AppPhoneUpdateOne, cur *ent.AppPhone) {
		if last > cur.CallsSeenID {
			u.SetCallsSeenID(last)
		}
	})
}

type callsInput struct {
	BeforeID int `query:"before_id" minimum:"0" doc:"只列出编号小于此值的记录（翻页）"`
	Limit    int `query:"limit" minimum:"0" maximum:"100" doc:"条数，默认 20，最多 100"`
}

type callsOutputBody struct {
	Items        []AppCall `json:"items"`
	MissedUnseen int       `json:"missed_unseen" doc:"未查看的未接来电数"`
}

type callInput struct {
	ID int `path:"id" minimum:"1" doc:"呼叫记录编号"`
}

func (s *Service) registerCalls(api huma.API) {
	huma.Register(api, httpapi.Op("app-list-calls", http.MethodGet, "/app/v1/calls", "通话记录", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("门口机等呼叫我的房间的记录，最新的在前；missed_unseen 为未查看的未接来电数。")),
		func(ctx context.Context, in *callsInput) (*httpapi.Body[callsOutputBody], error) {
			items, unseen, err := s.Calls(ctx, in.BeforeID, in.Limit)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(callsOutputBody{Items: items, MissedUnseen: unseen}), nil
		})
	huma.Register(api, httpapi.Op("app-call-snapshot", http.MethodGet, "/app/v1/calls/{id}/snapshot", "呼叫抓拍照片", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Binary("image/jpeg", "抓拍照片")),
		func(ctx context.Context, in *callInput) (*httpapi.File, error) {
			data, err := s.CallSnapshot(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpapi.NewFile("image/jpeg", "private, max-age=3600", data), nil
		})
	huma.Register(api, httpapi.Op("app-see-calls", http.MethodPost, "/app/v1/calls/seen", "未接来电标为已查看", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			return nil, s.SeeCalls(ctx)
		})
}
