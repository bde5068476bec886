package mqtt

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// registry is the device side the broker is tested against: two bound
// devices with their passwords, and what the broker told it.
type registry struct {
	mu       sync.Mutex
	online   map[int]bool
	messages []string
}

var (
	devA = Device{CommunityID: 7, DeviceID: 41}
	devB = Device{CommunityID: 7, DeviceID: 42}
)

func (r *registry) AuthenticateMQTT(_ context.Context, username, password string) (Device, bool) {
	switch {
	case username == "dev-41" && password == "pw-41":
		return devA, true
	case username == "dev-42" && password == "pw-42":
		return devB, true
	}
	return Device{}, false
}

func (r *registry) SetOnline(_ context.Context, deviceID int, online bool, _ string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.online[deviceID] = online
}

func (r *registry) DeviceMessage(_ context.Context, deviceID int, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, fmt.Sprintf("%d:%s", deviceID, payload))
}

func (r *registry) isOnline(id int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.online[id]
}

func (r *registry) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.messages...)
}

// startBroker runs an embedded broker on a free loopback port.
func startBroker(t *testing.T) (*Broker, *registry) {
	t.Helper()
	b, err := Listen("127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	reg := &registry{online: map[int]bool{}}
	if err := b.Serve(reg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, reg
}

// client speaks MQTT to the broker packet by packet.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, b *Broker) *client {
	t.Helper()
	conn, err := net.Dial("tcp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *client) send(pk []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(pk); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// next reads the next packet, failing after 5 s.
func (c *client) next() header {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := readPacket(c.r, 1<<20)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return h
}

// closed says whether the broker closed the connection (within 5 s).
func (c *client) closed() bool {
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.r.ReadByte()
	return err == io.EOF
}

// loginPacket builds a CONNECT; props are MQTT 5 connect properties.
type loginPacket struct {
	version             byte
	clientID, user, pw  string
	keepAlive           uint16
	props               []byte
	willTopic           string
	willRetain, noCreds bool
}

func (l loginPacket) encode() []byte {
	str := func(b []byte, s string) []byte {
		return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
	}
	name := "MQTT"
	if l.version == version31 {
		name = "MQIsdp"
	}
	body := str(nil, name)
	flags := byte(0x02) // clean session
	if !l.noCreds {
		flags |= 0xC0
	}
	if l.willTopic != "" {
		flags |= 0x04 | 0x08 // will, QoS 1
		if l.willRetain {
			flags |= 0x20
		}
	}
	body = append(body, l.version, flags)
	body = binary.BigEndian.AppendUint16(body, l.keepAlive)
	if l.version == version5 {
		body = appendVarint(body, len(l.props))
		body = append(body, l.props...)
	}
	body = str(body, l.clientID)
	if l.willTopic != "" {
		if l.version == version5 {
			body = append(body, 0)
		}
		body = str(body, l.willTopic)
		body = str(body, `{"online":false}`)
	}
	if !l.noCreds {
		body = str(body, l.user)
		body = str(body, l.pw)
	}
	return frame(typeConnect<<4, body)
}

// login connects as device A (or as l says) and returns the CONNACK's
// reason (MQTT 3.1.1: its return code).
func (c *client) login(l loginPacket) byte {
	c.t.Helper()
	c.send(l.encode())
	h := c.next()
	if h.kind != typeConnack {
		c.t.Fatalf("answer to CONNECT: packet type %d", h.kind)
	}
	return h.body[1]
}

func deviceA(version byte) loginPacket {
	return loginPacket{version: version, clientID: "dev-41", user: "dev-41", pw: "pw-41", keepAlive: 60}
}

func subscribePacket(version byte, id uint16, filters ...string) []byte {
	body := binary.BigEndian.AppendUint16(nil, id)
	if version == version5 {
		body = append(body, 0)
	}
	for _, f := range filters {
		body = binary.BigEndian.AppendUint16(body, uint16(len(f)))
		body = append(body, f...)
		body = append(body, 1)
	}
	return frame(typeSubscribe<<4|0x02, body)
}

// publishPacket builds a device's PUBLISH (flags: retain).
func devicePublish(version byte, topic, payload string, qos byte, id uint16, retain bool) []byte {
	pk := encodePublish(version, topic, []byte(payload), qos, id)
	if retain {
		pk[0] |= 0x01
	}
	return pk
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 5 s", what)
		}
	}
}

// A device session from login to DISCONNECT in MQTT 3.1.1 and 5: its own
// cmd topic only, commands at QoS 0 and 1, answers at QoS 0, 1 and 2 (a
// resent QoS 2 answer handled once), ping, and presence.
func TestBrokerSession(t *testing.T) {
	for _, version := range []byte{version311, version5, version31} {
		t.Run(fmt.Sprintf("level %d", version), func(t *testing.T) {
			b, reg := startBroker(t)
			c := dial(t, b)
			if rc := c.login(deviceA(version)); rc != 0 {
				t.Fatalf("CONNACK %#x", rc)
			}
			waitUntil(t, "device A 在线", func() bool { return reg.isOnline(devA.DeviceID) })

			cmd, events := topicOf(devA, "cmd"), topicOf(devA, "events")
			c.send(subscribePacket(version, 1, cmd, "#", topicOf(devB, "cmd"), "linli/+/device/+/cmd"))
			h := c.next()
			codes := h.body[2:]
			if version == version5 {
				codes = h.body[3:]
			}
			if h.kind != typeSuback || codes[0] != 1 || len(codes) != 4 || codes[1] < 0x80 || codes[2] < 0x80 || codes[3] < 0x80 {
				t.Fatalf("SUBACK %d %x", h.kind, h.body)
			}

			// Commands: QoS 0, then QoS 1 with a packet id to acknowledge.
			if err := b.Publish(cmd, []byte(`{"type":"sync","version":3}`), 0); err != nil {
				t.Fatal(err)
			}
			if err := b.Publish(topicOf(devB, "cmd"), []byte(`for B`), 1); err != nil {
				t.Fatal(err)
			}
			if err := b.Publish(cmd, []byte(`{"type":"open"}`), 1); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`{"type":"sync","version":3}`, `{"type":"open"}`} {
				h := c.next()
				p, err := parsePublish(h, version)
				if err != nil || p.topic != cmd || string(p.payload) != want {
					t.Fatalf("PUBLISH %+v %v, want %s", p, err, want)
				}
				if p.qos == 1 {
					c.send(encodeAck(typePuback<<4, p.packetID))
				}
			}

			// Answers on the events topic reach the server once each.
			c.send(devicePublish(version, events, `q0`, 0, 0, false))
			c.send(devicePublish(version, events, `q1`, 1, 7, false))
			if h := c.next(); h.kind != typePuback || binary.BigEndian.Uint16(h.body) != 7 {
				t.Fatalf("PUBACK %d %x", h.kind, h.body)
			}
			for range 2 { // a QoS 2 answer resent before its PUBREL
				c.send(devicePublish(version, events, `q2`, 2, 8, false))
				if h := c.next(); h.kind != typePubrec {
					t.Fatalf("PUBREC: packet type %d", h.kind)
				}
			}
			c.send([]byte{typePubrel<<4 | 0x02, 2, 0, 8})
			if h := c.next(); h.kind != typePubcomp {
				t.Fatalf("PUBCOMP: packet type %d", h.kind)
			}
			// Another device's topic and a status claim reach nobody.
			c.send(devicePublish(version, topicOf(devB, "events"), `forged`, 1, 9, false))
			c.next()
			c.send([]byte{typePingreq << 4, 0})
			if h := c.next(); h.kind != typePingresp {
				t.Fatalf("PINGRESP: packet type %d", h.kind)
			}
			if got := strings.Join(reg.received(), " "); got != "41:q0 41:q1 41:q2" {
				t.Errorf("the server received %q", got)
			}

			c.send([]byte{typeDisconnect << 4, 0})
			if !c.closed() {
				t.Error("the connection stays open after DISCONNECT")
			}
			waitUntil(t, "device A 离线", func() bool { return !reg.isOnline(devA.DeviceID) })
		})
	}
}

