package whitelist_test

import (
	"context"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/card"
	"linli/internal/community"
	"linli/internal/store"
	"linli/internal/storetest"
	"linli/internal/whitelist"
)

// TestSyncAfterPurge checks that a device whose version predates the purged
// change log gets a full snapshot, and one that is current gets a delta.
func TestSyncAfterPurge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		clock := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
		wl, cardSvc, _ := newServices(db, func() time.Time { return clock })
		name, code, addr := "清理小区", "440306", "x"
		c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
		if err != nil {
			t.Fatal(err)
		}
		loc := whitelist.Location{CommunityID: c.ID}
		if _, err := cardSvc.IssueSuper(ctx, c.ID, card.CardInput{Number: "11111111"}); err != nil {
			t.Fatal(err)
		}
		d, err := wl.Sync(ctx, loc, 0)
		if err != nil || !d.Full || len(d.Upserts) != 1 {
			t.Fatalf("first sync: %+v %v", d, err)
		}
		old := d.Version
		if _, err := cardSvc.IssueSuper(ctx, c.ID, card.CardInput{Number: "22222222"}); err != nil {
			t.Fatal(err)
		}
		if d, err := wl.Sync(ctx, loc, old); err != nil || d.Full || len(d.Upserts) != 1 || d.Upserts[0].Card != "22222222" {
			t.Fatalf("delta before purge: %+v %v", d, err)
		}
		// Days pass; the log is purged; a third card is issued.
		clock = clock.Add(48 * time.Hour)
		if err := wl.PurgeChanges(ctx, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := cardSvc.IssueSuper(ctx, c.ID, card.CardInput{Number: "33333333"}); err != nil {
			t.Fatal(err)
		}
		d, err = wl.Sync(ctx, loc, old)
		if err != nil || !d.Full || len(d.Upserts) != 3 {
			t.Fatalf("sync from a purged version: %+v %v", d, err)
		}
		cur := d.Version
		if _, err := cardSvc.IssueSuper(ctx, c.ID, card.CardInput{Number: "44444444"}); err != nil {
			t.Fatal(err)
		}
		if d, err := wl.Sync(ctx, loc, cur); err != nil || d.Full || len(d.Upserts) != 1 {
			t.Fatalf("delta after purge: %+v %v", d, err)
		}
	})
}
