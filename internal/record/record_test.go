package record

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/blob"
	"linli/internal/community"
	"linli/internal/device"
	"linli/internal/ent"
	"linli/internal/store"
	"linli/internal/storetest"
)

// TestPurge: records and their snapshots older than the retention period
// are deleted; newer ones stay.
func TestPurge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		dir := t.TempDir()
		files, err := blob.NewDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		s := NewService(db, files, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		name, code, addr := "保留小区", "440306", "x"
		c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_ = jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 32, 32)), nil)
		p := device.Place{CommunityID: c.ID, DeviceID: 1, Label: "【保留小区】-围墙机1"}
		now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		for i, age := range []int{200, 181, 179, 1} {
			s.now = func() time.Time { return now.AddDate(0, 0, -age) }
			r := Report{EventID: string(rune('a' + i)), Kind: "call", Time: now.AddDate(0, 0, -age), Snapshot: b.Bytes()}
			if _, err := s.Ingest(ctx, p, r); err != nil {
				t.Fatal(err)
			}
		}
		s.now = func() time.Time { return now }
		n, err := s.Purge(ctx, 180*24*time.Hour)
		if err != nil || n != 2 {
			t.Fatalf("purged %d, %v; want 2", n, err)
		}
		left, _, _ := s.List(ctx, c.ID, "call", Filter{}, 0, 10)
		if len(left) != 2 {
			t.Errorf("%d records left, want 2", len(left))
		}
		files0 := 0
		_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				files0++
			}
			return nil
		})
		if files0 != 2 {
			t.Errorf("%d snapshot files left, want 2", files0)
		}
	})
}

// TestEachVisitsEveryRecordOnce: an export reads in batches; records that
// share a time across a batch boundary are neither lost nor repeated.
func TestEachVisitsEveryRecordOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		s := NewService(db, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		name, code, addr := "导出小区", "440306", "x"
		c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
		if err != nil {
			t.Fatal(err)
		}
		const n = 2*2000 + 7
		at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		bulk := make([]*ent.EventCreate, n)
		for i := range bulk {
			// Three records to a second, so batches end in the middle of one.
			bulk[i] = db.Event.Create().SetCommunityID(c.ID).SetDeviceID(1).SetEventID(fmt.Sprintf("e%d", i)).
				SetKind("call").SetDeviceLabel("【导出小区】-围墙机1").SetOccurredAt(at.Add(time.Duration(i/3) * time.Second)).
				SetReceivedAt(at).SetContentHash("h")
		}
		for chunk := range slices.Chunk(bulk, 500) {
			if err := db.Event.CreateBulk(chunk...).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[int]bool{}
		var prev *Record
		err = s.Each(ctx, c.ID, "call", Filter{}, func(r Record) error {
			if seen[r.ID] {
				t.Fatalf("record %d visited twice", r.ID)
			}
			seen[r.ID] = true
			if prev != nil && (r.OccurredAt.After(prev.OccurredAt) || r.OccurredAt.Equal(prev.OccurredAt) && r.ID > prev.ID) {
				t.Fatalf("record %d out of order after %d", r.ID, prev.ID)
			}
			prev = &r
			return nil
		})
		if err != nil || len(seen) != n {
			t.Fatalf("visited %d of %d records: %v", len(seen), n, err)
		}
	})
}

// TestFailedIngestKeepsAnotherReportsSnapshot: when two copies of one report
// arrive together and the second fails for another reason than the race
// (a busy database), the photo the first one stored stays with its record.
func TestFailedIngestKeepsAnotherReportsSnapshot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		files, err := blob.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s := NewService(db, files, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		name, code, addr := "并发小区", "440306", "x"
		c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_ = jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 32, 32)), nil)
		p := device.Place{CommunityID: c.ID, DeviceID: 1, Label: "【并发小区】-围墙机1"}
		r := Report{EventID: "same", Kind: "call", Time: time.Now(), Snapshot: b.Bytes()}
		var first Stored
		racing := true
		db.Event.Use(func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(mctx context.Context, m ent.Mutation) (ent.Value, error) {
				if !racing || !m.Op().Is(ent.OpCreate) {
					return next.Mutate(mctx, m)
				}
				// The other copy is stored first; this one then fails.
				racing = false
				var err error
				if first, err = s.Ingest(ctx, p, r); err != nil {
					t.Fatal(err)
				}
				return nil, fmt.Errorf("database is locked")
			})
		})
		if _, err := s.Ingest(ctx, p, r); err == nil {
			t.Fatal("the failing copy reported success")
		}
		if _, err := s.Snapshot(ctx, c.ID, first.ID); err != nil {
			t.Fatalf("the stored record lost its photo: %v", err)
		}
	})
}
