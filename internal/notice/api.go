package notice

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	entnotice "linli/internal/ent/notice"
	"linli/internal/ent/noticeroom"
	"linli/internal/housing"
	"linli/internal/httpapi"
	"linli/internal/perm"
	"linli/internal/region"
	"linli/internal/store"
)

// NoticeView is a notice as 小区通知 and 房间通知 list it.
type NoticeView struct {
	ID         int       `json:"id"`
	Scope      string    `json:"scope" enum:"community,rooms" doc:"小区通知或房间通知"`
	Title      string    `json:"title" doc:"标题"`
	Content    string    `json:"content" doc:"内容"`
	ShowFrom   string    `json:"show_from" doc:"展示时间开始日期"`
	ShowTo     string    `json:"show_to" doc:"展示时间结束日期（含）"`
	SentAt     time.Time `json:"sent_at" doc:"发送时间"`
	SentBy     string    `json:"sent_by,omitempty"`
	RoomCount  int       `json:"room_count,omitempty" doc:"房间通知的房间数"`
	RoomLabels []string  `json:"room_labels,omitempty" doc:"房间通知的前几个房间"`
}

// ListNotices returns a page of community cid's notices of scope, newest first.
func (s *Service) ListNotices(ctx context.Context, cid int, scope string, offset, limit int) ([]NoticeView, int, error) {
	c, err := store.Community(ctx, s.db.Client, cid)
	if err != nil {
		return nil, 0, err
	}
	q := s.db.Notice.Query().Where(entnotice.CommunityID(cid), entnotice.ScopeEQ(entnotice.Scope(scope)))
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	ns, err := q.Order(ent.Desc(entnotice.FieldCreatedAt), ent.Desc(entnotice.FieldID)).Offset(offset).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.noticeViews(ctx, c, ns)
	return out, total, err
}

// noticeViews returns the API form of notices of community c.
func (s *Service) noticeViews(ctx context.Context, c *ent.Community, ns []*ent.Notice) ([]NoticeView, error) {
	out := make([]NoticeView, len(ns))
	for i, n := range ns {
		out[i] = NoticeView{ID: n.ID, Scope: string(n.Scope), Title: n.Title, Content: n.Content,
			ShowFrom: n.ShowFrom.In(region.Time).Format(time.DateOnly), ShowTo: n.ShowUntil.In(region.Time).AddDate(0, 0, -1).Format(time.DateOnly),
			SentAt: n.CreatedAt, SentBy: n.SentBy}
		if n.Scope != entnotice.ScopeRooms {
			continue
		}
		rooms, err := s.db.NoticeRoom.Query().Where(noticeroom.NoticeID(n.ID)).Select(noticeroom.FieldRoomID).Ints(ctx)
		if err != nil {
			return nil, err
		}
		slices.Sort(rooms)
		out[i].RoomCount = len(rooms)
		first := rooms[:min(5, len(rooms))]
		labels, err := housing.RoomLabels(ctx, s.db.Client, c.Name, first)
		if err != nil {
			return nil, err
		}
		for _, r := range first {
			out[i].RoomLabels = append(out[i].RoomLabels, labels[r])
		}
	}
	return out, nil
}

type noticeListInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	httpapi.PageParams
}

type communityNoticeInput struct {
	CID  int `path:"cid" minimum:"1" doc:"小区编号"`
	Body struct {
		Title    string `json:"title" maxLength:"200" doc:"标题，如 停水通知"`
		Content  string `json:"content" maxLength:"5000" doc:"内容"`
		ShowFrom string `json:"show_from" maxLength:"10" doc:"展示时间开始日期，如 2020-07-23"`
		ShowTo   string `json:"show_to" maxLength:"10" doc:"展示时间结束日期（含），1 到 60 天"`
	}
}

