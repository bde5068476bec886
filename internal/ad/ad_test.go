package ad

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"linli/internal/actor"
	"linli/internal/blob"
	"linli/internal/community"
	"linli/internal/ent"
	"linli/internal/imaging"
	"linli/internal/store"
	"linli/internal/storetest"
	"linli/internal/whitelist"
)

// TestAdPixelFloodBounded: a picture whose header claims 64,000 × 64,000
// pixels is refused from its header, allocating next to nothing, and
// nothing is stored.
func TestAdPixelFloodBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		files, err := blob.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		wl := whitelist.NewService(db, slog.New(slog.NewTextHandler(io.Discard, nil)), []whitelist.Source{NewSource(db)})
		svc := NewService(db, wl, files, imaging.NewGate(imaging.DefaultBudget, imaging.DefaultDecodes, imaging.DefaultWait), nil)
		name, code, addr := "广告小区", "440306", "x"
		c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_ = jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 16, 16)), nil)
		flood := b.Bytes()
		for i := 0; i+8 < len(flood); i++ {
			if flood[i] == 0xFF && flood[i+1] == 0xC0 {
				flood[i+5], flood[i+6], flood[i+7], flood[i+8] = 0xFA, 0x00, 0xFA, 0x00
				break
			}
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err = svc.PutAd(ctx, c.ID, "landscape", 1, "flood.jpg", bytes.NewReader(flood), true)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "超过上限") {
			t.Fatalf("pixel flood: %v", err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
			t.Errorf("refusing the pixel flood allocated %d MiB", grew>>20)
		}
		screens, err := svc.Ads(ctx, c.ID)
		if err != nil || screens[0].Slots[0].HasImage {
			t.Errorf("after the refusal: %+v %v", screens, err)
		}
	})
}

// TestFailedAdReplaceKeepsTheShownPicture: replacing a slot's picture with
// the same picture stores the same file; when that replacement fails, the
// picture the slot still shows stays.
func TestFailedAdReplaceKeepsTheShownPicture(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		files, err := blob.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		wl := whitelist.NewService(db, slog.New(slog.NewTextHandler(io.Discard, nil)), []whitelist.Source{NewSource(db)})
		svc := NewService(db, wl, files, imaging.NewGate(imaging.DefaultBudget, imaging.DefaultDecodes, imaging.DefaultWait), nil)
		name, code, addr := "替换小区", "440306", "x"
		c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_ = jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 160, 100)), nil)
		if _, err := svc.PutAd(ctx, c.ID, "landscape", 1, "a.jpg", bytes.NewReader(b.Bytes()), false); err != nil {
			t.Fatal(err)
		}
		db.Ad.Use(func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(context.Context, ent.Mutation) (ent.Value, error) {
				return nil, errors.New("database is locked")
			})
		})
		if _, err := svc.PutAd(ctx, c.ID, "landscape", 1, "a.jpg", bytes.NewReader(b.Bytes()), false); err == nil {
			t.Fatal("the failing replacement reported success")
		}
		if _, err := svc.AdPicture(ctx, c.ID, "landscape", 1); err != nil {
			t.Fatalf("the slot lost its picture: %v", err)
		}
	})
}