// Logins the broker refuses, each answered in the client's version of the
// protocol, and packets that end a session.
func TestBrokerRefuses(t *testing.T) {
	b, reg := startBroker(t)
	for _, tc := range []struct {
		name  string
		login loginPacket
		want  byte
	}{
		{"wrong password 3.1.1", loginPacket{version: version311, clientID: "dev-41", user: "dev-41", pw: "nope"}, 4},
		{"wrong password 5", loginPacket{version: version5, clientID: "dev-41", user: "dev-41", pw: "nope"}, reasonBadCredentials},
		{"borrowed client id", loginPacket{version: version311, clientID: "dev-42", user: "dev-41", pw: "pw-41"}, 2},
		{"no credentials", loginPacket{version: version5, clientID: "dev-41", noCreds: true}, reasonBadCredentials},
		{"will on another device's topic", loginPacket{version: version5, clientID: "dev-41", user: "dev-41", pw: "pw-41",
			willTopic: topicOf(devB, "cmd")}, reasonNotAuthorized},
		{"retained will", loginPacket{version: version311, clientID: "dev-41", user: "dev-41", pw: "pw-41",
			willTopic: topicOf(devA, "status"), willRetain: true}, 5},
		{"enhanced authentication", loginPacket{version: version5, clientID: "dev-41", user: "dev-41", pw: "pw-41",
			props: []byte{0x15, 0, 5, 'S', 'C', 'R', 'A', 'M'}}, reasonBadAuthMethod},
		{"unknown protocol level", loginPacket{version: 6, clientID: "dev-41", user: "dev-41", pw: "pw-41"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, b)
			if rc := c.login(tc.login); rc != tc.want {
				t.Errorf("CONNACK %#x, want %#x", rc, tc.want)
			}
			if !c.closed() {
				t.Error("the connection stays open")
			}
		})
	}
	if reg.isOnline(devA.DeviceID) {
		t.Error("a refused login made the device 在线")
	}

	// Packets that end an established MQTT 5 session, with the reason.
	for _, tc := range []struct {
		name   string
		packet []byte
		reason byte
	}{
		{"retained publish", devicePublish(version5, topicOf(devA, "status"), `{}`, 1, 1, true), reasonRetainNotSupported},
		{"oversized packet", append([]byte{typePublish << 4}, appendVarint(nil, maxPacket+1)...), reasonPacketTooLarge},
		{"wildcard topic name", devicePublish(version5, "linli/#", `{}`, 0, 0, false), reasonTopicNameInvalid},
		{"second CONNECT", deviceA(version5).encode(), reasonProtocolError},
		{"subscribe without its flags", []byte{typeSubscribe << 4, 5, 0, 1, 0, 0, 1}, reasonMalformed},
		{"string past the packet", []byte{typePublish << 4, 3, 0, 9, 'a'}, reasonMalformed},
		{"packet id 0 at QoS 1", devicePublish(version5, topicOf(devA, "events"), `{}`, 1, 0, false), reasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, b)
			if rc := c.login(deviceA(version5)); rc != 0 {
				t.Fatalf("CONNACK %#x", rc)
			}
			c.send(tc.packet)
			h := c.next()
			if h.kind != typeDisconnect || len(h.body) < 1 || h.body[0] != tc.reason {
				t.Errorf("answer %d %x, want DISCONNECT %#x", h.kind, h.body, tc.reason)
			}
			if !c.closed() {
				t.Error("the connection stays open")
			}
		})
	}
	waitUntil(t, "device A 离线 after the broken sessions", func() bool { return !reg.isOnline(devA.DeviceID) })

	// A connection that never logs in is closed (quietly) by the broker.
	raw := dial(t, b)
	raw.send([]byte{typePingreq << 4, 0})
	if !raw.closed() {
		t.Error("a PINGREQ before CONNECT left the connection open")
	}
}

