package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"linli/internal/actor"
	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/device"
	"linli/internal/ent"
	entdevice "linli/internal/ent/device"
	"linli/internal/storetest"
)

const (
	benchDevices = 1000
	benchPhones  = 500 // 10 openings a minute each
)

// BenchmarkRemoteOpen measures remote opening from the API call to the
// device's answer with 1,000 online wall stations (MQTT clients on the
// embedded broker that answer every command at once), one opening at a
// time and 16 at once; it reports p50 and p99. Run with
// -benchtime=500x (at most benchPhones*10 openings a minute in all).
func BenchmarkRemoteOpen(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := apptest.StartWith(b, config.Config{DataDir: b.TempDir(), DBURL: be.URL(b), AdminAccount: "admin",
				AdminPassword: apptest.AdminInitial, MQTTAddr: "127.0.0.1:0", SIPAddr: "off"})
			a := s.NewCommunity(b, s.Operator(), "压测小区", "BO")
			doors := benchDevicesOnline(b, s, a)
			phones := benchSessions(b, s, a)
			next := 0
			for _, workers := range []int{1, 16} {
				b.Run(fmt.Sprintf("concurrent%d", workers), func(b *testing.B) {
					lat := make([]time.Duration, b.N)
					var wg sync.WaitGroup
					jobs := make(chan int)
					errs := make(chan error, b.N)
					b.ResetTimer()
					for range workers {
						wg.Go(func() {
							c := s.Client("bench")
							for i := range jobs {
								k := next + i
								start := time.Now()
								r := c.DoHeaders("POST", fmt.Sprintf("/app/v1/doors/%d/open", doors[k%len(doors)]), phones[k%len(phones)], nil)
								lat[i] = time.Since(start)
								if r.Status != 200 {
									errs <- fmt.Errorf("open %d: %d %s", i, r.Status, r.Body)
								}
							}
						})
					}
					for i := range b.N {
						jobs <- i
					}
					close(jobs)
					wg.Wait()
					b.StopTimer()
					next += b.N
					close(errs)
					for err := range errs {
						b.Fatal(err)
					}
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				})
			}
		})
	}
}

// benchDevicesOnline creates 1,000 wall stations of community a directly
// in the store, connects each as an MQTT client that answers every open
// command, and waits until all show online.
func benchDevicesOnline(b *testing.B, s *apptest.Server, a *apptest.Community) []int {
	b.Helper()
	ctx := context.Background()
	sys := actor.AsSystem(ctx)
	db := s.App.Store()
	creates := make([]*ent.DeviceCreate, benchDevices)
	for i := range creates {
		creates[i] = db.Device.Create().SetCommunityID(a.ID).SetKind("wall").SetIndex(i + 1).SetSlot(fmt.Sprintf("wall::%d", i+1)).
			SetSerial(fmt.Sprintf("BENCH-%04d", i)).SetBoundAt(time.Now()).SetTokenHash(fmt.Sprintf("bench-token-%d", i)).
			SetMqttPasswordHash(device.HashSecret(fmt.Sprintf("pw-%d", i))).SetSipPasswordSealed([]byte{0})
	}
	var ids []int
	for chunk := range slices.Chunk(creates, 200) {
		ds, err := db.Device.CreateBulk(chunk...).Save(sys)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
	}
	addr := s.App.MQTTAddr().String()
	var max uint16 = 16
	for i, id := range ids {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		user := fmt.Sprintf("dev-%d", id)
		events := fmt.Sprintf("linli/%d/device/%d/events", a.ID, id)
		var c *paho.Client
		c = paho.NewClient(paho.ClientConfig{ClientID: user, Conn: conn,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
				var cmd struct{ Type, ID string }
				if json.Unmarshal(pr.Packet.Payload, &cmd) == nil && cmd.Type == "open" {
					ack, _ := json.Marshal(map[string]any{"type": "ack", "id": cmd.ID, "ok": true})
					go func() { _, _ = c.Publish(ctx, &paho.Publish{Topic: events, QoS: 1, Payload: ack}) }()
				}
				return true, nil
			}}})
		ca, err := c.Connect(ctx, &paho.Connect{ClientID: user, Username: user, UsernameFlag: true, Password: []byte(fmt.Sprintf("pw-%d", i)),
			PasswordFlag: true, KeepAlive: 60, CleanStart: true, Properties: &paho.ConnectProperties{ReceiveMaximum: &max}})
		if err != nil || ca.ReasonCode != 0 {
			b.Fatalf("connect %s: %v", user, err)
		}
		if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: device.CmdTopic(a.ID, id), QoS: 1}}}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		online, err := db.Device.Query().Where(entdevice.Online(true)).Count(sys)
		if err == nil && online == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d devices online", online, len(ids))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ids
}

// benchSessions registers benchPhones residents of a's room and opens an
// app session for each directly in the store.
func benchSessions(b *testing.B, s *apptest.Server, a *apptest.Community) []map[string]string {
	b.Helper()
	sys := actor.AsSystem(context.Background())
	db := s.App.Store()
	out := make([]map[string]string, benchPhones)
	for i := range out {
		phone := fmt.Sprintf("137%08d", i)
		if err := db.Resident.Create().SetCommunityID(a.ID).SetRoomID(a.RoomID).SetAreaID(a.AreaID).SetBuildingID(a.BuildingID).
			SetUnitID(a.UnitID).SetName(fmt.Sprintf("压测%d", i)).SetRole("家属").SetPhone(phone).Exec(sys); err != nil {
			b.Fatal(err)
		}
		token := "bench-" + phone
		sum := sha256.Sum256([]byte(token))
		if err := db.AppSession.Create().SetTokenHash(hex.EncodeToString(sum[:])).SetPhone(phone).
			SetExpiresAt(time.Now().Add(time.Hour)).Exec(sys); err != nil {
			b.Fatal(err)
		}
		out[i] = map[string]string{"Authorization": "Bearer " + token}
	}
	return out
}
