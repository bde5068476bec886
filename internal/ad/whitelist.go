package ad

import (
	"context"
	"fmt"
	"slices"
	"time"

	entad "linli/internal/ent/ad"
	"linli/internal/ent/adtarget"
	"linli/internal/store"
	"linli/internal/whitelist"
)

// source is the ads' part of whitelists.
type source struct{ db *store.Store }

// NewSource returns the whitelist source of the ads in db.
func NewSource(db *store.Store) whitelist.Source { return source{db: db} }

func (source) Prefix() string { return "ad:" }

// Entries returns every ad a device at loc shows: a change of one slot or
// of the chosen devices is answered with the ads as they are now.
func (s source) Entries(ctx context.Context, loc whitelist.Location, _ time.Time, _ []string) ([]whitelist.Entry, error) {
	return entries(ctx, s.db, loc)
}

// entries returns the ad entries a device at loc shows.
func entries(ctx context.Context, db *store.Store, loc whitelist.Location) ([]whitelist.Entry, error) {
	if !loc.Screen || loc.Orientation == "" {
		return nil, nil
	}
	targets, err := db.AdTarget.Query().Where(adtarget.CommunityID(loc.CommunityID),
		adtarget.OrientationEQ(adtarget.Orientation(loc.Orientation))).Select(adtarget.FieldDeviceID).Ints(ctx)
	if err != nil {
		return nil, err
	}
	if len(targets) > 0 && !slices.Contains(targets, loc.DeviceID) {
		return nil, nil
	}
	ads, err := db.Ad.Query().Where(entad.CommunityID(loc.CommunityID), entad.OrientationEQ(entad.Orientation(loc.Orientation))).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]whitelist.Entry, len(ads))
	for i, a := range ads {
		out[i] = whitelist.Entry{Key: whitelist.AdKey(string(a.Orientation), a.Slot), Kind: "ad", Slot: a.Slot, URL: fmt.Sprintf("/device/v1/ads/%d", a.ID),
			SHA256: a.Sha256, Width: a.Width, Height: a.Height}
	}
	return out, nil
}
