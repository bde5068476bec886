package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/device"
	"linli/internal/ent"
	entdevice "linli/internal/ent/device"
	"linli/internal/mqtt"
	"linli/internal/storetest"
)

// resyncDevices is the fleet of BenchmarkPresenceResync.
const resyncDevices = 10000

// BenchmarkPresenceResync measures the presence check after a lost broker
// session with 10,000 bound devices 在线 in the database, none of them
// connected to the external Mosquitto: the status command to every one of
// them, then the update that shows them all 离线. It reports the time
// without the grace window (1 s here). Run with -benchtime=1x.
func BenchmarkPresenceResync(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			broker := apptest.Mosquitto(b)
			s := apptest.StartWith(b, config.Config{DataDir: b.TempDir(), DBURL: be.URL(b), AdminAccount: "admin", AdminPassword: apptest.AdminInitial,
				MQTTAddr: "off", SIPAddr: "off", MQTTURL: broker.URL, DataKey: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="})
			a := s.NewCommunity(b, s.Operator(), "压测小区", "RP")
			db := s.App.Store()
			sys := actor.AsSystem(context.Background())
			heard := time.Now().Add(-time.Hour)
			creates := make([]*ent.DeviceCreate, resyncDevices)
			for i := range creates {
				creates[i] = db.Device.Create().SetCommunityID(a.ID).SetKind("wall").SetIndex(i + 1).SetSlot(fmt.Sprintf("wall::%d", i+1)).
					SetSerial(fmt.Sprintf("RESYNC-%05d", i)).SetBoundAt(heard).SetLastSeen(heard).SetOnline(true).
					SetTokenHash(fmt.Sprintf("resync-token-%d", i)).SetMqttPasswordHash("x").SetSipPasswordSealed([]byte{0})
			}
			for chunk := range slices.Chunk(creates, 500) {
				if err := db.Device.CreateBulk(chunk...).Exec(sys); err != nil {
					b.Fatal(err)
				}
			}
			// A connection of its own to the broker, as the server's is, and
			// a device service that publishes through it.
			ext, err := mqtt.NewExternal(broker.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			const grace = time.Second
			// The resync's own log, written only while it runs.
			var logs bytes.Buffer
			devices := device.NewService(db, nil, ext, slog.New(slog.NewTextHandler(&logs, nil)), device.WithPresenceGrace(grace))
			if err := ext.Connect(context.Background(), devices, devices); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = ext.Close() })
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				if err := db.Device.Update().Where(entdevice.CommunityID(a.ID)).SetOnline(true).Exec(sys); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if err := devices.ResyncPresence(context.Background(), time.Now()); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64((time.Since(start) - grace).Milliseconds()), "ms-without-grace")
			}
			b.StopTimer()
			if n, err := db.Device.Query().Where(entdevice.CommunityID(a.ID), entdevice.Online(true)).Count(sys); err != nil || n != 0 {
				b.Fatalf("%d devices still 在线 after the resync (%v)", n, err)
			}
			if want := fmt.Sprintf("asked=%d offline=%d", resyncDevices, resyncDevices); !strings.Contains(logs.String(), want) {
				b.Fatalf("the log does not say %s:\n%s", want, logs.String())
			}
		})
	}
}
