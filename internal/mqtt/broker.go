// Package mqtt runs the MQTT broker that devices keep a session with (the
// embedded default, on mochi-mqtt). Every client is a device that logs in
// with the credentials it got at binding; it may only subscribe to its own
// cmd topic and publish on its own status topic. The server itself publishes
// through an in-process client.
package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Device is a device that logged in.
type Device struct {
	CommunityID, DeviceID int
}

// Devices is what the broker needs from the device domain.
type Devices interface {
	// AuthenticateMQTT checks a device's MQTT login.
	AuthenticateMQTT(ctx context.Context, username, password string) (Device, bool)
	// SetOnline records that a device connected or went away.
	SetOnline(ctx context.Context, deviceID int, online bool, ip string)
	// DeviceMessage handles what a device published on its events topic
	// (the answers to commands).
	DeviceMessage(ctx context.Context, deviceID int, payload []byte)
}

// Broker is the embedded MQTT broker.
type Broker struct {
	srv      *mqtt.Server
	listener net.Listener
	logger   *slog.Logger
	closed   atomic.Bool
}

// Listen binds the embedded broker to addr (":1883"; port 0 picks one).
// Devices are served once Serve is called.
func Listen(addr string, logger *slog.Logger) (*Broker, error) {
	caps := mqtt.NewDefaultServerCapabilities()
	// A device receives a few small commands, not a stream: the default
	// queue of 8,192 pending writes costs 64 KiB per connection before the
	// first message, which at 10,000 devices is most of the server's memory.
	caps.MaximumClientWritesPending = 64
	// The server never retains a message and devices may not: a retained
	// message on a cmd topic would be replayed at every reconnect.
	caps.RetainAvailable = 0
	// Devices send small packets (a bigger one is read through the buffer
	// all the same): 256 bytes of read buffer per connection is enough.
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Capabilities: caps, Logger: logger.With("part", "mqtt"),
		ClientNetReadBufferSize: 256, ClientNetWriteBufferSize: 1024})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mqtt: listen %s: %w", addr, err)
	}
	return &Broker{srv: srv, listener: l, logger: logger}, nil
}

// Serve lets devices log in, checked and followed by devices.
func (b *Broker) Serve(devices Devices) error {
	h := &hook{devices: devices, logger: b.logger, clients: map[string]session{}}
	if err := b.srv.AddHook(h, nil); err != nil {
		return err
	}
	if err := b.srv.AddListener(listeners.NewNet("devices", b.listener)); err != nil {
		return err
	}
	if err := b.srv.Serve(); err != nil {
		return err
	}
	// A device may publish only on its own events topic (OnACLCheck), so
	// the topic names the device truthfully.
	return b.srv.Subscribe(eventsFilter, 1, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		if did, ok := deviceTopic(pk.TopicName, "events"); ok {
			devices.DeviceMessage(context.Background(), did, pk.Payload)
		}
	})
}

// Addr is the address the broker listens on.
func (b *Broker) Addr() net.Addr { return b.listener.Addr() }

// Publish sends payload to topic at qos (0 or 1), not retained.
func (b *Broker) Publish(topic string, payload []byte, qos byte) error {
	return b.srv.Publish(topic, payload, false, qos)
}

// AddDevice ends the session of a device whose credentials were just
// replaced by a new binding: it logged in with the old ones.
func (b *Broker) AddDevice(_ context.Context, _ Device, username, _ string) error {
	b.kick(username)
	return nil
}

// RemoveDevice ends the session of an unbound device at once.
func (b *Broker) RemoveDevice(_ context.Context, username string) error {
	b.kick(username)
	return nil
}

// kick disconnects the client id (a device's client id is its username).
func (b *Broker) kick(clientID string) {
	if cl, ok := b.srv.Clients.Get(clientID); ok && !cl.Closed() {
		_ = b.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
		b.logger.Info("mqtt session ended: the device's credentials were revoked", "client", clientID)
	}
}

// Close disconnects every device and stops the broker.
func (b *Broker) Close() error {
	b.closed.Store(true)
	err := b.srv.Close()
	// Before Serve the listener is the broker's alone to close.
	_ = b.listener.Close()
	return err
}

