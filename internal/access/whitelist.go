package access

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/card"
	"linli/internal/ent/community"
	"linli/internal/ent/notice"
	"linli/internal/ent/resident"
	"linli/internal/ent/syncchange"
	"linli/internal/store"
)

// Location is where a device stands: a unit door station has UnitID; an
// indoor monitor has its RoomID and the room's UnitID; wall and management
// stations (and anything community-wide) have 0.
type Location struct {
	CommunityID int
	UnitID      int
	RoomID      int
	// The device itself, for ads: door and wall stations (Screen) show the
	// ads of their orientation when chosen (or when none are chosen).
	DeviceID    int
	Orientation string
	Screen      bool
}

// Entry is one whitelist entry as a device stores it.
type Entry struct {
	Key        string     `json:"key" doc:"条目标识：card:<卡号>、face:<业主编号>、notice:<通知编号>、ad:<方向>:<广告位> 或 pass:<通行证编号>"`
	Kind       string     `json:"kind" enum:"card,face,notice,ad,pass"`
	Card       string     `json:"card,omitempty" doc:"卡号（十六进制大写）"`
	Mode       string     `json:"mode,omitempty" enum:"ic,id_card," doc:"ic 模式或身份证"`
	ResidentID int        `json:"resident_id,omitempty"`
	Title      string     `json:"title,omitempty" doc:"通知标题"`
	Content    string     `json:"content,omitempty" doc:"通知内容"`
	Slot       int        `json:"slot,omitempty" doc:"广告位 1–4"`
	URL        string     `json:"url,omitempty" doc:"广告图片的下载路径（带设备令牌请求）"`
	SHA256     string     `json:"sha256,omitempty" doc:"广告图片的 SHA-256"`
	Width      int        `json:"width,omitempty"`
	Height     int        `json:"height,omitempty"`
	ValidFrom  *time.Time `json:"valid_from,omitempty" doc:"人脸有效期或通知展示时间的开始"`
	ValidUntil *time.Time `json:"valid_until,omitempty" doc:"为空表示永久有效；设备到期后自行失效（通知到期后不再展示）"`

	// The fields of a visitor pass (kind pass).
	PassEntry
}

// opens reports whether card c belongs on the whitelist of loc at now.
func opens(c *ent.Card, loc Location, now time.Time) bool {
	if c.Status != card.StatusActive || c.ValidUntil != nil && !now.Before(*c.ValidUntil) {
		return false
	}
	return c.Type == card.TypeSuper || loc.UnitID == 0 || slices.Contains(c.UnitIds, loc.UnitID)
}

// faceOpens reports whether resident r's face belongs on the whitelist of loc.
func faceOpens(r *ent.Resident, loc Location, now time.Time) bool {
	if !r.FaceEnabled || r.FacePhoto == "" || r.FaceValidTo != nil && !now.Before(*r.FaceValidTo) {
		return false
	}
	if r.AccessUntil != nil && now.After(*r.AccessUntil) { // the resident's own access ended (租户有效期至)
		return false
	}
	return loc.UnitID == 0 || r.UnitID == loc.UnitID
}

func cardEntry(c *ent.Card) Entry {
	return Entry{Key: cardKey(c.Number), Kind: "card", Card: c.Number, Mode: string(c.Mode), ValidUntil: c.ValidUntil}
}

func faceEntry(r *ent.Resident) Entry {
	until := r.FaceValidTo
	if r.AccessUntil != nil && (until == nil || until.After(*r.AccessUntil)) {
		until = r.AccessUntil // the resident's own access ends then (租户有效期至)
	}
	return Entry{Key: faceKey(r.ID), Kind: "face", ResidentID: r.ID, ValidFrom: r.FaceValidFrom, ValidUntil: until}
}

// Whitelist computes the whole whitelist of loc now, ordered by key.
func (s *Service) Whitelist(ctx context.Context, loc Location) ([]Entry, error) {
	now := s.now()
	cards, err := s.db.Card.Query().Where(card.CommunityID(loc.CommunityID), card.StatusEQ(card.StatusActive)).All(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, c := range cards {
		if opens(c, loc, now) {
			out = append(out, cardEntry(c))
		}
	}
	q := s.db.Resident.Query().Where(resident.CommunityID(loc.CommunityID), resident.FaceEnabled(true), resident.FacePhotoNEQ(""))
	if loc.UnitID != 0 {
		q.Where(resident.UnitID(loc.UnitID))
	}
	faces, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range faces {
		if faceOpens(r, loc, now) {
			out = append(out, faceEntry(r))
		}
	}
	notices, err := s.noticesFor(ctx, loc, nil)
	if err != nil {
		return nil, err
	}
	out = append(out, notices...)
	ads, err := s.adsFor(ctx, loc)
	if err != nil {
		return nil, err
	}
	out = append(out, ads...)
	passes, err := s.passesFor(ctx, loc, nil)
	if err != nil {
		return nil, err
	}
	out = append(out, passes...)
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
		return d, err
	}
	if err := s.resolve(ctx, loc, keys, d); err != nil {
		return nil, err
	}
	return d, nil
}

