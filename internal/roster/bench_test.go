package roster_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/community"
	"linli/internal/device"
	"linli/internal/ent"
	"linli/internal/ent/room"
	"linli/internal/housing"
	"linli/internal/resident"
	"linli/internal/roster"
	"linli/internal/store"
	"linli/internal/storetest"
	"linli/internal/xlsx"
)

// The size the issue names: one community, 2,000 units, 100,000 residents.
const (
	benchUnits        = 2000
	benchPerUnit      = 50 // rooms, one resident each
	benchResidents    = benchUnits * benchPerUnit
	benchFloors       = 10
	benchRoomsPerFlor = 5
)

// peak samples the heap while fn runs and returns the largest size of live
// and not yet collected objects.
func peak(fn func()) uint64 {
	var (
		mu   sync.Mutex
		top  uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	// runtime/metrics reads without stopping the world, so sampling does
	// not slow down what is measured.
	sampleBuf := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	sample := func() {
		mu.Lock()
		metrics.Read(sampleBuf)
		top = max(top, sampleBuf[0].Value.Uint64())
		mu.Unlock()
	}
	runtime.GC()
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	fn()
	sample()
	close(done)
	wg.Wait()
	return top
}

// setup makes the community with 2,000 units of 50 rooms and returns its id.
func setup(b *testing.B, db *store.Store) int {
	b.Helper()
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
	name, code, addr := "基准小区", "440306", "x"
	c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
	if err != nil {
		b.Fatal(err)
	}
	hs := housing.NewService(db, device.NewService(db, nil, nil, slog.New(slog.DiscardHandler)))
	one := 1
	area, err := hs.CreateArea(ctx, c.ID, housing.AreaInput{Number: &one})
	if err != nil {
		b.Fatal(err)
	}
	for bn := 1; bn <= benchUnits/20; bn++ {
		bld, err := hs.CreateBuilding(ctx, c.ID, housing.BuildingInput{AreaID: area.ID, Number: &bn})
		if err != nil {
			b.Fatal(err)
		}
		for un := 1; un <= 20; un++ {
			dc := 2
			u, err := hs.CreateUnit(ctx, c.ID, housing.UnitInput{BuildingID: bld.ID, Number: &un, DeviceCount: &dc})
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := hs.BatchRooms(ctx, c.ID, u.ID, benchFloors, benchRoomsPerFlor); err != nil {
				b.Fatal(err)
			}
		}
	}
	return c.ID
}

// filledWorkbook fills the community's template with one resident per room.
func filledWorkbook(b *testing.B, svc *roster.Service, ctx context.Context, cid int) []byte {
	b.Helper()
	var tpl bytes.Buffer
	if err := svc.WriteTemplate(ctx, cid, false, &tpl); err != nil {
		b.Fatal(err)
	}
	src, err := xlsx.Open(tpl.Bytes(), xlsx.Limits{Unzipped: roster.MaxUnzippedBytes, SheetXML: roster.MaxSheetXMLBytes})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	var out bytes.Buffer
	w := xlsx.NewWriter(&out)
	n := 0
	for _, sheet := range src.Sheets() {
		// The first two rows name the unit: its title and its number.
		it, err := src.Rows(sheet)
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Sheet(sheet); err != nil {
			b.Fatal(err)
		}
		for line := 1; line <= 2 && it.Next(); line++ {
			cells, _ := it.Columns()
			a := ""
			if len(cells) > 0 {
				a = cells[0]
			}
			w.Add(xlsx.Cell{V: a})
		}
		_ = it.Close()
		w.Add(xlsx.Cell{V: "房号"}, xlsx.Cell{V: "姓名"}, xlsx.Cell{V: "手机号码"})
		for f := 1; f <= benchFloors; f++ {
			for r := 1; r <= benchRoomsPerFlor; r++ {
				n++
				w.Add(xlsx.Cell{V: housing.RoomNo(f, r)}, xlsx.Cell{V: fmt.Sprintf("业主%06d", n)}, xlsx.Cell{V: fmt.Sprintf("13%09d", n)})
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkImport100k imports 100,000 residents in 2,000 unit sheets and
// compares with the workbook reader alone reading every row of the same file.
//
//	go test -run '^$' -bench Import100k -benchtime 1x -timeout 30m ./internal/roster/
func BenchmarkImport100k(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			db := storetest.Open(b, backend)
			cid := setup(b, db)
			ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
			rs := resident.NewService(db, nil, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			svc := roster.NewService(db, rs, slog.New(slog.NewTextHandler(io.Discard, nil)))
			data := filledWorkbook(b, svc, ctx, cid)
			b.Logf("workbook: %.1f MB, %d sheets", float64(len(data))/1e6, benchUnits)

			var readTime time.Duration
			readPeak := peak(func() {
				start := time.Now()
				f, err := xlsx.Open(data, xlsx.Limits{Unzipped: roster.MaxUnzippedBytes, SheetXML: roster.MaxSheetXMLBytes})
				if err != nil {
					b.Fatal(err)
				}
				rows := 0
				for _, s := range f.Sheets() {
					it, _ := f.Rows(s)
					for it.Next() {
						_, _ = it.Columns()
						rows++
					}
					_ = it.Close()
				}
				f.Close()
				readTime = time.Since(start)
			})

			b.ResetTimer()
			var res roster.Result
			var importTime time.Duration
			importPeak := peak(func() {
				start := time.Now()
				var err error
				res, err = svc.Import(ctx, cid, data)
				if err != nil {
					b.Fatal(err)
				}
				importTime = time.Since(start)
			})
			b.StopTimer()
			if res.Created != benchResidents {
				b.Fatalf("imported %+v", res)
			}
			b.ReportMetric(importTime.Seconds(), "import-s")
			b.ReportMetric(float64(importPeak)/(1<<20), "import-peak-MiB")
			b.ReportMetric(readTime.Seconds(), "read-s")
			b.ReportMetric(float64(readPeak)/(1<<20), "read-peak-MiB")
			b.ReportMetric(importTime.Seconds()/readTime.Seconds(), "overhead-x")

			// Export of the same 100,000 residents.
			var exportTime time.Duration
			var size int
			exportPeak := peak(func() {
				start := time.Now()
				var out bytes.Buffer
				if err := svc.WriteTemplate(ctx, cid, true, &out); err != nil {
					b.Fatal(err)
				}
				size = out.Len()
				exportTime = time.Since(start)
			})
			b.ReportMetric(exportTime.Seconds(), "export-s")
			b.ReportMetric(float64(exportPeak)/(1<<20), "export-peak-MiB")
			b.Logf("export: %.1f MB", float64(size)/1e6)

			// Resident list over 100,000: a unit filter and a name/phone search.
			units, _ := db.Unit.Query().IDs(ctx)
			reportListLatency(b, db, ctx, cid, units)
		})
	}
}

// BenchmarkResidentSearch100k measures the resident list over the same
// 100,000 residents as BenchmarkImport100k without importing them: the rows
// are written in bulk, as the import writes them, then the list is read with a unit filter and with
// 姓名或手机号 searches of six and of two characters.
//
//	go test -run '^$' -bench ResidentSearch100k -benchtime 1x -timeout 30m ./internal/roster/
func BenchmarkResidentSearch100k(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			db := storetest.Open(b, backend)
			cid := setup(b, db)
			ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
			units, err := db.Unit.Query().WithBuilding().All(ctx)
			if err != nil {
				b.Fatal(err)
			}
			unitIDs := make([]int, len(units))
			rows := make([]store.NewResident, 0, benchResidents)
			for i, u := range units {
				unitIDs[i] = u.ID
				rooms, err := u.QueryRooms().Order(ent.Asc(room.FieldID)).All(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range rooms {
					n := len(rows) + 1
					rows = append(rows, store.NewResident{CommunityID: cid, RoomID: r.ID, AreaID: u.Edges.Building.AreaID,
						BuildingID: u.BuildingID, UnitID: u.ID, Name: fmt.Sprintf("业主%06d", n), Phone: fmt.Sprintf("13%09d", n), Role: "owner"})
				}
			}
			err = db.WriteResidents(ctx, func(w store.ResidentWriter) error {
				for batch := range slices.Chunk(rows, 1000) {
					if err := w.Insert(ctx, batch); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if len(rows) != benchResidents {
				b.Fatalf("wrote %d residents", len(rows))
			}
			b.ResetTimer()
			reportListLatency(b, db, ctx, cid, unitIDs)
		})
	}
}

// reportListLatency reports p50 and p99 of 300 reads of the first page of
// the resident list: by unit, and searching for six digits of a name and
// phone and for two.
func reportListLatency(b *testing.B, db *store.Store, ctx context.Context, cid int, units []int) {
	b.Helper()
	rs := resident.NewService(db, nil, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, tc := range []struct {
		name string
		f    func(i int) resident.Filter
	}{
		{"unit", func(i int) resident.Filter {
			return resident.Filter{Cascade: housing.Cascade{UnitID: units[i%len(units)]}}
		}},
		{"search", func(i int) resident.Filter {
			return resident.Filter{Query: fmt.Sprintf("%06d", (i*7919)%benchResidents)}
		}},
		{"search2", func(i int) resident.Filter {
			return resident.Filter{Query: fmt.Sprintf("%02d", i%100)}
		}},
	} {
		lat := make([]time.Duration, 0, 300)
		for i := range 300 {
			start := time.Now()
			if _, _, err := rs.List(ctx, cid, tc.f(i), 0, 10); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "list-"+tc.name+"-p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "list-"+tc.name+"-p99-ms")
	}
}
