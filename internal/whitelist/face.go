package whitelist

import (
	"context"
	"strconv"
	"strings"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/resident"
	"linli/internal/store"
)

// faces is the source of residents' faces: a resident whose face is
// enabled, with a photo, within its validity and their own access, is on
// the whitelists of their unit's devices and of community-wide ones.
type faces struct{ db *store.Store }

func (faces) Prefix() string { return "face:" }

func (f faces) Entries(ctx context.Context, loc Location, now time.Time, keys []string) ([]Entry, error) {
	q := f.db.Resident.Query().Where(resident.CommunityID(loc.CommunityID))
	if keys == nil {
		q.Where(resident.FaceEnabled(true), resident.FacePhotoNEQ(""))
		if loc.UnitID != 0 {
			q.Where(resident.UnitID(loc.UnitID))
		}
	} else {
		q.Where(resident.IDIn(faceIDs(keys)...))
	}
	rs, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, r := range rs {
		if faceOpens(r, loc, now) {
			out = append(out, faceEntry(r))
		}
	}
	return out, nil
}

// Targets returns the faces among keys of community cid, each held where
// it opens at now.
func (f faces) Targets(ctx context.Context, cid int, now time.Time, keys []string) ([]Target, error) {
	rs, err := f.db.Resident.Query().Where(resident.CommunityID(cid), resident.IDIn(faceIDs(keys)...)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Target, len(rs))
	for i, r := range rs {
		out[i] = Target{Entry: faceEntry(r), Holds: func(loc Location) bool { return faceOpens(r, loc, now) }}
	}
	return out, nil
}

// faceIDs are the residents of face keys.
func faceIDs(keys []string) []int {
	ids := make([]int, len(keys))
	for i, k := range keys {
		ids[i], _ = strconv.Atoi(strings.TrimPrefix(k, "face:"))
	}
	return ids
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

func faceEntry(r *ent.Resident) Entry {
	until := r.FaceValidTo
	if r.AccessUntil != nil && (until == nil || until.After(*r.AccessUntil)) {
		until = r.AccessUntil // the resident's own access ends then (租户有效期至)
	}
	return Entry{Key: FaceKey(r.ID), Kind: "face", ResidentID: r.ID, ValidFrom: r.FaceValidFrom, ValidUntil: until}
}
