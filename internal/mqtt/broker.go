// Package mqtt runs the MQTT broker that devices keep a session with: the
// embedded default, a small MQTT 3.1.1 and 5 broker made for devices, or a
// connection to an external broker (External). Every client is a device
// that logs in with the credentials it got at binding; it may only
// subscribe to its own cmd topic and publish on its own status and events
// topics. The server publishes commands to devices directly.
package mqtt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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

// Limits of the embedded broker. A device keeps one small session: it is
// sent a command now and then and answers it, so a connection costs one
// goroutine, a small read buffer and the state below, and nothing is
// queued for a device that is away (it syncs when it comes back).
const (
	// readBuffer is each connection's read buffer; a bigger packet is read
	// through it all the same.
	readBuffer = 256
	// connectTimeout is how long a new connection has to log in.
	connectTimeout = 10 * time.Second
	// writeTimeout bounds one write to a device; a device that takes no
	// data for that long is disconnected.
	writeTimeout = 10 * time.Second
	// maxInflight is how many QoS 1 commands may await a device's PUBACK
	// (less when an MQTT 5 device asks for a smaller receive maximum);
	// maxPending more wait for one of them, further ones are dropped.
	maxInflight = 16
	maxPending  = 64
	// loginsAtOnce bounds the logins checked at the same time (see aside).
	loginsAtOnce = 64
	// presenceStripes orders a device's presence writes: its logins and
	// session ends take one of these locks by device id.
	presenceStripes = 64
)

// Broker is the embedded MQTT broker.
type Broker struct {
	listener net.Listener
	logger   *slog.Logger
	devices  Devices
	closed   atomic.Bool
	logins   chan struct{}
	presence [presenceStripes]sync.Mutex
	running  sync.WaitGroup

	mu       sync.Mutex
	sessions map[string]*session // logged-in sessions by client id (= username)
	subs     map[string]*session // sessions by the cmd topic they subscribed to
	conns    map[*session]struct{}
}

// Listen binds the embedded broker to addr (":1883"; port 0 picks one).
// Devices are served once Serve is called.
func Listen(addr string, logger *slog.Logger) (*Broker, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mqtt: listen %s: %w", addr, err)
	}
	return &Broker{listener: l, logger: logger.With("part", "mqtt"), logins: make(chan struct{}, loginsAtOnce),
		sessions: map[string]*session{}, subs: map[string]*session{}, conns: map[*session]struct{}{}}, nil
}

// Serve lets devices log in, checked and followed by devices.
func (b *Broker) Serve(devices Devices) error {
	b.devices = devices
	b.running.Add(1)
	go b.accept()
	return nil
}

// Addr is the address the broker listens on.
func (b *Broker) Addr() net.Addr { return b.listener.Addr() }

// accept serves each new connection in a goroutine of its own until Close.
func (b *Broker) accept() {
	defer b.running.Done()
	pause := 5 * time.Millisecond
	for {
		nc, err := b.listener.Accept()
		if err != nil {
			if b.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait a little, as
			// net/http does, rather than spin or stop serving.
			b.logger.Error("mqtt: accept", "err", err)
			time.Sleep(pause)
			pause = min(2*pause, time.Second)
			continue
		}
		pause = 5 * time.Millisecond
		s := &session{broker: b, conn: nc, remote: nc.RemoteAddr().String()}
		b.mu.Lock()
		if b.closed.Load() {
			b.mu.Unlock()
			nc.Close()
			return
		}
		b.conns[s] = struct{}{}
		b.running.Add(1)
		b.mu.Unlock()
		go s.serve()
	}
}

