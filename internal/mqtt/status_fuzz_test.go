package mqtt

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/eclipse/paho.golang/paho"
)

// presence records what the broker connection told the device service.
type presence struct {
	online   []statusCall
	messages []int
}

type statusCall struct {
	device int
	online bool
	ip     string
}

func (p *presence) AuthenticateMQTT(context.Context, string, string) (Device, bool) {
	return Device{}, false
}

func (p *presence) SetOnline(_ context.Context, deviceID int, online bool, ip string) {
	p.online = append(p.online, statusCall{deviceID, online, ip})
}

func (p *presence) DeviceMessage(_ context.Context, deviceID int, _ []byte) {
	p.messages = append(p.messages, deviceID)
}

// FuzzStatusPayload hands the external broker connection a message on a
// topic and with a payload from the fuzzer: it never panics, takes a status
// only from a device's status topic and a JSON object whose online is true
// or false, and passes on an ip only when it is an address. The seeds in
// testdata/fuzz/FuzzStatusPayload are good and broken statuses, odd ips
// and other topics.
func FuzzStatusPayload(f *testing.F) {
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		devices := &presence{}
		e := &External{devices: devices, logger: slog.New(slog.NewTextHandler(io.Discard, nil)), waiting: map[string]chan []controlResponse{}}
		if ok, err := e.receive(paho.PublishReceived{Packet: &paho.Publish{Topic: topic, Payload: payload}}); !ok || err != nil {
			t.Fatalf("receive answered %v, %v", ok, err)
		}
		did, onStatus := deviceTopic(topic, "status")
		want, ok := expectedStatus(payload)
		switch {
		case len(devices.online) > 1:
			t.Fatalf("one message set presence %d times: %+v", len(devices.online), devices.online)
		case len(devices.online) == 1 && !onStatus:
			t.Fatalf("a message on %q set presence", topic)
		case len(devices.online) == 1 && devices.online[0].device != did:
			t.Fatalf("a message on %q set the presence of device %d", topic, devices.online[0].device)
		case len(devices.online) == 1 && devices.online[0].ip != "" && !isAddress(devices.online[0].ip):
			t.Fatalf("%q: the ip %q is no address", payload, devices.online[0].ip)
		case len(devices.online) == 1 && !json.Valid(payload):
			t.Fatalf("%q is no JSON but set presence", payload)
		case onStatus && ok && len(devices.online) == 0:
			t.Fatalf("the status %q was ignored", payload)
		case onStatus && ok && (devices.online[0].online != want.online || want.ip != "" && devices.online[0].ip != want.ip):
			t.Fatalf("the status %q set %+v, want %+v", payload, devices.online[0], want)
		}
		if _, onEvents := deviceTopic(topic, "events"); onEvents != (len(devices.messages) == 1) {
			t.Fatalf("a message on %q reached the device service %d times", topic, len(devices.messages))
		}
	})
}

// expectedStatus reads a payload the plain way: a JSON object with exactly
// one key spelled like online (any case), a boolean, and an ip that is
// missing or a string. ok is false for anything else, whose handling the
// fuzz target checks only for safety.
func expectedStatus(payload []byte) (want statusCall, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return want, false
	}
	var online, ip []json.RawMessage
	for k, v := range m {
		switch {
		case strings.EqualFold(k, "online"):
			online = append(online, v)
		case strings.EqualFold(k, "ip"):
			ip = append(ip, v)
		}
	}
	if len(online) != 1 || len(ip) > 1 || json.Unmarshal(online[0], &want.online) != nil || string(online[0]) == "null" {
		return want, false
	}
	if len(ip) == 1 {
		var s string
		if json.Unmarshal(ip[0], &s) != nil {
			return want, false
		}
		if a, err := netip.ParseAddr(s); err == nil {
			want.ip = a.WithZone("").String()
		}
	}
	return want, true
}

// isAddress says whether ip is an IP address without a zone, as the device
// record keeps it.
func isAddress(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && a.Zone() == "" && a.String() == ip
}
