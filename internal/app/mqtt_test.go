package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"linli/internal/apptest"
)

// mqttDevice is a device's MQTT session in a test.
type mqttDevice struct {
	c        *paho.Client
	messages chan *paho.Publish
	gone     chan struct{} // closed when the broker ends the session
}

// connectDevice logs into the broker at addr as a device does: with a last
// will of {"online":false} on its status topic, announcing {"online":true}
// there once connected. It returns an error when the broker refuses.
func connectDevice(t *testing.T, addr, user, password, clientID, statusTopic string) (*mqttDevice, error) {
	t.Helper()
	return connectWithWill(t, addr, user, password, clientID, statusTopic,
		&paho.WillMessage{Topic: statusTopic, QoS: 1, Payload: []byte(`{"online":false}`)})
}

// connectWithWill logs in with the last will given and announces the device
// on statusTopic.
func connectWithWill(t *testing.T, addr, user, password, clientID, statusTopic string, will *paho.WillMessage) (*mqttDevice, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	d := &mqttDevice{messages: make(chan *paho.Publish, 16), gone: make(chan struct{})}
	var once sync.Once
	end := func() { once.Do(func() { close(d.gone) }) }
	d.c = paho.NewClient(paho.ClientConfig{ClientID: clientID, Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			d.messages <- pr.Packet
			return true, nil
		}},
		OnServerDisconnect: func(*paho.Disconnect) { end() },
		OnClientError:      func(error) { end() }})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ca, err := d.c.Connect(ctx, &paho.Connect{ClientID: clientID, Username: user, UsernameFlag: true,
		Password: []byte(password), PasswordFlag: true, KeepAlive: 30, CleanStart: true, WillMessage: will})
	if err != nil {
		conn.Close()
		return nil, err
	}
	if ca.ReasonCode != 0 {
		conn.Close()
		return nil, fmt.Errorf("connack reason %d", ca.ReasonCode)
	}
	t.Cleanup(func() { _ = d.c.Disconnect(&paho.Disconnect{}) })
	if _, err := d.c.Publish(ctx, &paho.Publish{Topic: statusTopic, QoS: 1, Payload: []byte(`{"online":true}`)}); err != nil {
		t.Fatalf("publish status: %v", err)
	}
	return d, nil
}

// goAway drops the connection the way a power cut does: the broker sends
// the last will.
func (d *mqttDevice) goAway() { _ = d.c.Disconnect(&paho.Disconnect{ReasonCode: 0x04}) }

func (d *mqttDevice) subscribe(t *testing.T, topic string) byte {
	t.Helper()
	sa, err := d.c.Subscribe(context.Background(), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: topic, QoS: 1}}})
	if err != nil && sa == nil {
		t.Fatalf("subscribe %s: %v", topic, err)
	}
	return sa.Reasons[0]
}

func deviceStatus(t *testing.T, c *apptest.Client, a *apptest.Community, serial string) string {
	t.Helper()
	if row, ok := findDoor(t, c, a, serial); ok {
		return row.Status
	}
	return "missing"
}

// doorRow is a door station's row of 设备列表.
type doorRow struct {
	Serial, Status, Firmware string
	Upgrade                  *struct {
		State, Message, Version string
		Progress                int
	}
}

// findDoor returns the row of the door station serial of community a.
func findDoor(t *testing.T, c *apptest.Client, a *apptest.Community, serial string) (doorRow, bool) {
	t.Helper()
	var slots struct{ Items []doorRow }
	c.Must(200, "GET", a.Path("/devices?kind=door"), nil).JSON(t, &slots)
	for _, it := range slots.Items {
		if it.Serial == serial {
			return it, true
		}
	}
	return doorRow{}, false
}

// waitFor waits up to 15 s for cond.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	apptest.Eventually(t, 15*time.Second, what, cond)
}

func TestMQTTDeviceChannel(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) { testDeviceChannel(t, s, s.App.MQTTAddr().String()) })
}

