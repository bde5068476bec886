package ownerapp

import (
	"context"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/community"
	"linli/internal/ent/notice"
	"linli/internal/ent/noticeread"
	"linli/internal/ent/noticeroom"
	"linli/internal/ent/resident"
	"linli/internal/errs"
	"linli/internal/household"
)

// NoticeHistory is how far back the app lists notices.
const NoticeHistory = 90 * 24 * time.Hour

// Notice is a notice as the app shows it.
type Notice struct {
	ID        int       `json:"id"`
	Community string    `json:"community" doc:"小区名称"`
	Scope     string    `json:"scope" enum:"community,rooms" doc:"小区通知或房间通知"`
	Title     string    `json:"title"`
	Content   string    `json:"content"`
	ShowFrom  time.Time `json:"show_from"`
	ShowUntil time.Time `json:"show_until" doc:"展示到此刻为止"`
	Showing   bool      `json:"showing" doc:"当前在展示时间内"`
	SentAt    time.Time `json:"sent_at"`
	Read      bool      `json:"read" doc:"已读"`
}

// visible is the query of the notices the resident of ctx may see: the
// community notices of their communities and the room notices of their rooms.
func (s *Service) visible(ctx context.Context) (*ent.NoticeQuery, error) {
	a, _ := actor.From(ctx)
	rooms, err := s.db.Resident.Query().Where(resident.Phone(a.Phone), household.Current(s.now())).Unique(true).Select(resident.FieldRoomID).Ints(ctx)
	if err != nil {
		return nil, err
	}
	mine, err := s.db.NoticeRoom.Query().Where(noticeroom.RoomIDIn(rooms...)).Select(noticeroom.FieldNoticeID).Ints(ctx)
	if err != nil {
		return nil, err
	}
	return s.db.Notice.Query().Where(notice.CommunityIDIn(a.Communities...),
		notice.Or(notice.ScopeEQ(notice.ScopeCommunity), notice.IDIn(mine...))), nil
}

// Notices lists the resident's notices of the last 90 days, newest first,
// with whether each was read.
func (s *Service) Notices(ctx context.Context) ([]Notice, error) {
	a, _ := actor.From(ctx)
	q, err := s.visible(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ns, err := q.Where(notice.CreatedAtGT(now.Add(-NoticeHistory))).Order(ent.Desc(notice.FieldCreatedAt), ent.Desc(notice.FieldID)).Limit(500).All(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	read, err := s.db.NoticeRead.Query().Where(noticeread.Phone(a.Phone), noticeread.NoticeIDIn(ids...)).Select(noticeread.FieldNoticeID).Ints(ctx)
	if err != nil {
		return nil, err
	}
	isRead := map[int]bool{}
	for _, id := range read {
		isRead[id] = true
	}
	cs, err := s.db.Community.Query().Where(community.IDIn(a.Communities...)).All(ctx)
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	out := make([]Notice, len(ns))
	for i, n := range ns {
		out[i] = Notice{ID: n.ID, Community: names[n.CommunityID], Scope: string(n.Scope), Title: n.Title, Content: n.Content,
			ShowFrom: n.ShowFrom, ShowUntil: n.ShowUntil, Showing: !now.Before(n.ShowFrom) && now.Before(n.ShowUntil),
			SentAt: n.CreatedAt, Read: isRead[n.ID]}
	}
	return out, nil
}

// MarkRead records that the resident read notice id.
//
// Errors: errs.NotFound (no such notice for them).
func (s *Service) MarkRead(ctx context.Context, id int) error {
	a, _ := actor.From(ctx)
	q, err := s.visible(ctx)
	if err != nil {
		return err
	}
	n, err := q.Where(notice.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return errs.New(errs.NotFound, "通知不存在或已撤回")
	}
	if err != nil {
		return err
	}
	err = s.db.NoticeRead.Create().SetCommunityID(n.CommunityID).SetNoticeID(n.ID).SetPhone(a.Phone).SetReadAt(s.now()).Exec(ctx)
	if ent.IsConstraintError(err) {
		return nil // read before
	}
	return err
}