type roomNoticeInput struct {
	CID  int `path:"cid" minimum:"1" doc:"小区编号"`
	Body struct {
		Title    string `json:"title" maxLength:"200" doc:"标题"`
		Content  string `json:"content" maxLength:"5000" doc:"内容"`
		ShowFrom string `json:"show_from,omitempty" maxLength:"10" doc:"展示时间开始日期；不填为今天起 7 天"`
		ShowTo   string `json:"show_to,omitempty" maxLength:"10" doc:"展示时间结束日期（含）"`
		RoomIDs  []int  `json:"room_ids,omitempty" maxItems:"5000" doc:"要通知的房间"`
		UnitIDs  []int  `json:"unit_ids,omitempty" maxItems:"500" doc:"要通知的整个单元"`
	}
}

type noticeIDInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	ID  int `path:"id" minimum:"1" doc:"通知编号"`
}

// Register adds 公告信息管理 (小区通知, 房间通知) to api.
func (s *Service) Register(api huma.API) {
	list := func(scope string) func(context.Context, *noticeListInput) (*httpapi.Body[httpapi.Page[NoticeView]], error) {
		return func(ctx context.Context, in *noticeListInput) (*httpapi.Body[httpapi.Page[NoticeView]], error) {
			items, total, err := s.ListNotices(ctx, in.CID, scope, in.Offset(), in.Size)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(httpapi.Page[NoticeView]{Items: items, Total: total}), nil
		}
	}
	huma.Register(api, httpapi.Op("list-notices", http.MethodGet, "/api/v1/communities/{cid}/notices", "小区通知", auth.Needs(perm.NoticesView),
		httpapi.Tags("公告信息管理")), list("community"))
	huma.Register(api, httpapi.Op("list-room-notices", http.MethodGet, "/api/v1/communities/{cid}/room-notices", "房间通知", auth.Needs(perm.NoticesView),
		httpapi.Tags("公告信息管理")), list("rooms"))
	sent := func(ctx context.Context, cid int, n *ent.Notice, err error) (*httpapi.Body[NoticeView], error) {
		if err != nil {
			return nil, err
		}
		c, err := store.Community(ctx, s.db.Client, cid)
		if err != nil {
			return nil, err
		}
		vs, err := s.noticeViews(ctx, c, []*ent.Notice{n})
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(vs[0]), nil
	}
	huma.Register(api, httpapi.Op("send-notice", http.MethodPost, "/api/v1/communities/{cid}/notices", "发送小区通知", auth.Needs(perm.NoticesEdit),
		httpapi.Tags("公告信息管理"),
		httpapi.Status(http.StatusCreated),
		httpapi.Describe("推送到本小区全部设备（展示时间内显示）和业主 APP。展示时间 1 到 60 天。")),
		func(ctx context.Context, in *communityNoticeInput) (*httpapi.Body[NoticeView], error) {
			b := in.Body
			n, err := s.SendNotice(ctx, in.CID, false, NoticeInput{Title: b.Title, Content: b.Content, From: b.ShowFrom, To: b.ShowTo}, sender(ctx))
			return sent(ctx, in.CID, n, err)
		})
	huma.Register(api, httpapi.Op("send-room-notice", http.MethodPost, "/api/v1/communities/{cid}/room-notices", "发送房间通知", auth.Needs(perm.NoticesEdit),
		httpapi.Tags("公告信息管理"),
		httpapi.Status(http.StatusCreated),
		httpapi.Describe("推送到所选房间的室内分机和这些房间业主的 APP。")),
		func(ctx context.Context, in *roomNoticeInput) (*httpapi.Body[NoticeView], error) {
			b := in.Body
			n, err := s.SendNotice(ctx, in.CID, true, NoticeInput{Title: b.Title, Content: b.Content, From: b.ShowFrom, To: b.ShowTo,
				RoomIDs: b.RoomIDs, UnitIDs: b.UnitIDs}, sender(ctx))
			return sent(ctx, in.CID, n, err)
		})
	huma.Register(api, httpapi.Op("delete-notice", http.MethodDelete, "/api/v1/communities/{cid}/notices/{id}", "删除通知（从设备和 APP 撤回）", auth.Needs(perm.NoticesEdit),
		httpapi.Tags("公告信息管理"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *noticeIDInput) (*struct{}, error) {
			return nil, s.DeleteNotice(ctx, in.CID, in.ID)
		})
}

func sender(ctx context.Context) string {
	if p := auth.Current(ctx); p != nil {
		return p.Account.Account
	}
	return ""
}