// A second login of the same device takes over its session: the first is
// told and closed, and the device stays 在线.
func TestBrokerTakeover(t *testing.T) {
	b, reg := startBroker(t)
	first := dial(t, b)
	if rc := first.login(deviceA(version5)); rc != 0 {
		t.Fatalf("CONNACK %#x", rc)
	}
	second := dial(t, b)
	if rc := second.login(deviceA(version5)); rc != 0 {
		t.Fatalf("CONNACK %#x", rc)
	}
	if h := first.next(); h.kind != typeDisconnect || h.body[0] != reasonSessionTakenOver {
		t.Fatalf("the first session got %d %x", h.kind, h.body)
	}
	if !first.closed() {
		t.Fatal("the first session stays open")
	}
	time.Sleep(100 * time.Millisecond) // the first session's end has run
	if !reg.isOnline(devA.DeviceID) {
		t.Error("the device is 离线 after the takeover")
	}
	// Commands go to the second session.
	second.send(subscribePacket(version5, 1, topicOf(devA, "cmd")))
	second.next()
	if err := b.Publish(topicOf(devA, "cmd"), []byte(`x`), 0); err != nil {
		t.Fatal(err)
	}
	if h := second.next(); h.kind != typePublish {
		t.Fatalf("the second session got packet type %d", h.kind)
	}
	// Revoked credentials end it (AddDevice after a new binding).
	if err := b.RemoveDevice(context.Background(), "dev-41"); err != nil {
		t.Fatal(err)
	}
	if h := second.next(); h.kind != typeDisconnect || h.body[0] != reasonNotAuthorized {
		t.Fatalf("the revoked session got %d %x", h.kind, h.body)
	}
	waitUntil(t, "device A 离线", func() bool { return !reg.isOnline(devA.DeviceID) })
}

