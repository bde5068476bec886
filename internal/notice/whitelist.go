package notice

import (
	"context"
	"strconv"
	"strings"
	"time"

	"linli/internal/ent"
	entnotice "linli/internal/ent/notice"
	"linli/internal/ent/noticeroom"
	"linli/internal/store"
	"linli/internal/whitelist"
)

// source is the notices' part of whitelists.
type source struct{ db *store.Store }

// NewSource returns the whitelist source of the notices in db.
func NewSource(db *store.Store) whitelist.Source { return source{db: db} }

func (source) Prefix() string { return "notice:" }

// Entries returns the notices of loc that are still to be shown at now:
// every community notice, and the room notices of an indoor monitor's
// room. With keys, only those notices are considered.
func (s source) Entries(ctx context.Context, loc whitelist.Location, now time.Time, keys []string) ([]whitelist.Entry, error) {
	q := s.db.Notice.Query().Where(entnotice.CommunityID(loc.CommunityID), entnotice.ShowUntilGT(now))
	if keys != nil {
		ids := make([]int, len(keys))
		for i, k := range keys {
			ids[i], _ = strconv.Atoi(strings.TrimPrefix(k, "notice:"))
		}
		q.Where(entnotice.IDIn(ids...))
	}
	if loc.RoomID == 0 {
		q.Where(entnotice.ScopeEQ(entnotice.ScopeCommunity))
	} else {
		mine, err := s.db.NoticeRoom.Query().Where(noticeroom.RoomID(loc.RoomID)).Select(noticeroom.FieldNoticeID).Ints(ctx)
		if err != nil {
			return nil, err
		}
		q.Where(entnotice.Or(entnotice.ScopeEQ(entnotice.ScopeCommunity), entnotice.IDIn(mine...)))
	}
	ns, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]whitelist.Entry, len(ns))
	for i, n := range ns {
		out[i] = entry(n)
	}
	return out, nil
}

func entry(n *ent.Notice) whitelist.Entry {
	from, until := n.ShowFrom, n.ShowUntil
	return whitelist.Entry{Key: whitelist.NoticeKey(n.ID), Kind: "notice", Title: n.Title, Content: n.Content, ValidFrom: &from, ValidUntil: &until}
}