// testDeviceChannel checks logins, topic permissions, nudges and presence
// on the broker at addr that server s uses.
func testDeviceChannel(t *testing.T, s *apptest.Server, addr string) {
	{
		op := s.Operator()
		a := s.NewCommunity(t, op, "消息小区", "MQ")
		b := s.NewCommunity(t, op, "别家小区", "MQ2")
		inst := s.Client("installer")
		var da, db credentials
		inst.Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwMQx9", "serial": "SN-A",
			"slot": map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 1}}).JSON(t, &da)
		inst.Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": b.ID, "community_password": "pwMQ2x9", "serial": "SN-B",
			"slot": map[string]any{"kind": "door", "unit_id": b.UnitID, "index": 1}}).JSON(t, &db)

		// Logins: wrong password, borrowed client id.
		if _, err := connectDevice(t, addr, da.MQTT.Username, "wrong", da.MQTT.Username, da.MQTT.StatusTopic); err == nil {
			t.Fatal("a wrong MQTT password was accepted")
		}
		if _, err := connectDevice(t, addr, da.MQTT.Username, da.MQTT.Password, "someone-else", da.MQTT.StatusTopic); err == nil {
			t.Fatal("a client id other than the username was accepted")
		}
		devA, err := connectDevice(t, addr, da.MQTT.Username, da.MQTT.Password, da.MQTT.Username, da.MQTT.StatusTopic)
		if err != nil {
			t.Fatalf("device A login: %v", err)
		}
		devB, err := connectDevice(t, addr, db.MQTT.Username, db.MQTT.Password, db.MQTT.Username, db.MQTT.StatusTopic)
		if err != nil {
			t.Fatalf("device B login: %v", err)
		}
		waitFor(t, "device A shown 在线", func() bool { return deviceStatus(t, a.Manager, a, "SN-A") == "online" })

		// ACL: own cmd topic only.
		if rc := devA.subscribe(t, da.MQTT.CmdTopic); rc >= 0x80 {
			t.Fatalf("own cmd topic refused: %#x", rc)
		}
		for _, topic := range []string{db.MQTT.CmdTopic, fmt.Sprintf("linli/%d/device/%d/cmd", a.ID, da.DeviceID+1000), "linli/#", "#"} {
			if rc := devA.subscribe(t, topic); rc < 0x80 {
				t.Errorf("device A may subscribe to %s (reason %#x)", topic, rc)
			}
		}
		if rc := devB.subscribe(t, db.MQTT.CmdTopic); rc >= 0x80 {
			t.Fatalf("B's own cmd topic refused: %#x", rc)
		}
		waitFor(t, "device B shown 在线", func() bool { return deviceStatus(t, b.Manager, b, "SN-B") == "online" })
		// A publishing on B's cmd topic reaches nobody; claiming that B went
		// offline changes nothing.
		_, _ = devA.c.Publish(context.Background(), &paho.Publish{Topic: db.MQTT.CmdTopic, QoS: 1, Payload: []byte(`{"type":"open"}`)})
		_, _ = devA.c.Publish(context.Background(), &paho.Publish{Topic: db.MQTT.StatusTopic, QoS: 1, Payload: []byte(`{"online":false}`)})

		// A new super card nudges A's door station, not B's.
		a.Manager.Must(201, "POST", a.Path("/cards/super"), map[string]any{"number": "0A0B0C0D"})
		select {
		case m := <-devA.messages:
			var cmd struct {
				Type    string
				Version int64
			}
			if err := json.Unmarshal(m.Payload, &cmd); err != nil || cmd.Type != "sync" || cmd.Version < 1 {
				t.Fatalf("nudge %s: %s", m.Topic, m.Payload)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("device A got no sync nudge within 2 seconds")
		}
		select {
		case m := <-devB.messages:
			t.Fatalf("device B received %s on %s", m.Payload, m.Topic)
		case <-time.After(300 * time.Millisecond):
		}

		if st := deviceStatus(t, b.Manager, b, "SN-B"); st != "online" {
			t.Errorf("device A's forged status made B %s", st)
		}

		// A last will aimed at another device's cmd topic, retained so that
		// it would be replayed at every reconnect, never reaches it: the
		// login is refused or the will is not delivered.
		forged := []byte(`{"type":"upgrade","firmware_id":1,"url":"/device/v1/firmware/1","sha256":"00"}`)
		for _, will := range []*paho.WillMessage{
			{Topic: db.MQTT.CmdTopic, QoS: 1, Retain: true, Payload: forged},
			{Topic: db.MQTT.CmdTopic, QoS: 1, Payload: forged},
		} {
			if evil, err := connectWithWill(t, addr, da.MQTT.Username, da.MQTT.Password, da.MQTT.Username, da.MQTT.StatusTopic, will); err == nil {
				evil.goAway()
			}
			select {
			case m := <-devB.messages:
				t.Fatalf("device B received a forged will on %s: %s", m.Topic, m.Payload)
			case <-time.After(500 * time.Millisecond):
			}
		}
		// Nothing retained waits on B's cmd topic for its next session.
		devB.c.Disconnect(&paho.Disconnect{})
		devB, err = connectDevice(t, addr, db.MQTT.Username, db.MQTT.Password, db.MQTT.Username, db.MQTT.StatusTopic)
		if err != nil {
			t.Fatalf("device B login again: %v", err)
		}
		if rc := devB.subscribe(t, db.MQTT.CmdTopic); rc >= 0x80 {
			t.Fatalf("B's own cmd topic refused: %#x", rc)
		}
		select {
		case m := <-devB.messages:
			t.Fatalf("device B got a retained message on %s: %s", m.Topic, m.Payload)
		case <-time.After(500 * time.Millisecond):
		}
		devA, err = connectDevice(t, addr, da.MQTT.Username, da.MQTT.Password, da.MQTT.Username, da.MQTT.StatusTopic)
		if err != nil {
			t.Fatalf("device A login again: %v", err)
		}
		waitFor(t, "device A shown 在线 again", func() bool { return deviceStatus(t, a.Manager, a, "SN-A") == "online" })

		// Going away shows 离线.
		devA.goAway()
		waitFor(t, "device A shown 离线", func() bool { return deviceStatus(t, a.Manager, a, "SN-A") == "offline" })

		// Binding again replaces the credentials: the session of the old
		// ones ends at once, and the old password stops working.
		old, err := connectDevice(t, addr, da.MQTT.Username, da.MQTT.Password, da.MQTT.Username, da.MQTT.StatusTopic)
		if err != nil {
			t.Fatalf("device A login before rebinding: %v", err)
		}
		var again credentials
		inst.Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwMQx9", "serial": "SN-A",
			"slot": map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 1}}).JSON(t, &again)
		if _, err := connectDevice(t, addr, da.MQTT.Username, da.MQTT.Password, da.MQTT.Username, da.MQTT.StatusTopic); err == nil {
			t.Error("the credentials of the earlier binding still log in")
		}
		select {
		case <-old.gone:
		case <-time.After(5 * time.Second):
			t.Error("the session of the replaced credentials is still open")
		}
		current, err := connectDevice(t, addr, again.MQTT.Username, again.MQTT.Password, again.MQTT.Username, again.MQTT.StatusTopic)
		if err != nil {
			t.Fatalf("the new credentials: %v", err)
		}
		// Unbinding ends the session at once.
		a.Manager.Must(204, "DELETE", a.Path(fmt.Sprintf("/devices/%d", again.DeviceID)), nil)
		select {
		case <-current.gone:
		case <-time.After(5 * time.Second):
			t.Error("an unbound device keeps its MQTT session")
		}
	}
}
