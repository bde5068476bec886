package app_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/blob/blobtest"
	"linli/internal/config"
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

// BenchmarkEventIngest measures event uploads: 1,000 bound devices post
// unlock events with a 50 KB snapshot for 10 seconds over real HTTP, either
// one after another as fast as the server takes them ("flat-out": the
// sustained rate), or each one event every 4 seconds ("paced": 250 events/s
// offered, the latency a device sees on a busy estate). It reports events
// per second and the p50/p99 latency of one upload.
//
//	go test -run '^$' -bench EventIngest -benchtime 1x -timeout 30m ./internal/app/
func BenchmarkEventIngest(b *testing.B) {
	for _, backend := range storetest.Backends() {
		for _, pace := range []struct {
			name  string
			every time.Duration
		}{{"flat-out", 0}, {"paced", 4 * time.Second}} {
			b.Run(backend.Name+"/"+pace.name, func(b *testing.B) {
				ingest(b, config.Config{DataDir: b.TempDir(), DBURL: backend.URL(b), AdminAccount: "admin",
					AdminPassword: apptest.AdminInitial, MQTTAddr: "off"}, pace.every)
			})
		}
	}
}

// BenchmarkEventIngestFiles compares where the snapshots go, flat-out as
// in BenchmarkEventIngest on the last backend (PostgreSQL when
// TEST_POSTGRES_URL is set): the data directory ("local") or a bucket of a
// versitygw on this machine ("s3", LINLI_BLOB_URL).
//
//	go test -run '^$' -bench EventIngestFiles -benchtime 1x -timeout 30m ./internal/app/
func BenchmarkEventIngestFiles(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		backends := storetest.Backends()
		ingest(b, config.Config{DataDir: b.TempDir(), DBURL: backends[len(backends)-1].URL(b), AdminAccount: "admin",
			AdminPassword: apptest.AdminInitial, MQTTAddr: "off"}, 0)
	})
	b.Run("s3", func(b *testing.B) {
		ingest(b, s3Config(b, blobtest.Start(b), ""), 0)
	})
}

func ingest(b *testing.B, cfg config.Config, every time.Duration) {
	const devices, duration = 1000, 10 * time.Second
	snap := noiseJPEG(50 << 10)
	s := apptest.StartWith(b, cfg)
	op := s.Operator()
	a := s.NewCommunity(b, op, "上报小区", "IN")
	a.Manager.Must(204, "DELETE", a.Path(fmt.Sprintf("/rooms/%d", a.RoomID)), nil)
	a.Manager.Must(201, "POST", a.Path(fmt.Sprintf("/units/%d/rooms/batch", a.UnitID)), map[string]any{"floors": 50, "rooms_per_floor": 20})
	var rooms struct{ Items []struct{ ID int } }
	tokens := make([]string, 0, devices)
	for page := 1; len(tokens) < devices; page++ {
		a.Manager.Must(200, "GET", a.Path(fmt.Sprintf("/rooms?unit_id=%d&page=%d&size=100", a.UnitID, page)), nil).JSON(b, &rooms)
		for _, r := range rooms.Items {
			var cr credentials
			s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwINx9",
				"serial": fmt.Sprintf("IN-%d", r.ID), "slot": map[string]any{"kind": "indoor", "room_id": r.ID}}).JSON(b, &cr)
			tokens = append(tokens, cr.Token)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: devices}}
	var (
		mu     sync.Mutex
		lat    []time.Duration
		failed atomic.Int64
		wg     sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for i, tok := range tokens[:devices] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 64)
			if every > 0 {
				// Spread the devices over the interval.
				time.Sleep(time.Duration(i) * every / devices)
			}
			for n := 0; time.Since(start) < duration; n++ {
				next := time.Now().Add(every)
				ct, body := eventForm(map[string]string{"event_id": fmt.Sprintf("e-%d-%d", i, n), "type": "unlock", "unlock_type": "card",
					"card": "0A0B0C0D", "time": time.Now().Format(time.RFC3339)}, snap)
				req, _ := http.NewRequest("POST", s.URL+"/device/v1/events", bytes.NewReader(body))
				req.Header.Set("Content-Type", ct)
				req.Header.Set("Authorization", "Bearer "+tok)
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil || res.StatusCode != 201 {
					failed.Add(1)
				}
				if res != nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				mine = append(mine, time.Since(t0))
				time.Sleep(time.Until(next))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(failed.Load()), "failed")
}

// noiseJPEG returns a JPEG of about size bytes (noise compresses badly).
func noiseJPEG(size int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	for side := 64; ; side += 8 {
		img := image.NewGray(image.Rect(0, 0, side, side))
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.IntN(256))
		}
		var buf bytes.Buffer
		_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75})
		if buf.Len() >= size {
			return buf.Bytes()
		}
	}
}