// Check says whether the broker still listens for devices: it does until
// Close.
func (b *Broker) Check(context.Context) error {
	if b.closed.Load() {
		return errors.New("mqtt: broker closed")
	}
	return nil
}

// hook authenticates devices, enforces their topics and tracks presence.
type hook struct {
	mqtt.HookBase
	devices Devices
	logger  *slog.Logger
	mu      sync.Mutex
	clients map[string]session // by client id
}

func (h *hook) ID() string { return "linli-devices" }

func (h *hook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnSessionEstablished, mqtt.OnDisconnect,
		mqtt.OnPublish, mqtt.OnWill:
		return true
	}
	return false
}

// OnConnectAuthenticate accepts a device whose client id is its username.
func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user, pw := string(pk.Connect.Username), string(pk.Connect.Password)
	if cl.ID != user {
		h.logger.Warn("mqtt login refused: client id must equal the username", "client", cl.ID, "username", user)
		return false
	}
	d, ok := h.devices.AuthenticateMQTT(context.Background(), user, pw)
	if !ok {
		h.logger.Warn("mqtt login refused", "username", user, "remote", cl.Net.Remote)
		return false
	}
	// The broker publishes a last will without an ACL check: it may only be
	// the device's own status, never retained.
	if pk.Connect.WillFlag && (pk.Connect.WillTopic != statusTopicOf(d) || pk.Connect.WillRetain) {
		h.logger.Warn("mqtt login refused: the last will must be the device's own status topic, not retained",
			"username", user, "will_topic", pk.Connect.WillTopic, "retain", pk.Connect.WillRetain, "remote", cl.Net.Remote)
		return false
	}
	h.mu.Lock()
	h.clients[cl.ID] = session{Device: d, client: cl}
	h.mu.Unlock()
	return true
}

func statusTopicOf(d Device) string {
	return fmt.Sprintf("linli/%d/device/%d/status", d.CommunityID, d.DeviceID)
}

// OnPublish refuses retained messages from devices.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if !cl.Net.Inline && pk.FixedHeader.Retain {
		h.logger.Warn("mqtt: retained publish from a device refused", "client", cl.ID, "topic", pk.TopicName)
		return pk, packets.ErrRejectPacket
	}
	return pk, nil
}

// OnWill sends a last will only to the device's own status topic, never
// retained, whatever the session asked for (checked at login as well).
func (h *hook) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	h.mu.Lock()
	d, ok := h.clients[cl.ID]
	h.mu.Unlock()
	if ok {
		will.TopicName = statusTopicOf(d.Device)
	} else {
		will.TopicName = "" // matches no subscription
	}
	will.Retain = false
	return will, nil
}

// OnACLCheck lets a device read its cmd topic and write its status topic.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	h.mu.Lock()
	d, ok := h.clients[cl.ID]
	h.mu.Unlock()
	if !ok {
		return false
	}
	base := fmt.Sprintf("linli/%d/device/%d/", d.CommunityID, d.DeviceID)
	if write {
		return topic == base+"status" || topic == base+"events"
	}
	return topic == base+"cmd"
}

func (h *hook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	h.mu.Lock()
	d, ok := h.clients[cl.ID]
	h.mu.Unlock()
	if ok {
		h.devices.SetOnline(context.Background(), d.DeviceID, true, host(cl.Net.Remote))
	}
}

func (h *hook) OnDisconnect(cl *mqtt.Client, err error, _ bool) {
	h.mu.Lock()
	d, ok := h.clients[cl.ID]
	// A newer connection of the same device may already have logged in
	// (a takeover, or a quick reconnect whose login ran before this end):
	// it keeps its permissions and the device stays 在线.
	if !ok || d.client != cl {
		h.mu.Unlock()
		return
	}
	delete(h.clients, cl.ID)
	h.mu.Unlock()
	h.devices.SetOnline(context.Background(), d.DeviceID, false, host(cl.Net.Remote))
}

// session is a device's current connection.
type session struct {
	Device
	client *mqtt.Client
}

func host(remote string) string {
	if i := strings.LastIndexByte(remote, ':'); i > 0 {
		return strings.Trim(remote[:i], "[]")
	}
	return remote
}