// An MQTT 5 device that takes one unacknowledged command at a time gets the
// next only after its PUBACK; one silent past its keep-alive is let go.
func TestBrokerFlowAndKeepAlive(t *testing.T) {
	b, reg := startBroker(t)
	c := dial(t, b)
	l := deviceA(version5)
	l.keepAlive = 1
	l.props = []byte{0x21, 0, 1} // receive maximum 1
	if rc := c.login(l); rc != 0 {
		t.Fatalf("CONNACK %#x", rc)
	}
	cmd := topicOf(devA, "cmd")
	c.send(subscribePacket(version5, 1, cmd))
	c.next()
	for i := range 3 {
		if err := b.Publish(cmd, fmt.Appendf(nil, "%d", i), 1); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		p, err := parsePublish(c.next(), version5)
		if err != nil || string(p.payload) != fmt.Sprint(i) {
			t.Fatalf("command %d: %+v %v", i, p, err)
		}
		// Nothing more comes before the acknowledgement.
		_ = c.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.r.Peek(1); err == nil {
			t.Fatalf("command %d: the next one came before its PUBACK", i)
		}
		c.send(encodeAck(typePuback<<4, p.packetID))
	}
	// Silent for 1.5 keep-alive periods: DISCONNECT 0x8D.
	if h := c.next(); h.kind != typeDisconnect || h.body[0] != reasonKeepAliveTimeout {
		t.Fatalf("after the keep-alive: %d %x", h.kind, h.body)
	}
	waitUntil(t, "device A 离线", func() bool { return !reg.isOnline(devA.DeviceID) })
}

// Mosquitto's command-line clients, MQTT 3.1.1 and 5, as a third-party
// device would use them: one receives a command, the other answers it.
func TestBrokerWithMosquittoClients(t *testing.T) {
	if _, err := exec.LookPath("mosquitto_sub"); err != nil {
		t.Skip("mosquitto_sub is not installed (Debian: mosquitto-clients)")
	}
	for _, version := range []string{"mqttv311", "mqttv5"} {
		t.Run(version, func(t *testing.T) {
			b, reg := startBroker(t)
			host, port, _ := strings.Cut(b.Addr().String(), ":")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			sub := exec.CommandContext(ctx, "mosquitto_sub", "-V", version, "-h", host, "-p", port, "-i", "dev-41", "-u", "dev-41", "-P", "pw-41",
				"-t", topicOf(devA, "cmd"), "-q", "1", "-C", "1")
			out := &strings.Builder{}
			sub.Stdout, sub.Stderr = out, out
			if err := sub.Start(); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "mosquitto_sub subscribed", func() bool {
				b.mu.Lock()
				defer b.mu.Unlock()
				return b.subs[topicOf(devA, "cmd")] != nil
			})
			if err := b.Publish(topicOf(devA, "cmd"), []byte(`{"type":"status"}`), 1); err != nil {
				t.Fatal(err)
			}
			if err := sub.Wait(); err != nil || strings.TrimSpace(out.String()) != `{"type":"status"}` {
				t.Fatalf("mosquitto_sub: %v %q", err, out)
			}
			pub, err := exec.CommandContext(ctx, "mosquitto_pub", "-V", version, "-h", host, "-p", port, "-i", "dev-41", "-u", "dev-41", "-P", "pw-41",
				"-t", topicOf(devA, "events"), "-q", "2", "-m", `{"ok":true}`).CombinedOutput()
			if err != nil {
				t.Fatalf("mosquitto_pub: %v %s", err, pub)
			}
			if got := strings.Join(reg.received(), " "); got != `41:{"ok":true}` {
				t.Errorf("the server received %q", got)
			}
			// A wrong password is refused.
			if out, err := exec.CommandContext(ctx, "mosquitto_pub", "-V", version, "-h", host, "-p", port, "-i", "dev-41", "-u", "dev-41", "-P", "wrong",
				"-t", topicOf(devA, "events"), "-m", "x").CombinedOutput(); err == nil {
				t.Errorf("mosquitto_pub with a wrong password succeeded: %s", out)
			}
		})
	}
}
