package record

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"linli/internal/actor"
	"linli/internal/blob"
	"linli/internal/community"
	"linli/internal/storetest"
)

// BenchmarkSweepSnapshots measures the orphan sweep of snapshots: 20,000
// files, half of them referred to by some of 1,000,000 records, half
// orphans, all older than the grace period. It reports the time per file and
// the bytes allocated during one sweep.
//
//	go test ./internal/record -run '^$' -bench SweepSnapshots -benchtime 1x -timeout 30m
func BenchmarkSweepSnapshots(b *testing.B) {
	const records, files = 1_000_000, 20_000
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			db := storetest.Open(b, be)
			ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
			name, code, addr := "清理小区", "440306", "x"
			c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
			if err != nil {
				b.Fatal(err)
			}
			q := fmt.Sprintf(`WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM g WHERE x < %d)
INSERT INTO events (community_id, device_id, event_id, kind, unlock_type, card, resident_name, target, device_label,
  occurred_at, received_at, snapshot_key, content_hash)
SELECT %d, 1 + x %% 100, 'e' || x, 'unlock', 'card', '', '', '', '门口机', '2026-05-01 00:00:00+00:00', '2026-05-01 00:00:00+00:00',
  'snapshots/%d/202605/' || (x %% 100) || '-' || x || '.jpg', 'h'
FROM g`, records, c.ID, c.ID)
			if db.Dialect == dialect.Postgres {
				q = fmt.Sprintf(`INSERT INTO events (community_id, device_id, event_id, kind, unlock_type, card, resident_name, target, device_label,
  occurred_at, received_at, snapshot_key, content_hash)
SELECT %d, 1 + x %% 100, 'e' || x, 'unlock', 'card', '', '', '', '门口机', timestamptz '2026-05-01 00:00:00+00',
  timestamptz '2026-05-01 00:00:00+00', 'snapshots/%d/202605/' || (x %% 100) || '-' || x || '.jpg', 'h'
FROM generate_series(1, %d) AS x`, c.ID, c.ID, records)
			}
			if _, err := db.DB.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
			if db.Dialect == dialect.Postgres {
				_, _ = db.DB.ExecContext(ctx, "ANALYZE events")
			} else {
				_, _ = db.DB.ExecContext(ctx, "ANALYZE")
			}
			root := b.TempDir()
			dir, err := blob.NewDir(root)
			if err != nil {
				b.Fatal(err)
			}
			s := NewService(db, dir, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			old := time.Now().Add(-blob.OrphanGrace - time.Hour)
			plant := func() {
				for i := 1; i <= files; i++ {
					x := i * (records / files) // half have a record...
					if i%2 == 0 {
						x = records + i // ...half do not
					}
					key := fmt.Sprintf("snapshots/%d/202605/%d-%d.jpg", c.ID, x%100, x)
					if err := dir.Put(ctx, key, []byte("jpeg")); err != nil {
						b.Fatal(err)
					}
					_ = os.Chtimes(filepath.Join(root, filepath.FromSlash(key)), old, old)
				}
			}
			for b.Loop() {
				b.StopTimer()
				plant()
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				t0 := time.Now()
				n, err := blob.Sweep(ctx, dir, []blob.Owner{s.StoredFiles()}, time.Now().Add(-blob.OrphanGrace), blob.SweepBatch)
				took := time.Since(t0)
				b.StopTimer()
				runtime.ReadMemStats(&after)
				if err != nil || n != files/2 {
					b.Fatalf("swept %d, %v; want %d", n, err, files/2)
				}
				b.ReportMetric(float64(took.Microseconds())/files, "µs/file")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "MiB-allocated")
				b.StartTimer()
			}
		})
	}
}
