package app_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/storetest"
)

// BenchmarkListRooms measures listing the rooms of a community with 10,000
// rooms, a page at a time (size 10, a random page), through the HTTP API with
// a signed-in manager. It reports p50 and p99 latency.
//
//	go test -run '^$' -bench ListRooms -benchtime 2000x ./internal/app/
func BenchmarkListRooms(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			s := apptest.Start(b, backend)
			op := s.Operator()
			a := s.NewCommunity(b, op, "基准小区", "BM")
			m := a.Manager
			m.Must(204, "DELETE", a.Path(fmt.Sprintf("/rooms/%d", a.RoomID)), nil)
			// 10 units × 50 floors × 20 rooms = 10,000 rooms.
			for u := 1; u <= 10; u++ {
				var unit struct{ ID int }
				if u == 1 {
					unit.ID = a.UnitID
				} else {
					m.Must(201, "POST", a.Path("/units"), map[string]any{"building_id": a.BuildingID, "number": u, "device_count": 2}).JSON(b, &unit)
				}
				m.Must(201, "POST", a.Path(fmt.Sprintf("/units/%d/rooms/batch", unit.ID)), map[string]any{"floors": 50, "rooms_per_floor": 20})
			}
			var first struct{ Total int }
			m.Must(200, "GET", a.Path("/rooms"), nil).JSON(b, &first)
			if first.Total != 10000 {
				b.Fatalf("community has %d rooms, want 10000", first.Total)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				page := 1 + rng.IntN(1000)
				start := time.Now()
				m.Must(200, "GET", a.Path(fmt.Sprintf("/rooms?page=%d&size=10", page)), nil)
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