// resolve puts the current state of keys for loc into d.
func (s *Service) resolve(ctx context.Context, loc Location, keys []string, d *Delta) error {
	now := s.now()
	var numbers []string
	var residentIDs, noticeIDs []int
	var adKeys []string
	var passIDs []int
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, "card:"):
			numbers = append(numbers, strings.TrimPrefix(k, "card:"))
		case strings.HasPrefix(k, "face:"):
			id, _ := strconv.Atoi(strings.TrimPrefix(k, "face:"))
			residentIDs = append(residentIDs, id)
		case strings.HasPrefix(k, "notice:"):
			id, _ := strconv.Atoi(strings.TrimPrefix(k, "notice:"))
			noticeIDs = append(noticeIDs, id)
		case strings.HasPrefix(k, "ad:"):
			adKeys = append(adKeys, k)
		case strings.HasPrefix(k, "pass:"):
			id, _ := strconv.Atoi(strings.TrimPrefix(k, "pass:"))
			passIDs = append(passIDs, id)
		}
	}
	if len(passIDs) > 0 {
		passes, err := s.passesFor(ctx, loc, passIDs)
		if err != nil {
			return err
		}
		keys := make([]string, len(passIDs))
		for i, id := range passIDs {
			keys[i] = PassKey(id)
		}
		settle(d, passes, keys)
	}
	if len(adKeys) > 0 {
		ads, err := s.adsFor(ctx, loc)
		if err != nil {
			return err
		}
		settle(d, ads, adKeys)
	}
	if len(noticeIDs) > 0 {
		notices, err := s.noticesFor(ctx, loc, noticeIDs)
		if err != nil {
			return err
		}
		keys := make([]string, len(noticeIDs))
		for i, id := range noticeIDs {
			keys[i] = noticeKey(id)
		}
		settle(d, notices, keys)
	}
	cards, err := s.db.Card.Query().Where(card.CommunityID(loc.CommunityID), card.NumberIn(numbers...), card.StatusNEQ(card.StatusBlank)).All(ctx)
	if err != nil {
		return err
	}
	byNumber := make(map[string]*ent.Card, len(cards))
	for _, c := range cards {
		byNumber[c.Number] = c
	}
	for _, n := range numbers {
		if c, ok := byNumber[n]; ok && opens(c, loc, now) {
			d.Upserts = append(d.Upserts, cardEntry(c))
		} else {
			d.Deletes = append(d.Deletes, cardKey(n))
		}
	}
	residents, err := s.db.Resident.Query().Where(resident.CommunityID(loc.CommunityID), resident.IDIn(residentIDs...)).All(ctx)
	if err != nil {
		return err
	}
	byID := make(map[int]*ent.Resident, len(residents))
	for _, r := range residents {
		byID[r.ID] = r
	}
	for _, id := range residentIDs {
		if r, ok := byID[id]; ok && faceOpens(r, loc, now) {
			d.Upserts = append(d.Upserts, faceEntry(r))
		} else {
			d.Deletes = append(d.Deletes, faceKey(id))
		}
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

// ExpireDue records, for every card, face, notice and visitor pass whose
// time ended, a change so that devices drop it at their next sync ("expired
// cards leave whitelists on their own"). The background janitor calls it
// every minute.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	ended, err := s.EndResidents(ctx)
	if err != nil {
		return 0, err
	}
	n, err := s.expireDue(ctx)
	return ended + n, err
}

func (s *Service) expireDue(ctx context.Context) (int, error) {
	now := s.now()
	cards, err := s.db.Card.Query().Where(card.StatusEQ(card.StatusActive), card.ValidUntilLTE(now), card.ExpirySynced(false)).Limit(5000).All(ctx)
	if err != nil {
		return 0, err
	}
	faces, err := s.db.Resident.Query().Where(resident.FaceEnabled(true), resident.FaceValidToLTE(now), resident.FaceExpirySynced(false)).Limit(5000).All(ctx)
	if err != nil {
		return 0, err
	}
	notices, err := s.db.Notice.Query().Where(notice.ShowUntilLTE(now), notice.ExpirySynced(false)).Limit(5000).All(ctx)
	if err != nil {
		return 0, err
	}
	// Per community: the cards, faces and notices that ran out, and their keys.
	type due struct {
		cards, faces, notices []int
		keys                  []string
	}
	byCommunity := map[int]*due{}
	get := func(cid int) *due {
		if byCommunity[cid] == nil {
			byCommunity[cid] = &due{}
		}
		return byCommunity[cid]
	}
	for _, c := range cards {
		d := get(c.CommunityID)
		d.cards, d.keys = append(d.cards, c.ID), append(d.keys, cardKey(c.Number))
	}
	for _, r := range faces {
		d := get(r.CommunityID)
		d.faces, d.keys = append(d.faces, r.ID), append(d.keys, faceKey(r.ID))
	}
	for _, x := range notices {
		d := get(x.CommunityID)
		d.notices, d.keys = append(d.notices, x.ID), append(d.keys, noticeKey(x.ID))
	}
	passes, err := s.expiredPasses(ctx, now)
	if err != nil {
		return 0, err
	}
	for cid, ids := range passes {
		d := get(cid)
		for _, id := range ids {
			d.keys = append(d.keys, PassKey(id))
		}
	}
	n := 0
	for cid, d := range byCommunity {
		err := s.change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
			if err := tx.Card.Update().Where(card.IDIn(d.cards...)).SetExpirySynced(true).Exec(ctx); err != nil {
				return nil, err
			}
			if err := tx.Resident.Update().Where(resident.IDIn(d.faces...)).SetFaceExpirySynced(true).Exec(ctx); err != nil {
				return nil, err
			}
			if err := tx.Notice.Update().Where(notice.IDIn(d.notices...)).SetExpirySynced(true).Exec(ctx); err != nil {
				return nil, err
			}
			if err := markPassesExpired(ctx, tx, passes[cid]); err != nil {
				return nil, err
			}
			return d.keys, nil
		})
		if err != nil {
			return n, fmt.Errorf("access: expire in community %d: %w", cid, err)
		}
		n += len(d.keys)
	}
	return n, nil
}
