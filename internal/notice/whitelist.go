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
		q.Where(entnotice.IDIn(noticeIDs(keys)...))
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

// Targets returns the notices among keys of community cid still to be
// shown at now: a community notice is held everywhere, a room notice by the
// indoor monitors of its rooms.
func (s source) Targets(ctx context.Context, cid int, now time.Time, keys []string) ([]whitelist.Target, error) {
	ids := noticeIDs(keys)
	ns, err := s.db.Notice.Query().Where(entnotice.CommunityID(cid), entnotice.ShowUntilGT(now), entnotice.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	sent, err := s.db.NoticeRoom.Query().Where(noticeroom.NoticeIDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	rooms := map[int]map[int]bool{} // notice → its rooms
	for _, nr := range sent {
		if rooms[nr.NoticeID] == nil {
			rooms[nr.NoticeID] = map[int]bool{}
		}
		rooms[nr.NoticeID][nr.RoomID] = true
	}
	out := make([]whitelist.Target, len(ns))
	for i, n := range ns {
		mine := rooms[n.ID]
		out[i] = whitelist.Target{Entry: entry(n), Holds: func(loc whitelist.Location) bool {
			return n.Scope == entnotice.ScopeCommunity || loc.RoomID != 0 && mine[loc.RoomID]
		}}
	}
	return out, nil
}

// noticeIDs are the notices of notice keys.
func noticeIDs(keys []string) []int {
	ids := make([]int, len(keys))
	for i, k := range keys {
		ids[i], _ = strconv.Atoi(strings.TrimPrefix(k, "notice:"))
	}
	return ids
}

func entry(n *ent.Notice) whitelist.Entry {
	from, until := n.ShowFrom, n.ShowUntil
	return whitelist.Entry{Key: whitelist.NoticeKey(n.ID), Kind: "notice", Title: n.Title, Content: n.Content, ValidFrom: &from, ValidUntil: &until}
}
