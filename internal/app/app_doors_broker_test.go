package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/eclipse/paho.golang/paho"

	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/storetest"
)

// TestRemoteOpenAcrossInstances: two server instances share a database and
// an external broker (Mosquitto); a door station answers remote openings
// on its events topic, and the shared subscription hands each answer to
// either instance. Openings through both instances succeed: the instance
// that waits finds an answer the other one received by its command id.
func TestRemoteOpenAcrossInstances(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			broker := apptest.Mosquitto(t)
			cfg := config.Config{DataDir: t.TempDir(), DBURL: b.URL(t), AdminAccount: "admin", AdminPassword: apptest.AdminInitial,
				MQTTAddr: "off", SIPAddr: "off", MQTTURL: broker.URL, DataKey: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
			s := apptest.StartWith(t, cfg)
			s2 := apptest.StartWith(t, cfg)
			a := s.NewCommunity(t, s.Operator(), "双实例小区", "TI")
			a.Manager.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "两边开", "role": "业主", "phone": "13955550001"})
			var dc credentials
			s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwTIx9",
				"serial": "SN-TI", "slot": map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 1}}).JSON(t, &dc)
			dev, err := connectDevice(t, broker.Addr, dc.MQTT.Username, dc.MQTT.Password, dc.MQTT.Username, dc.MQTT.StatusTopic)
			if err != nil {
				t.Fatal(err)
			}
			if rc := dev.subscribe(t, dc.MQTT.CmdTopic); rc >= 0x80 {
				t.Fatalf("subscribe to its cmd topic: %#x", rc)
			}
			events := strings.TrimSuffix(dc.MQTT.StatusTopic, "status") + "events"
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case m := <-dev.messages:
						var cmd struct{ Type, ID string }
						if json.Unmarshal(m.Payload, &cmd) != nil || cmd.Type != "open" {
							continue
						}
						ack, _ := json.Marshal(map[string]any{"type": "ack", "id": cmd.ID, "ok": true})
						_, _ = dev.c.Publish(ctx, &paho.Publish{Topic: events, QoS: 1, Payload: ack})
					}
				}
			}()
			waitFor(t, "the door station 在线", func() bool { return deviceStatus(t, a.Manager, a, "SN-TI") == "online" })
			h := appSignIn(t, s, "13955550001")
			var doors appDoorList
			appDo(s, h, "GET", "/app/v1/doors", nil).JSON(t, &doors)
			if len(doors.Items) != 1 || !doors.Items[0].Online {
				t.Fatalf("doors: %+v", doors)
			}
			path := fmt.Sprintf("/app/v1/doors/%d/open", doors.Items[0].ID)
			for i := range 8 {
				srv := []*apptest.Server{s, s2}[i%2]
				if r := srv.Client("app").DoHeaders("POST", path, h, nil); r.Status != 200 {
					t.Errorf("opening %d through instance %d: %d %s", i, i%2+1, r.Status, r.Body)
				}
			}
		})
	}
}
