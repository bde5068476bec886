package app_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/storetest"
)

// TestExternalBroker runs the device channel on a Mosquitto of the test's
// own (LINLI_MQTT_URL): the server creates each device's broker account and
// topic permissions at binding, real command-line clients are refused or
// admitted by them, and two server instances share the device stream.
func TestExternalBroker(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			broker := apptest.Mosquitto(t)
			cfg := config.Config{DataDir: t.TempDir(), DBURL: b.URL(t), AdminAccount: "admin", AdminPassword: apptest.AdminInitial,
				MQTTAddr: "off", MQTTURL: broker.URL, DataKey: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
			s := apptest.StartWith(t, cfg)
			if s.App.MQTTAddr() != nil {
				t.Fatal("the embedded broker runs although LINLI_MQTT_URL is set")
			}
			testDeviceChannel(t, s, broker.Addr)

			op := s.Operator()
			c := s.NewCommunity(t, op, "共享小区", "SH")
			var dc credentials
			s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": c.ID, "community_password": "pwSHx9",
				"serial": "SN-C", "slot": map[string]any{"kind": "door", "unit_id": c.UnitID, "index": 1}}).JSON(t, &dc)
			host, port, _ := strings.Cut(broker.Addr, ":")

			// Mosquitto's own clients: a wrong password is refused; the right
			// one may announce the device on its status topic only.
			out, err := exec.Command("mosquitto_sub", "-h", host, "-p", port, "-u", dc.MQTT.Username, "-P", "wrong", "-i", dc.MQTT.Username,
				"-t", dc.MQTT.CmdTopic, "-C", "1", "-W", "3").CombinedOutput()
			if err == nil || !strings.Contains(strings.ToLower(string(out)), "not authori") {
				t.Errorf("mosquitto_sub with a wrong password: %v %s", err, out)
			}
			pub := func(topic, msg string) {
				t.Helper()
				if out, err := exec.Command("mosquitto_pub", "-h", host, "-p", port, "-u", dc.MQTT.Username, "-P", dc.MQTT.Password,
					"-i", dc.MQTT.Username, "-V", "mqttv5", "-q", "1", "-t", topic, "-m", msg).CombinedOutput(); err != nil {
					t.Fatalf("mosquitto_pub %s: %v %s", topic, err, out)
				}
			}
			pub(dc.MQTT.StatusTopic, `{"online":true}`)
			waitFor(t, "mosquitto_pub's status shown 在线", func() bool { return deviceStatus(t, c.Manager, c, "SN-C") == "online" })

			// A second instance on the same database and broker: each status
			// message is handled by exactly one of them.
			s2 := apptest.StartWith(t, cfg)
			before := s.App.DeviceMessages() + s2.App.DeviceMessages()
			dev, err := connectDevice(t, broker.Addr, dc.MQTT.Username, dc.MQTT.Password, dc.MQTT.Username, dc.MQTT.StatusTopic)
			if err != nil {
				t.Fatal(err)
			}
			if rc := dev.subscribe(t, dc.MQTT.CmdTopic); rc >= 0x80 {
				t.Fatalf("subscribe to its cmd topic: %#x", rc)
			}
			// The device announces itself once on connecting, then sends n.
			const n = 40 + 1
			for range n - 1 {
				if _, err := dev.c.Publish(context.Background(), &paho.Publish{Topic: dc.MQTT.StatusTopic, QoS: 1, Payload: []byte(`{"online":true}`)}); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, fmt.Sprintf("%d status messages handled", n), func() bool {
				return s.App.DeviceMessages()+s2.App.DeviceMessages()-before >= n
			})
			time.Sleep(300 * time.Millisecond) // a message handled twice would show now
			if got := s.App.DeviceMessages() + s2.App.DeviceMessages() - before; got != n {
				t.Errorf("%d status messages were handled %d times", n, got)
			}
			if s.App.DeviceMessages() == 0 || s2.App.DeviceMessages() == 0 {
				t.Errorf("one instance handled every message: %d / %d", s.App.DeviceMessages(), s2.App.DeviceMessages())
			}
			// Commands reach the device from either instance, a small change
			// inside the nudge.
			c.Manager.Must(201, "POST", c.Path("/cards/super"), map[string]any{"number": "5A5A0001"})
			select {
			case m := <-dev.messages:
				if p := string(m.Payload); !strings.Contains(p, `"sync"`) || !strings.Contains(p, `"delta":{"since":`) || !strings.Contains(p, `"card":"5A5A0001"`) {
					t.Errorf("unexpected command %s", m.Payload)
				}
			case <-time.After(5 * time.Second):
				t.Error("no nudge through the external broker")
			}

			// Unbinding removes the broker account: the device is cut off.
			var slots struct {
				Items []struct {
					Serial   string
					DeviceID int `json:"device_id"`
				}
			}
			c.Manager.Must(200, "GET", c.Path("/devices?kind=door"), nil).JSON(t, &slots)
			c.Manager.Must(204, "DELETE", c.Path(fmt.Sprintf("/devices/%d", dc.DeviceID)), nil)
			if _, err := connectDevice(t, broker.Addr, dc.MQTT.Username, dc.MQTT.Password, dc.MQTT.Username, dc.MQTT.StatusTopic); err == nil {
				t.Error("an unbound device still logs in to the broker")
			}
		})
	}
}
