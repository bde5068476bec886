package record

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"linli/internal/actor"
	"linli/internal/community"
	"linli/internal/storetest"
)

// BenchmarkUnlockQuery5M measures 开锁记录 over 5,000,000 records (100
// units, 173 days): one page of 20 with the total, for a random unit and a
// random 7-day range, as the console asks. It reports p50 and p99.
//
//	go test ./internal/record -run '^$' -bench UnlockQuery5M -benchtime 500x -timeout 30m
func BenchmarkUnlockQuery5M(b *testing.B) {
	const records, units = 5_000_000, 100
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			db := storetest.Open(b, be)
			ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
			name, code, addr := "五百万小区", "440306", "x"
			c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
			t0 := time.Now()
			// Generated inside the database: one unlock every 3 seconds,
			// spread over the units.
			q := fmt.Sprintf(`WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM g WHERE x < %d)
INSERT INTO events (community_id, device_id, event_id, kind, unlock_type, card, resident_name, target, device_label,
  area_id, building_id, unit_id, occurred_at, received_at, snapshot_key, content_hash)
SELECT %d, 1 + x %% %d, 'e' || x, 'unlock', 'card', 'CARD' || (x %% 5000), '业主', '', '【五百万小区】-1区-1栋-单元-门口机1',
  1, 1 + x %% 10, 1 + x %% %d, datetime('2026-05-01', '+' || (x*3) || ' seconds') || '+00:00',
  datetime('2026-05-01', '+' || (x*3) || ' seconds') || '+00:00', 'snapshots/x.jpg', 'h'
FROM g`, records, c.ID, units, units)
			if db.Dialect == dialect.Postgres {
				q = fmt.Sprintf(`INSERT INTO events (community_id, device_id, event_id, kind, unlock_type, card, resident_name, target, device_label,
  area_id, building_id, unit_id, occurred_at, received_at, snapshot_key, content_hash)
SELECT %d, 1 + x %% %d, 'e' || x, 'unlock', 'card', 'CARD' || (x %% 5000), '业主', '', '【五百万小区】-1区-1栋-单元-门口机1',
  1, 1 + x %% 10, 1 + x %% %d, timestamptz '2026-05-01 00:00:00+00' + x * interval '3 seconds',
  timestamptz '2026-05-01 00:00:00+00' + x * interval '3 seconds', 'snapshots/x.jpg', 'h'
FROM generate_series(1, %d) AS x`, c.ID, units, units, records)
			}
			if _, err := db.DB.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
			if db.Dialect == dialect.Postgres {
				_, _ = db.DB.ExecContext(ctx, "ANALYZE events")
			} else {
				_, _ = db.DB.ExecContext(ctx, "ANALYZE")
			}
			b.Logf("%d records written in %s", records, time.Since(t0).Round(time.Second))
			s := NewService(db, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			rng := rand.New(rand.NewPCG(5, 6))
			lat := make([]time.Duration, 0, b.N)
			var total int
			b.ResetTimer()
			for b.Loop() {
				from := start.Add(time.Duration(rng.IntN(160*24)) * time.Hour)
				f := Filter{UnitID: 1 + rng.IntN(units), From: from, To: from.Add(7 * 24 * time.Hour)}
				t := time.Now()
				items, n, err := s.List(ctx, c.ID, "unlock", f, 0, 20)
				if err != nil || len(items) != 20 {
					b.Fatalf("%d items, %v", len(items), err)
				}
				lat = append(lat, time.Since(t))
				total += n
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(total/len(lat)), "rows-matched")
		})
	}
}
