package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/sim"
	"linli/internal/storetest"
)

// BenchmarkPassSync measures how long a new visitor pass takes to reach
// the door stations of its unit: the resident creates it through the app
// API, and the time runs until all three simulated devices (two door
// stations of the unit and a wall station, connected to the embedded MQTT
// broker and syncing on its nudges) hold it. It reports p50 and p99.
//
//	go test -run '^$' -bench PassSync -benchtime 200x ./internal/app/
func BenchmarkPassSync(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			s := apptest.Start(b, backend)
			op := s.Operator()
			a := s.NewCommunity(b, op, "通行基准小区", "PY")
			m := a.Manager
			m.Must(200, "PATCH", a.Path(""), map[string]any{"wall_station_count": 1})
			m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "甲", "role": "业主", "phone": "13911170001"})
			h := appSignInAs(b, s, "13911170001", "")
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			slots := []sim.Slot{{Kind: "door", UnitID: a.UnitID, Index: 1}, {Kind: "door", UnitID: a.UnitID, Index: 2}, {Kind: "wall", Index: 1}}
			ctx, cancel := context.WithCancel(context.Background())
			var devices []*sim.Device
			done := make(chan struct{}, len(slots))
			for i, slot := range slots {
				d := sim.New(sim.Config{Server: s.URL, MQTTAddr: s.App.MQTTAddr().String(), CommunityID: a.ID, Password: "pwPYx9",
					Slot: slot, Serial: fmt.Sprintf("SIM-PY-%d", i), SIPAddr: "off"}, logger)
				if err := d.Bind(ctx); err != nil {
					b.Fatal(err)
				}
				if err := d.Connect(ctx); err != nil {
					b.Fatal(err)
				}
				go func() { _ = d.Run(ctx, time.Hour); done <- struct{}{} }()
				devices = append(devices, d)
			}
			defer func() {
				cancel()
				for range slots {
					<-done
				}
			}()
			app := s.Client("app")
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				var p struct{ ID int }
				app.DoHeaders("POST", "/app/v1/passes", h, map[string]any{"room_id": a.RoomID, "visitor_name": "基准访客", "kind": "delivery"}).JSON(b, &p)
				key := fmt.Sprintf("pass:%d", p.ID)
				for _, d := range devices {
					for !slices.Contains(d.Status().Whitelist, key) {
						if time.Since(start) > 10*time.Second {
							b.Fatalf("%s did not reach %s in 10 s", key, d.Label())
						}
						time.Sleep(200 * time.Microsecond)
					}
				}
				lat = append(lat, time.Since(start))
				b.StopTimer()
				// At most 50 passes of a room are open at once.
				app.DoHeaders("DELETE", fmt.Sprintf("/app/v1/passes/%d", p.ID), h, nil)
				b.StartTimer()
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
