package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/sim"
	"linli/internal/storetest"
)

// TestPresenceAfterBrokerSessionLoss: on an external broker, the server
// checks device presence again whenever its own session was lost, since
// last wills and announcements sent meanwhile reached nobody.
//
// First only the server's connection breaks (the broker keeps running):
// the server asks every device for its status; the simulated door
// stations answer and stay 在线, a device that does not know the command
// is shown 离线 after the grace window. Then the broker is killed and
// started again on the same port, and one door station is switched off
// while it is down: after the grace window it is 离线, and the one that
// reconnected is 在线.
func TestPresenceAfterBrokerSessionLoss(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			broker := apptest.Mosquitto(t)
			// The server reaches the broker through a relay the test can cut;
			// devices connect to the broker directly.
			link := newTCPRelay(t, broker.Addr)
			cfg := config.Config{DataDir: t.TempDir(), DBURL: b.URL(t), AdminAccount: "admin", AdminPassword: apptest.AdminInitial,
				MQTTAddr: "off", SIPAddr: "off", MQTTURL: fmt.Sprintf("mqtt://%s:%s@%s", broker.Admin, broker.Password, link.addr),
				DataKey: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", PresenceGrace: 3 * time.Second}
			s := apptest.StartWith(t, cfg)
			a := s.NewCommunity(t, s.Operator(), "在线小区", "PR")
			m := a.Manager
			// status is the 在线/离线 of a door or wall station in 设备列表.
			status := func(serial string) string {
				var slots struct{ Items []doorRow }
				m.Must(200, "GET", a.Path("/devices"), nil).JSON(t, &slots)
				for _, it := range slots.Items {
					if it.Serial == serial {
						return it.Status
					}
				}
				return "missing"
			}

			door := func(serial string, index int) *sim.Device {
				d := sim.New(sim.Config{Server: s.URL, MQTTAddr: broker.Addr, CommunityID: a.ID, Password: "pwPRx9", SIPAddr: "off",
					Slot: sim.Slot{Kind: "door", UnitID: a.UnitID, Index: index}, Serial: serial}, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err := d.Bind(context.Background()); err != nil {
					t.Fatal(err)
				}
				return d
			}
			stay, gone := door("SIM-STAY", 1), door("SIM-GONE", 2)
			runSim(t, stay)
			stopGone := runSim(t, gone)
			// A wall station of an older firmware: it announces itself but
			// does not answer the status command.
			var oc credentials
			s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwPRx9",
				"serial": "OLD-1", "slot": map[string]any{"kind": "wall", "index": 1}}).JSON(t, &oc)
			old, err := connectDevice(t, broker.Addr, oc.MQTT.Username, oc.MQTT.Password, oc.MQTT.Username, oc.MQTT.StatusTopic)
			if err != nil {
				t.Fatal(err)
			}
			if rc := old.subscribe(t, oc.MQTT.CmdTopic); rc >= 0x80 {
				t.Fatalf("subscribe to its cmd topic: %#x", rc)
			}
			waitFor(t, "the three devices 在线", func() bool {
				return status("SIM-STAY") == "online" && status("SIM-GONE") == "online" && status("OLD-1") == "online"
			})

			// 1. The server's connection to the broker breaks.
			link.cut()
			for asked := false; !asked; {
				select {
				case msg := <-old.messages:
					// Nudges ({"type":"sync",…}) may come too.
					asked = string(msg.Payload) == `{"type":"status"}`
				case <-time.After(30 * time.Second):
					t.Fatal("no status command after the server reconnected")
				}
			}
			apptest.Eventually(t, 30*time.Second, "the device that did not answer shown 离线", func() bool { return status("OLD-1") == "offline" })
			if st, gt := status("SIM-STAY"), status("SIM-GONE"); st != "online" || gt != "online" {
				t.Fatalf("door stations that answered the status command: %s, %s; want both online", st, gt)
			}
			if !strings.Contains(s.Logs(), "asked=3 offline=1") {
				t.Errorf("the log does not say that 3 devices were asked and 1 went 离线:\n%s", s.Logs())
			}

			// 2. The broker restarts; one door station is switched off while
			// it is down, so nobody hears its goodbye.
			broker.Kill()
			waitFor(t, "the door stations see the broker gone", func() bool { return !stay.Status().Online && !gone.Status().Online })
			stopGone()
			broker.Start()
			apptest.Eventually(t, 60*time.Second, "the door station switched off during the outage shown 离线", func() bool { return status("SIM-GONE") == "offline" })
			apptest.Eventually(t, 30*time.Second, "the door station that reconnected shown 在线", func() bool {
				return stay.Status().Online && status("SIM-STAY") == "online"
			})
			if got := status("SIM-GONE"); got != "offline" {
				t.Errorf("the door station switched off during the outage is shown %s again", got)
			}
		})
	}
}

// tcpRelay passes TCP connections on to a target until cut breaks them,
// as a network fault between the server and the broker does.
type tcpRelay struct {
	addr  string
	l     net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newTCPRelay(t *testing.T, target string) *tcpRelay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpRelay{addr: l.Addr().String(), l: l, conns: map[net.Conn]struct{}{}}
	r.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns[c], r.conns[up] = struct{}{}, struct{}{}
			r.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				dst.Close()
				src.Close()
				r.mu.Lock()
				delete(r.conns, dst)
				delete(r.conns, src)
				r.mu.Unlock()
			}
			r.wg.Go(func() { pipe(up, c) })
			r.wg.Go(func() { pipe(c, up) })
		}
	})
	t.Cleanup(func() {
		l.Close()
		r.cut()
		r.wg.Wait()
	})
	return r
}

// cut closes every connection relayed now.
func (r *tcpRelay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Close()
	}
}
