package whitelist_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"linli/internal/actor"
	"linli/internal/card"
	"linli/internal/community"
	devicepkg "linli/internal/device"
	"linli/internal/ent"
	entcard "linli/internal/ent/card"
	"linli/internal/housing"
	"linli/internal/storetest"
	"linli/internal/whitelist"
)

// BenchmarkSync50k measures the sync of a door station in a community with
// 50,000 cards: the full snapshot a new device gets (time and size) and the
// delta after one change.
//
//	go test ./internal/whitelist -run '^$' -bench Sync50k -benchtime 5x
func BenchmarkSync50k(b *testing.B) {
	const cards = 50_000
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			db := storetest.Open(b, be)
			ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
			wl, cardSvc, _ := newServices(db, nil)
			name, code, addr := "五万卡小区", "440306", "x"
			c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
			if err != nil {
				b.Fatal(err)
			}
			hs := housing.NewService(db, devicepkg.NewService(db, nil, nil, slog.New(slog.DiscardHandler)))
			one := 1
			area, _ := hs.CreateArea(ctx, c.ID, housing.AreaInput{Number: &one})
			bld, _ := hs.CreateBuilding(ctx, c.ID, housing.BuildingInput{AreaID: area.ID, Number: &one})
			un, err := hs.CreateUnit(ctx, c.ID, housing.UnitInput{BuildingID: bld.ID, Number: &one, DeviceCount: &one})
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < cards; i += 1000 {
				bulk := make([]*ent.CardCreate, 1000)
				for j := range bulk {
					bulk[j] = db.Card.Create().SetCommunityID(c.ID).SetNumber(fmt.Sprintf("%08X", 0x10000000+i+j)).
						SetType(entcard.TypeNormal).SetUnitIds([]int{un.ID})
				}
				if err := db.Card.CreateBulk(bulk...).Exec(ctx); err != nil {
					b.Fatal(err)
				}
			}
			loc := whitelist.Location{CommunityID: c.ID, UnitID: un.ID}
			size := func(d *whitelist.Delta) (raw, gz int) {
				data, _ := json.Marshal(d)
				var z bytes.Buffer
				w := gzip.NewWriter(&z)
				_, _ = w.Write(data)
				_ = w.Close()
				return len(data), z.Len()
			}

			b.Run("full", func(b *testing.B) {
				var d *whitelist.Delta
				for b.Loop() {
					if d, err = wl.Sync(ctx, loc, 0); err != nil {
						b.Fatal(err)
					}
					if _, err := json.Marshal(d); err != nil {
						b.Fatal(err)
					}
				}
				raw, gz := size(d)
				if len(d.Upserts) != cards {
					b.Fatalf("snapshot has %d entries, want %d", len(d.Upserts), cards)
				}
				b.ReportMetric(float64(raw), "bytes")
				b.ReportMetric(float64(gz), "gzip-bytes")
			})
			b.Run("delta", func(b *testing.B) {
				for _, n := range []string{"5A5A5A5A", "5B5B5B5B"} {
					if _, err := cardSvc.IssueSuper(ctx, c.ID, card.CardInput{Number: n}); err != nil {
						b.Fatal(err)
					}
				}
				cur, _ := wl.Sync(ctx, loc, 0)
				var d *whitelist.Delta
				for b.Loop() {
					if d, err = wl.Sync(ctx, loc, cur.Version-1); err != nil {
						b.Fatal(err)
					}
				}
				if d.Full || len(d.Upserts) != 1 {
					b.Fatalf("delta after one change: full=%v, %d upserts", d.Full, len(d.Upserts))
				}
				raw, _ := size(d)
				b.ReportMetric(float64(raw), "bytes")
			})
		})
	}
}
