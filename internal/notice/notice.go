// Package notice is 公告信息管理: 小区通知 for every device of a community
// and 房间通知 for the indoor monitors of chosen rooms, shown for 1 to 60
// days, which reach devices through the whitelist (internal/whitelist) and
// residents' apps through the function told of each notice sent.
package notice

import (
	"context"
	"slices"
	"strings"
	"time"

	"linli/internal/ent"
	entnotice "linli/internal/ent/notice"
	"linli/internal/ent/noticeread"
	"linli/internal/ent/noticeroom"
	"linli/internal/ent/room"
	"linli/internal/errs"
	"linli/internal/region"
	"linli/internal/store"
	"linli/internal/validate"
	"linli/internal/whitelist"
)

// Service sends and withdraws notices.
type Service struct {
	db *store.Store
	wl *whitelist.Service
	// listener, if not nil, is told of each notice sent, after it is
	// committed (to push it to residents' apps).
	listener Listener
}

// Listener hears of every notice sent: to every resident of its community,
// or to those of roomIDs.
type Listener interface {
	NoticeSent(ctx context.Context, n *ent.Notice, roomIDs []int)
}

// NewService returns a Service that records its changes in wl and tells
// listener (if not nil) of every notice sent.
func NewService(db *store.Store, wl *whitelist.Service, listener Listener) *Service {
	return &Service{db: db, wl: wl, listener: listener}
}

// Notice limits (发送通知).
const (
	MaxTitle       = 40
	MaxContent     = 1000
	MaxNoticeDays  = 60
	MaxNoticeRooms = 5000
)

// NoticeInput is a notice to send. From and To are days (2006-01-02),
// both shown. Rooms and Units choose the rooms of a 房间通知.
type NoticeInput struct {
	Title, Content string
	From, To       string
	RoomIDs        []int
	UnitIDs        []int
}

// window checks the display days: 1 to 60 days, ending today or later.
func (s *Service) window(from, to string) (time.Time, time.Time, error) {
	start, err1 := time.ParseInLocation(time.DateOnly, from, region.Time)
	end, err2 := time.ParseInLocation(time.DateOnly, to, region.Time)
	if err1 != nil {
		return start, end, errs.Field("show_from", "展示时间的开始日期格式应为 2020-07-23")
	}
	if err2 != nil {
		return start, end, errs.Field("show_to", "展示时间的结束日期格式应为 2020-07-24")
	}
	if end.Before(start) {
		return start, end, errs.Field("show_to", "展示时间的结束日期不能早于开始日期")
	}
	days := int(end.Sub(start).Hours()/24) + 1
	if days > MaxNoticeDays {
		return start, end, errs.Fieldf("show_to", "展示时间为 1 到 %d 天，现在是 %d 天", MaxNoticeDays, days)
	}
	today := s.wl.Now().In(region.Time)
	if end.Before(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, region.Time)) {
		return start, end, errs.Field("show_to", "展示时间已经过去，请选择今天或以后的日期")
	}
	return start, end.AddDate(0, 0, 1), nil
}

