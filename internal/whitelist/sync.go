package whitelist

import (
	"context"
	"slices"
	"strings"

	"linli/internal/ent"
	"linli/internal/ent/community"
	"linli/internal/ent/syncchange"
	"linli/internal/store"
)

// Whitelist computes the whole whitelist of loc now, ordered by key.
func (s *Service) Whitelist(ctx context.Context, loc Location) ([]Entry, error) {
	now := s.now()
	var out []Entry
	for _, src := range s.sources {
		es, err := src.Entries(ctx, loc, now, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delta is an answer to a sync: the entries to store and the keys to drop
// since the device's version, or, when Full, the whole whitelist.
type Delta struct {
	Version int64    `json:"version" doc:"设备应保存的新版本号，下次同步时作为 since"`
	Full    bool     `json:"full" doc:"为 true 时 upserts 是完整白名单，设备应先清空再写入"`
	Upserts []Entry  `json:"upserts"`
	Deletes []string `json:"deletes" doc:"要删除的条目标识"`
	Call    Call     `json:"call" doc:"呼叫设置（每次同步都带，不随版本变化）"`
}

// Call is the community's call settings as devices need them.
type Call struct {
	UnlockDTMF  string `json:"unlock_dtmf" doc:"通话中收到这些 DTMF 按键（RFC 4733 或 SIP INFO）即开门，默认 #"`
	RingSeconds int    `json:"ring_seconds" doc:"呼叫振铃时间（秒）"`
}

// MaxDeltaKeys is how many changed entries a delta carries before a full
// snapshot is cheaper.
const MaxDeltaKeys = 2000

// Sync returns what a device at loc that has version since must change.
// since 0 (a new device), a version the server does not know, or a device
// too far behind gets a full snapshot.
func (s *Service) Sync(ctx context.Context, loc Location, since int64) (*Delta, error) {
	c, err := s.db.Community.Query().Where(community.ID(loc.CommunityID)).Only(ctx)
	if err != nil {
		return nil, store.Map(err, "小区")
	}
	cur := c.SyncVersion
	full := since <= 0 || since > cur
	var keys []string
	if !full && since < cur {
		// The oldest change must still be on record, or some were purged.
		oldest, err := s.db.SyncChange.Query().Where(syncchange.CommunityID(loc.CommunityID)).
			Aggregate(ent.Min(syncchange.FieldVersion)).Int(ctx)
		if err != nil || int64(oldest) > since+1 {
			full = true
		} else {
			keys, err = s.db.SyncChange.Query().
				Where(syncchange.CommunityID(loc.CommunityID), syncchange.VersionGT(since), syncchange.VersionLTE(cur)).
				Unique(true).Select(syncchange.FieldKey).Strings(ctx)
			if err != nil {
				return nil, err
			}
			full = len(keys) > MaxDeltaKeys
		}
	}
	d := &Delta{Version: cur, Upserts: []Entry{}, Deletes: []string{}, Call: Call{UnlockDTMF: c.UnlockDtmf, RingSeconds: c.RingSeconds}}
	if full {
		select {
		case s.snapshots <- struct{}{}:
			defer func() { <-s.snapshots }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		d.Full = true
		d.Upserts, err = s.Whitelist(ctx, loc)
		if d.Upserts == nil {
			d.Upserts = []Entry{}
		}
		if err == nil {
			s.countServed(true)
		}
		return d, err
	}
	if err := s.resolve(ctx, loc, keys, d); err != nil {
		return nil, err
	}
	s.countServed(false)
	return d, nil
}

func (s *Service) countServed(full bool) {
	if s.served != nil {
		s.served(full)
	}
}

// keysOf returns the keys of keys that belong to src (start with its
// prefix).
func keysOf(src Source, keys []string) []string {
	var mine []string
	for _, k := range keys {
		if strings.HasPrefix(k, src.Prefix()) {
			mine = append(mine, k)
		}
	}
	return mine
}

// resolve puts the current state of keys for loc into d, source by
// source.
func (s *Service) resolve(ctx context.Context, loc Location, keys []string, d *Delta) error {
	now := s.now()
	for _, src := range s.sources {
		mine := keysOf(src, keys)
		if len(mine) == 0 {
			continue
		}
		current, err := src.Entries(ctx, loc, now, mine)
		if err != nil {
			return err
		}
		settle(d, current, mine)
	}
	return nil
}

// settle puts into d, for each of keys, its entry in current (which holds
// what the device should have now) or its deletion.
func settle(d *Delta, current []Entry, keys []string) {
	byKey := make(map[string]Entry, len(current))
	for _, e := range current {
		byKey[e.Key] = e
	}
	for _, k := range keys {
		if e, ok := byKey[k]; ok {
			d.Upserts = append(d.Upserts, e)
		} else {
			d.Deletes = append(d.Deletes, k)
		}
	}
}