// Publish sends payload to topic at qos (0 or 1, lowered to what the device
// subscribed with), not retained. A topic no device has subscribed to
// drops the message: a device that is away syncs when it reconnects.
func (b *Broker) Publish(topic string, payload []byte, qos byte) error {
	b.mu.Lock()
	s := b.subs[topic]
	b.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.send(topic, payload, min(qos, byte(s.granted.Load())))
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

// kick disconnects the session of client id (a device's client id is its
// username).
func (b *Broker) kick(clientID string) {
	b.mu.Lock()
	s := b.sessions[clientID]
	b.mu.Unlock()
	if s != nil {
		s.disconnect(reasonNotAuthorized)
		b.logger.Info("mqtt session ended: the device's credentials were revoked", "client", clientID)
	}
}

// Close stops accepting devices, disconnects every one and waits a little
// for their sessions to end (each records its device 离线).
func (b *Broker) Close() error {
	b.mu.Lock()
	b.closed.Store(true)
	err := b.listener.Close()
	conns := make([]*session, 0, len(b.conns))
	for s := range b.conns {
		conns = append(conns, s)
	}
	b.mu.Unlock()
	for _, s := range conns {
		s.disconnect(reasonServerShuttingDown)
	}
	done := make(chan struct{})
	go func() { b.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		b.logger.Warn("mqtt: sessions still ending after 5 s at close")
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
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

// authorize checks a CONNECT: the client id must be the username, the
// credentials a bound device's, and a last will (which the broker never
// delivers anywhere but the device's own status topic) that topic, not
// retained. It returns the device or the CONNACK reason that refuses it.
func (b *Broker) authorize(c connect, remote string) (Device, byte) {
	switch {
	case c.authMethod:
		return Device{}, reasonBadAuthMethod
	case !c.usernameFlag || !c.passwordFlag:
		b.logger.Warn("mqtt login refused: no username or password", "client", c.clientID, "remote", remote)
		return Device{}, reasonBadCredentials
	case c.clientID != c.username:
		b.logger.Warn("mqtt login refused: client id must equal the username", "client", c.clientID, "username", c.username, "remote", remote)
		return Device{}, reasonBadClientID
	}
	d, ok := b.devices.AuthenticateMQTT(context.Background(), c.username, c.password)
	if !ok {
		b.logger.Warn("mqtt login refused", "username", c.username, "remote", remote)
		return Device{}, reasonBadCredentials
	}
	if c.willFlag && (c.willTopic != topicOf(d, "status") || c.willRetain) {
		b.logger.Warn("mqtt login refused: the last will must be the device's own status topic, not retained",
			"username", c.username, "will_topic", c.willTopic, "retain", c.willRetain, "remote", remote)
		return Device{}, reasonNotAuthorized
	}
	return d, reasonSuccess
}

// aside runs a login's database work (checking the credentials, recording
// presence) on a goroutine of its own and waits for it, at most
// loginsAtOnce at a time. The database calls need a deep stack, and a
// goroutine's stack shrinks back only slowly (by half at a garbage
// collection, while a quarter of it is in use): run on the connection's
// goroutine, they would leave every idle device holding tens of kilobytes.
// Logins beyond the bound wait here, not in memory, when a whole estate
// reconnects at once.
func (b *Broker) aside(f func()) {
	b.logins <- struct{}{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	<-b.logins
}

// establish makes s the session of its device, ending an older one (a
// takeover), and records the device 在线. The presence lock orders this
// against the end of the older session, so that its 离线 cannot land last.
func (b *Broker) establish(s *session) {
	lock := &b.presence[s.device.DeviceID%presenceStripes]
	lock.Lock()
	defer lock.Unlock()
	b.mu.Lock()
	old := b.sessions[s.clientID]
	b.sessions[s.clientID] = s
	b.mu.Unlock()
	if old != nil {
		old.disconnect(reasonSessionTakenOver)
	}
	b.devices.SetOnline(context.Background(), s.device.DeviceID, true, host(s.remote))
}

// end forgets a closed connection; when it was its device's current
// session the device is recorded 离线.
func (b *Broker) end(s *session) {
	if s.loggedIn {
		lock := &b.presence[s.device.DeviceID%presenceStripes]
		lock.Lock()
		defer lock.Unlock()
	}
	b.mu.Lock()
	delete(b.conns, s)
	current := s.loggedIn && b.sessions[s.clientID] == s
	if current {
		delete(b.sessions, s.clientID)
	}
	if topic := s.cmdTopic(); b.subs[topic] == s {
		delete(b.subs, topic)
	}
	b.mu.Unlock()
	if current {
		b.devices.SetOnline(context.Background(), s.device.DeviceID, false, host(s.remote))
	}
}

// session is one device connection, served by one goroutine that reads its
// packets; commands are written to it by whoever publishes them.
type session struct {
	broker   *Broker
	conn     net.Conn
	remote   string
	version  byte
	clientID string
	device   Device
	loggedIn bool
	// limits of an MQTT 5 client: the largest packet it takes (0: no
	// limit) and how many QoS 1 messages it takes unacknowledged.
	maxPacket  int
	receiveMax int
	granted    atomic.Uint32 // the QoS of its cmd subscription

	wmu    sync.Mutex // one write at a time
	closed atomic.Bool

	mu       sync.Mutex // the QoS 1 state below
	nextID   uint16
	inflight map[uint16]struct{}
	pending  []queued
	qos2     map[uint16]struct{} // QoS 2 packets awaiting their PUBREL
}

// queued is a QoS 1 command waiting for room in the device's window.
type queued struct {
	topic   string
	payload []byte
}

// serve logs the connection in and reads its packets until it ends.
func (s *session) serve() {
	b := s.broker
	defer b.running.Done()
	defer b.end(s)
	defer s.conn.Close()
	r := bufio.NewReaderSize(s.conn, readBuffer)
	keepAlive, err := s.login(r)
	if err != nil {
		s.fail(err)
		return
	}
	for {
		if keepAlive > 0 {
			// MQTT: one and a half keep-alive periods without a packet end
			// the session.
			_ = s.conn.SetReadDeadline(time.Now().Add(keepAlive * 3 / 2))
		}
		h, err := readPacket(r, maxPacket)
		if err == nil {
			err = s.handle(h)
		}
		if err != nil {
			s.fail(err)
			return
		}
	}
}

// login reads the CONNECT and answers it. It returns the keep-alive period
// of an established session.
func (s *session) login(r *bufio.Reader) (time.Duration, error) {
	b := s.broker
	_ = s.conn.SetReadDeadline(time.Now().Add(connectTimeout))
	h, err := readPacket(r, maxPacket)
	if err != nil {
		return 0, err
	}
	if h.kind != typeConnect || h.flags != 0 {
		return 0, violation(reasonProtocolError, "the first packet must be CONNECT")
	}
	c, err := parseConnect(h.body)
	if v := (*protocolError)(nil); errors.As(err, &v) && v.reason == reasonUnsupportedVersion {
		_ = s.write(encodeConnack(version311, reasonUnsupportedVersion))
		return 0, errQuiet
	}
	if err != nil {
		return 0, err
	}
	s.version = c.version
	reason := byte(reasonSuccess)
	b.aside(func() {
		var d Device
		if d, reason = b.authorize(c, s.remote); reason != reasonSuccess {
			return
		}
		s.clientID, s.device, s.loggedIn = c.clientID, d, true
		s.maxPacket, s.receiveMax = c.maxPacket, maxInflight
		if c.receiveMax > 0 {
			s.receiveMax = min(c.receiveMax, maxInflight)
		}
		b.establish(s)
	})
	if reason != reasonSuccess {
		_ = s.write(encodeConnack(c.version, reason))
		return 0, errQuiet
	}
	_ = s.conn.SetReadDeadline(time.Time{})
	if err := s.write(encodeConnack(c.version, reasonSuccess)); err != nil {
		return 0, err
	}
	return time.Duration(c.keepAlive) * time.Second, nil
}

// errQuiet ends a session that was already answered.
var errQuiet = errors.New("session ended")

// handle acts on one packet of a logged-in device.
func (s *session) handle(h header) error {
	switch h.kind {
	case typePublish:
		return s.onPublish(h)
	case typePuback:
		id, err := parsePacketID(h, 0)
		if err != nil {
			return err
		}
		s.acknowledged(id)
		return nil
	case typePubrel:
		id, err := parsePacketID(h, 0x02)
		if err != nil {
			return err
		}
		s.mu.Lock()
		delete(s.qos2, id)
		s.mu.Unlock()
		return s.write(encodeAck(typePubcomp<<4, id))
	case typeSubscribe:
		return s.subscribe(h)
	case typeUnsubscribe:
		return s.unsubscribe(h)
	case typePingreq:
		if h.flags != 0 || len(h.body) != 0 {
			return errMalformed
		}
		return s.write([]byte{typePingresp << 4, 0})
	case typeDisconnect:
		if err := parseDisconnect(h, s.version); err != nil {
			return err
		}
		return io.EOF
	default:
		// A second CONNECT, AUTH (no enhanced authentication here), or a
		// packet only a server sends; PUBREC and PUBCOMP answer QoS 2,
		// which the broker never sends.
		return violation(reasonProtocolError, "unexpected packet type %d", h.kind)
	}
}

// onPublish handles a PUBLISH of the device: answers to commands on its
// events topic reach the server; its status topic is accepted (presence
// follows the session itself); anything else is dropped.
func (s *session) onPublish(h header) error {
	p, err := parsePublish(h, s.version)
	if err != nil {
		return err
	}
	b := s.broker
	reason := byte(reasonSuccess)
	switch {
	case p.retain:
		if s.version == version5 {
			return violation(reasonRetainNotSupported, "retained publish on %s (retain is not available)", p.topic)
		}
		b.logger.Warn("mqtt: retained publish from a device refused", "client", s.clientID, "topic", p.topic)
		reason = reasonNotAuthorized
	case p.topic == topicOf(s.device, "events"):
		if p.qos == 2 && s.duplicate(p.packetID) {
			break
		}
		b.devices.DeviceMessage(context.Background(), s.device.DeviceID, p.payload)
	case p.topic == topicOf(s.device, "status"):
	default:
		b.logger.Warn("mqtt: publish outside the device's own topics dropped", "client", s.clientID, "topic", p.topic)
		reason = reasonNotAuthorized
	}
	switch p.qos {
	case 1:
		return s.write(encodeReasonAck(s.version, typePuback<<4, p.packetID, reason))
	case 2:
		return s.write(encodeReasonAck(s.version, typePubrec<<4, p.packetID, reason))
	}
	return nil
}

// duplicate records a QoS 2 packet id until its PUBREL and says whether it
// was already recorded (a resent PUBLISH, delivered once).
func (s *session) duplicate(id uint16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.qos2[id]; ok {
		return true
	}
	if s.qos2 == nil {
		s.qos2 = map[uint16]struct{}{}
	}
	s.qos2[id] = struct{}{}
	return false
}

// subscribe grants the device its own cmd topic, at QoS 0 or 1, and
// refuses every other filter.
func (s *session) subscribe(h header) error {
	id, subs, err := parseSubscribe(h, s.version)
	if err != nil {
		return err
	}
	own := s.cmdTopic()
	codes := make([]byte, len(subs))
	for i, sub := range subs {
		switch sub.filter {
		case own:
			q := min(sub.qos, 1)
			s.granted.Store(uint32(q))
			codes[i] = q
			b := s.broker
			b.mu.Lock()
			if b.sessions[s.clientID] == s {
				b.subs[own] = s
			}
			b.mu.Unlock()
		case "":
			codes[i] = reasonTopicFilterInvalid
		default:
			s.broker.logger.Warn("mqtt: subscription outside the device's own cmd topic refused", "client", s.clientID, "filter", sub.filter)
			codes[i] = reasonNotAuthorized
		}
	}
	return s.write(encodeSuback(s.version, id, codes))
}

func (s *session) unsubscribe(h header) error {
	id, filters, err := parseUnsubscribe(h, s.version)
	if err != nil {
		return err
	}
	own := s.cmdTopic()
	codes := make([]byte, len(filters))
	b := s.broker
	for i, f := range filters {
		codes[i] = reasonNoSubscriptionExisted
		b.mu.Lock()
		if f == own && b.subs[own] == s {
			delete(b.subs, own)
			codes[i] = reasonSuccess
		}
		b.mu.Unlock()
	}
	return s.write(encodeUnsuback(s.version, id, codes))
}

// send writes a command to the device. A QoS 1 command takes a packet id
// and waits in the queue while the device's window is full.
func (s *session) send(topic string, payload []byte, qos byte) error {
	var id uint16
	if qos > 0 {
		s.mu.Lock()
		if len(s.inflight) >= s.receiveMax {
			if len(s.pending) >= maxPending {
				s.mu.Unlock()
				return fmt.Errorf("mqtt: %s has %d commands waiting; dropped one for %s", s.clientID, maxPending, topic)
			}
			s.pending = append(s.pending, queued{topic, payload})
			s.mu.Unlock()
			return nil
		}
		id = s.newPacketID()
		s.mu.Unlock()
	}
	return s.write(s.publishPacket(topic, payload, qos, id))
}

// publishPacket encodes a command, or returns nil when it is bigger than
// the device takes (MQTT 5 forbids sending it).
func (s *session) publishPacket(topic string, payload []byte, qos byte, id uint16) []byte {
	pk := encodePublish(s.version, topic, payload, qos, id)
	if s.maxPacket > 0 && len(pk) > s.maxPacket {
		s.broker.logger.Warn("mqtt: command bigger than the device takes dropped", "client", s.clientID, "bytes", len(pk), "max", s.maxPacket)
		if qos > 0 {
			s.acknowledged(id)
		}
		return nil
	}
	return pk
}

// newPacketID takes a free packet id (s.mu held).
func (s *session) newPacketID() uint16 {
	if s.inflight == nil {
		s.inflight = map[uint16]struct{}{}
	}
	for {
		s.nextID++
		if s.nextID == 0 {
			s.nextID = 1
		}
		if _, used := s.inflight[s.nextID]; !used {
			s.inflight[s.nextID] = struct{}{}
			return s.nextID
		}
	}
}

// acknowledged frees a packet id and sends the next queued command.
func (s *session) acknowledged(id uint16) {
	s.mu.Lock()
	delete(s.inflight, id)
	if len(s.pending) == 0 || len(s.inflight) >= s.receiveMax {
		s.mu.Unlock()
		return
	}
	next := s.pending[0]
	s.pending = s.pending[1:]
	nid := s.newPacketID()
	s.mu.Unlock()
	_ = s.write(s.publishPacket(next.topic, next.payload, 1, nid))
}

// write sends one packet; a failed or timed-out write ends the session.
func (s *session) write(pk []byte) error {
	if pk == nil {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return net.ErrClosed
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := s.conn.Write(pk); err != nil {
		s.closed.Store(true)
		s.conn.Close()
		return err
	}
	return nil
}

// disconnect ends the session from the broker's side, telling an MQTT 5
// device why.
func (s *session) disconnect(reason byte) {
	if s.version == version5 {
		_ = s.write(encodeDisconnect(s.version, reason))
	}
	s.wmu.Lock()
	s.closed.Store(true)
	s.wmu.Unlock()
	s.conn.Close()
}

// fail ends the session after err: a broken protocol is told to an MQTT 5
// device (DISCONNECT with the reason) and logged.
func (s *session) fail(err error) {
	if s.closed.Load() || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, errQuiet) {
		return
	}
	reason := byte(reasonUnspecified)
	var v *protocolError
	switch {
	case errors.As(err, &v):
		reason = v.reason
	case errors.Is(err, errMalformed):
		reason = reasonMalformed
	case errors.Is(err, os.ErrDeadlineExceeded):
		if !s.loggedIn {
			return // no CONNECT in time: a port scan or a stuck client
		}
		reason = reasonKeepAliveTimeout
	case errors.Is(err, io.ErrUnexpectedEOF):
		return
	}
	if s.loggedIn {
		s.broker.logger.Info("mqtt session ended", "client", s.clientID, "remote", s.remote, "reason", fmt.Sprintf("%#x", reason), "err", err)
	} else {
		s.broker.logger.Info("mqtt connection refused", "remote", s.remote, "reason", fmt.Sprintf("%#x", reason), "err", err)
	}
	s.disconnect(reason)
}

// cmdTopic is the one topic the device may subscribe to.
func (s *session) cmdTopic() string {
	if !s.loggedIn {
		return ""
	}
	return topicOf(s.device, "cmd")
}

// topicOf names one of a device's topics (cmd, status or events).
func topicOf(d Device, kind string) string {
	return fmt.Sprintf("linli/%d/device/%d/%s", d.CommunityID, d.DeviceID, kind)
}

func host(remote string) string {
	if i := strings.LastIndexByte(remote, ':'); i > 0 {
		return strings.Trim(remote[:i], "[]")
	}
	return remote
}