// SendNotice sends a 小区通知 (rooms false) or a 房间通知 to community cid.
// A room notice without display days is shown for 7 days from today.
//
// Errors: errs.Invalid (fields, days, rooms), errs.NotFound (community).
func (s *Service) SendNotice(ctx context.Context, cid int, rooms bool, in NoticeInput, by string) (*ent.Notice, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, err
	}
	in.Title, in.Content = strings.TrimSpace(in.Title), strings.TrimSpace(in.Content)
	switch n := len([]rune(in.Title)); {
	case n == 0:
		return nil, errs.Field("title", "请输入通知标题，如 停水通知")
	case n > MaxTitle:
		return nil, errs.Fieldf("title", "标题最多 %d 个字，现在 %d 个字", MaxTitle, n)
	}
	switch n := len([]rune(in.Content)); {
	case n == 0:
		return nil, errs.Field("content", "请输入通知内容")
	case n > MaxContent:
		return nil, errs.Fieldf("content", "内容最多 %d 个字，现在 %d 个字", MaxContent, n)
	}
	if err := validate.First(validate.Visible("title", "标题", in.Title), validate.VisibleLines("content", "内容", in.Content)); err != nil {
		return nil, err
	}
	if rooms && in.From == "" && in.To == "" {
		today := s.wl.Now().In(region.Time)
		in.From, in.To = today.Format(time.DateOnly), today.AddDate(0, 0, 6).Format(time.DateOnly)
	}
	from, until, err := s.window(in.From, in.To)
	if err != nil {
		return nil, err
	}
	var roomIDs []int
	if rooms {
		if roomIDs, err = s.noticeRooms(ctx, cid, in.RoomIDs, in.UnitIDs); err != nil {
			return nil, err
		}
	}
	scope := entnotice.ScopeCommunity
	if rooms {
		scope = entnotice.ScopeRooms
	}
	var n *ent.Notice
	err = s.wl.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
		var err error
		n, err = tx.Notice.Create().SetCommunityID(cid).SetScope(scope).SetTitle(in.Title).SetContent(in.Content).
			SetShowFrom(from).SetShowUntil(until).SetSentBy(by).SetCreatedAt(s.wl.Now()).Save(ctx)
		if err != nil {
			return nil, err
		}
		for chunk := range slices.Chunk(roomIDs, 1000) {
			creates := make([]*ent.NoticeRoomCreate, len(chunk))
			for i, r := range chunk {
				creates[i] = tx.NoticeRoom.Create().SetCommunityID(cid).SetNoticeID(n.ID).SetRoomID(r)
			}
			if err := tx.NoticeRoom.CreateBulk(creates...).Exec(ctx); err != nil {
				return nil, err
			}
		}
		return []string{whitelist.NoticeKey(n.ID)}, nil
	})
	if err == nil && s.listener != nil {
		s.listener.NoticeSent(ctx, n, roomIDs)
	}
	return n, err
}

// noticeRooms returns the rooms chosen directly and those of the chosen
// units, all of community cid.
func (s *Service) noticeRooms(ctx context.Context, cid int, roomIDs, unitIDs []int) ([]int, error) {
	if len(roomIDs) == 0 && len(unitIDs) == 0 {
		return nil, errs.Field("room_ids", "请选择要通知的房间（可选整个单元）")
	}
	q := s.db.Room.Query().Where(room.CommunityID(cid), room.Or(room.IDIn(roomIDs...), room.UnitIDIn(unitIDs...)))
	found, err := q.IDs(ctx)
	if err != nil {
		return nil, err
	}
	have := map[int]bool{}
	for _, id := range found {
		have[id] = true
	}
	for _, id := range roomIDs {
		if !have[id] {
			return nil, errs.Fieldf("room_ids", "房间 %d 不存在或不属于本小区", id)
		}
	}
	if len(found) == 0 {
		return nil, errs.Field("unit_ids", "所选单元还没有房间")
	}
	if len(found) > MaxNoticeRooms {
		return nil, errs.Fieldf("room_ids", "一次最多通知 %d 个房间", MaxNoticeRooms)
	}
	slices.Sort(found)
	return found, nil
}

// DeleteNotice withdraws notice id from devices and apps and deletes it.
//
// Errors: errs.NotFound.
func (s *Service) DeleteNotice(ctx context.Context, cid, id int) error {
	n, err := s.db.Notice.Query().Where(entnotice.ID(id), entnotice.CommunityID(cid)).Only(ctx)
	if err != nil {
		return store.Map(err, "通知")
	}
	return s.wl.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
		if _, err := tx.NoticeRoom.Delete().Where(noticeroom.NoticeID(n.ID)).Exec(ctx); err != nil {
			return nil, err
		}
		if _, err := tx.NoticeRead.Delete().Where(noticeread.NoticeID(n.ID)).Exec(ctx); err != nil {
			return nil, err
		}
		if err := tx.Notice.DeleteOneID(n.ID).Exec(ctx); err != nil {
			return nil, err
		}
		return []string{whitelist.NoticeKey(n.ID)}, nil
	})
}
