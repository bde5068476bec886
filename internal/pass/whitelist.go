package pass

import (
	"context"
	"strconv"
	"strings"
	"time"

	"linli/internal/ent"
	entpass "linli/internal/ent/pass"
	"linli/internal/store"
	"linli/internal/whitelist"
)

// QRText is the text a pass's QR code encodes for token.
func QRText(token string) string { return "LINLI-PASS:" + token }

// Usable reports whether pass p may still open a door at now, leaving its
// window's start aside (a pass that has not started is on whitelists
// already; the device waits for valid_from): not revoked, not expired and
// not used up.
func Usable(p *ent.Pass, now time.Time) bool {
	return p.RevokedAt == nil && now.Before(p.ValidTo) && (p.MaxUses == 0 || p.Uses < p.MaxUses)
}

// source is the passes' part of whitelists.
type source struct{ db *store.Store }

// NewSource returns the whitelist source of the passes in db.
func NewSource(db *store.Store) whitelist.Source { return source{db: db} }

func (source) Prefix() string { return "pass:" }

// Entries returns the pass entries loc holds at now, among keys when given.
func (s source) Entries(ctx context.Context, loc whitelist.Location, now time.Time, keys []string) ([]whitelist.Entry, error) {
	if loc.RoomID != 0 {
		return nil, nil
	}
	q := s.db.Pass.Query().Where(entpass.CommunityID(loc.CommunityID), entpass.RevokedAtIsNil(), entpass.ValidToGT(now))
	if keys != nil {
		q.Where(entpass.IDIn(passIDs(keys)...))
	}
	if loc.UnitID != 0 {
		q.Where(entpass.Or(entpass.UnitID(loc.UnitID), entpass.DoorID(loc.DeviceID)))
	}
	ps, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	var out []whitelist.Entry
	for _, p := range ps {
		if opens(p, loc, now) {
			out = append(out, entry(p))
		}
	}
	return out, nil
}

// Targets returns the passes among keys of community cid that can still
// open, each held where it opens at now.
func (s source) Targets(ctx context.Context, cid int, now time.Time, keys []string) ([]whitelist.Target, error) {
	ps, err := s.db.Pass.Query().Where(entpass.CommunityID(cid), entpass.IDIn(passIDs(keys)...), entpass.RevokedAtIsNil(), entpass.ValidToGT(now)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]whitelist.Target, len(ps))
	for i, p := range ps {
		out[i] = whitelist.Target{Entry: entry(p), Holds: func(loc whitelist.Location) bool { return opens(p, loc, now) }}
	}
	return out, nil
}

// passIDs are the passes of pass keys.
func passIDs(keys []string) []int {
	ids := make([]int, len(keys))
	for i, k := range keys {
		ids[i], _ = strconv.Atoi(strings.TrimPrefix(k, "pass:"))
	}
	return ids
}

// opens reports whether pass p belongs on the whitelist of loc at now:
// the door stations of the pass's unit and the community's wall stations,
// or only the one door of a delivery code for one door. Indoor monitors
// and management stations never hold passes.
func opens(p *ent.Pass, loc whitelist.Location, now time.Time) bool {
	if !Usable(p, now) || loc.RoomID != 0 {
		return false
	}
	if p.DoorID != nil {
		return loc.DeviceID == *p.DoorID
	}
	return loc.UnitID == p.UnitID || loc.UnitID == 0 && loc.Screen
}

func entry(p *ent.Pass) whitelist.Entry {
	from, to := p.ValidFrom, p.ValidTo
	return whitelist.Entry{Key: whitelist.PassKey(p.ID), Kind: "pass", ValidFrom: &from, ValidUntil: &to, PassEntry: whitelist.PassEntry{
		PassID: p.ID, PIN: p.Pin, QR: QRText(p.QrToken), MaxUses: p.MaxUses, Uses: p.Uses, Visitor: p.VisitorName}}
}

// changed records, inside tx, that passes ids of community cid changed
// (created, used, revoked), so that devices fetch their current state: a
// used-up or revoked pass leaves every whitelist. Devices are nudged once
// tx commits.
func (s *Service) changed(ctx context.Context, tx *ent.Tx, cid int, ids ...int) error {
	return s.whitelist.ChangeIn(ctx, tx, cid, func(*ent.Tx) ([]string, error) {
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = whitelist.PassKey(id)
		}
		return keys, nil
	})
}
