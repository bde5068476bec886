package mqtt

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The control packet types of MQTT 3.1.1 and 5 (the high four bits of the
// first byte).
const (
	typeConnect     = 1
	typeConnack     = 2
	typePublish     = 3
	typePuback      = 4
	typePubrec      = 5
	typePubrel      = 6
	typePubcomp     = 7
	typeSubscribe   = 8
	typeSuback      = 9
	typeUnsubscribe = 10
	typeUnsuback    = 11
	typePingreq     = 12
	typePingresp    = 13
	typeDisconnect  = 14
	typeAuth        = 15
)

// Protocol levels of the CONNECT packet.
const (
	version31  = 3
	version311 = 4
	version5   = 5
)

// Reason codes of MQTT 5 that the broker sends. MQTT 3.1.1 has a smaller
// set of CONNACK return codes; connackCode maps them.
const (
	reasonSuccess               = 0x00
	reasonNoSubscriptionExisted = 0x11
	reasonUnspecified           = 0x80
	reasonMalformed             = 0x81
	reasonProtocolError         = 0x82
	reasonUnsupportedVersion    = 0x84
	reasonBadClientID           = 0x85
	reasonBadCredentials        = 0x86
	reasonNotAuthorized         = 0x87
	reasonServerShuttingDown    = 0x8B
	reasonBadAuthMethod         = 0x8C
	reasonKeepAliveTimeout      = 0x8D
	reasonSessionTakenOver      = 0x8E
	reasonTopicNameInvalid      = 0x90
	reasonPacketTooLarge        = 0x95
	reasonRetainNotSupported    = 0x9A
	reasonTopicFilterInvalid    = 0x8F
)

// maxPacket is the largest packet a device may send: commands' answers and
// status messages are a few hundred bytes. MQTT 5 clients are told it in
// the CONNACK; a bigger packet ends the session.
const maxPacket = 64 << 10

// errMalformed is a packet that does not follow the protocol; the session
// ends (MQTT 5: DISCONNECT 0x81 first).
var errMalformed = errors.New("malformed packet")

// protocolError is a well-formed packet the protocol forbids here; the
// session ends with its reason.
type protocolError struct {
	reason byte
	msg    string
}

func (e *protocolError) Error() string { return e.msg }

func violation(reason byte, format string, args ...any) error {
	return &protocolError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// header is a packet's fixed header with its body read.
type header struct {
	kind  byte // packet type
	flags byte // low four bits of the first byte
	body  []byte
}

// readPacket reads one packet. A remaining length over limit is refused
// before its body is read.
func readPacket(r *bufio.Reader, limit int) (header, error) {
	first, err := r.ReadByte()
	if err != nil {
		return header{}, err
	}
	n, err := readVarint(r)
	if err != nil {
		return header{}, err
	}
	if n > limit {
		return header{}, violation(reasonPacketTooLarge, "packet of %d bytes is over the limit of %d", n, limit)
	}
	h := header{kind: first >> 4, flags: first & 0x0f}
	if n > 0 {
		h.body = make([]byte, n)
		if _, err := io.ReadFull(r, h.body); err != nil {
			return header{}, err
		}
	}
	return h, nil
}

// readVarint reads a variable byte integer (at most four bytes).
func readVarint(r io.ByteReader) (int, error) {
	n, shift := 0, 0
	for i := 0; i < 4; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		n |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			return n, nil
		}
		shift += 7
	}
	return 0, errMalformed
}

// appendVarint appends n as a variable byte integer.
func appendVarint(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

// decoder reads the fields of a packet body in order. The first error
// sticks: later reads return zero values, so a decode is checked once at
// the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errMalformed
	}
}

// take returns the next n bytes, or nil (and the error) when the body
// holds fewer.
func (d *decoder) take(n int) []byte {
	if d.err != nil || len(d.b) < n {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) uint16() uint16 {
	if v := d.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (d *decoder) uint32() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

// ReadByte lets readVarint read from the body.
func (d *decoder) ReadByte() (byte, error) {
	v := d.byte()
	return v, d.err
}

func (d *decoder) varint() int {
	n, err := readVarint(d)
	if err != nil {
		d.fail()
	}
	return n
}

// binary reads two-byte length-prefixed data.
func (d *decoder) binary() []byte {
	return d.take(int(d.uint16()))
}

// string reads a UTF-8 string; MQTT forbids invalid UTF-8 and U+0000.
func (d *decoder) string() string {
	v := d.binary()
	if d.err == nil && (!utf8.Valid(v) || bytes.IndexByte(v, 0) >= 0) {
		d.fail()
	}
	return string(v)
}

// properties reads an MQTT 5 property list, calling use for each property
// with its numeric value (zero for strings and binary data, whose values no
// caller needs).
func (d *decoder) properties(use func(id byte, value int)) {
	props := decoder{b: d.take(d.varint())}
	if d.err != nil {
		return
	}
	for len(props.b) > 0 && props.err == nil {
		id := props.byte()
		value := 0
		switch id {
		case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A:
			value = int(props.byte())
		case 0x13, 0x21, 0x22, 0x23:
			value = int(props.uint16())
		case 0x02, 0x11, 0x18, 0x27:
			value = int(props.uint32())
		case 0x0B:
			value = props.varint()
		case 0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F:
			props.string()
		case 0x09, 0x16:
			props.binary()
		case 0x26:
			props.string()
			props.string()
		default:
			props.fail()
		}
		if props.err == nil && use != nil {
			use(id, value)
		}
	}
	if props.err != nil {
		d.err = props.err
	}
}

// connect is what the broker needs of a CONNECT packet.
type connect struct {
	version      byte
	clientID     string
	username     string
	password     string
	keepAlive    uint16
	willFlag     bool
	willTopic    string
	willRetain   bool
	willQoS      byte
	receiveMax   int // MQTT 5: how many QoS 1 messages may be unacknowledged at once
	maxPacket    int // MQTT 5: the largest packet the client takes; 0 is no limit
	authMethod   bool
	usernameFlag bool
	passwordFlag bool
}

// parseConnect decodes a CONNECT body. An unknown protocol level comes back
// as a violation with reasonUnsupportedVersion, so that the broker can
// answer in the client's terms.
func parseConnect(body []byte) (connect, error) {
	d := decoder{b: body}
	name := d.string()
	c := connect{version: d.byte()}
	if d.err != nil {
		return c, d.err
	}
	switch {
	case name == "MQTT" && (c.version == version311 || c.version == version5):
	case name == "MQIsdp" && c.version == version31:
	default:
		return c, violation(reasonUnsupportedVersion, "protocol %q level %d is not supported", name, c.version)
	}
	flags := d.byte()
	if flags&0x01 != 0 {
		return c, errMalformed // the reserved flag must be 0
	}
	c.keepAlive = d.uint16()
	zeroLimit := false // a receive maximum or maximum packet size of 0
	if c.version == version5 {
		d.properties(func(id byte, v int) {
			switch id {
			case 0x21:
				c.receiveMax, zeroLimit = v, zeroLimit || v == 0
			case 0x27:
				c.maxPacket, zeroLimit = v, zeroLimit || v == 0
			case 0x15:
				c.authMethod = true
			}
		})
	}
	c.clientID = d.string()
	c.willFlag = flags&0x04 != 0
	c.willQoS = (flags >> 3) & 0x03
	c.willRetain = flags&0x20 != 0
	if !c.willFlag && (c.willQoS != 0 || c.willRetain) || c.willQoS > 2 {
		return c, errMalformed
	}
	if c.willFlag {
		if c.version == version5 {
			d.properties(nil)
		}
		c.willTopic = d.string()
		d.binary() // the will's payload
	}
	c.usernameFlag, c.passwordFlag = flags&0x80 != 0, flags&0x40 != 0
	if c.usernameFlag {
		c.username = d.string()
	}
	if c.passwordFlag {
		c.password = string(d.binary())
	}
	if d.err != nil {
		return c, d.err
	}
	if len(d.b) > 0 {
		return c, errMalformed
	}
	if zeroLimit {
		return c, violation(reasonProtocolError, "receive maximum and maximum packet size may not be 0")
	}
	return c, nil
}

// publish is an incoming PUBLISH.
type publish struct {
	qos      byte
	retain   bool
	topic    string
	packetID uint16
	payload  []byte
}

func parsePublish(h header, version byte) (publish, error) {
	p := publish{qos: (h.flags >> 1) & 0x03, retain: h.flags&0x01 != 0}
	if p.qos > 2 {
		return p, errMalformed
	}
	d := decoder{b: h.body}
	p.topic = d.string()
	if p.qos > 0 {
		p.packetID = d.uint16()
		if d.err == nil && p.packetID == 0 {
			return p, errMalformed
		}
	}
	alias := false
	if version == version5 {
		d.properties(func(id byte, _ int) { alias = alias || id == 0x23 })
	}
	if d.err != nil {
		return p, d.err
	}
	if alias {
		return p, violation(reasonProtocolError, "topic aliases are not accepted (topic alias maximum is 0)")
	}
	if p.topic == "" || strings.ContainsAny(p.topic, "+#") {
		return p, violation(reasonTopicNameInvalid, "topic name %q is not valid", p.topic)
	}
	p.payload = d.b
	return p, nil
}

// subscription is one topic filter of a SUBSCRIBE.
type subscription struct {
	filter string
	qos    byte
}

// parseSubscribe decodes a SUBSCRIBE (its fixed-header flags must be 0010).
func parseSubscribe(h header, version byte) (uint16, []subscription, error) {
	if h.flags != 0x02 {
		return 0, nil, errMalformed
	}
	d := decoder{b: h.body}
	id := d.uint16()
	if version == version5 {
		d.properties(nil)
	}
	var subs []subscription
	for d.err == nil && len(d.b) > 0 {
		s := subscription{filter: d.string()}
		opts := d.byte()
		s.qos = opts & 0x03
		if s.qos > 2 || opts&0xc0 != 0 || version != version5 && opts&0xfc != 0 {
			return 0, nil, errMalformed
		}
		subs = append(subs, s)
	}
	if d.err != nil {
		return 0, nil, d.err
	}
	if id == 0 || len(subs) == 0 {
		return 0, nil, errMalformed
	}
	return id, subs, nil
}

// parseUnsubscribe decodes an UNSUBSCRIBE (flags 0010).
func parseUnsubscribe(h header, version byte) (uint16, []string, error) {
	if h.flags != 0x02 {
		return 0, nil, errMalformed
	}
	d := decoder{b: h.body}
	id := d.uint16()
	if version == version5 {
		d.properties(nil)
	}
	var filters []string
	for d.err == nil && len(d.b) > 0 {
		filters = append(filters, d.string())
	}
	if d.err != nil || id == 0 || len(filters) == 0 {
		return 0, nil, errMalformed
	}
	return id, filters, nil
}

// parsePacketID reads the packet identifier that PUBACK and PUBREL start
// with (MQTT 5 may add a reason and properties, not needed); flags are what
// the packet type's fixed header must carry.
func parsePacketID(h header, flags byte) (uint16, error) {
	if h.flags != flags || len(h.body) < 2 {
		return 0, errMalformed
	}
	return binary.BigEndian.Uint16(h.body), nil
}

// parseDisconnect checks a DISCONNECT (its MQTT 5 reason and properties are
// not needed: every end of a session is handled alike).
func parseDisconnect(h header, version byte) error {
	if h.flags != 0 {
		return errMalformed
	}
	if version != version5 || len(h.body) == 0 {
		return nil
	}
	d := decoder{b: h.body}
	d.byte()
	if len(d.b) > 0 {
		d.properties(nil)
	}
	return d.err
}

// The packets the broker sends.

// connackProperties are the broker's limits, told to MQTT 5 clients: no
// retained messages, and the largest packet it takes. Subscriptions other
// than the device's own cmd topic (wildcards among them) are refused one
// by one in the SUBACK, as not authorized.
func connackProperties() []byte {
	var p []byte
	p = append(p, 0x25, 0) // retain available: no
	p = append(p, 0x27)    // maximum packet size
	p = binary.BigEndian.AppendUint32(p, maxPacket)
	return p
}

// encodeConnack answers a CONNECT with reason (an MQTT 5 code; for older
// clients the nearest return code). No session is ever kept, so session
// present is always 0.
func encodeConnack(version, reason byte) []byte {
	if version != version5 {
		return []byte{typeConnack << 4, 2, 0, connackCode(reason)}
	}
	var props []byte
	if reason == reasonSuccess {
		props = connackProperties()
	}
	body := appendVarint([]byte{0, reason}, len(props))
	body = append(body, props...)
	return frame(typeConnack<<4, body)
}

// connackCode maps an MQTT 5 CONNACK reason to an MQTT 3.1.1 return code.
func connackCode(reason byte) byte {
	switch reason {
	case reasonSuccess:
		return 0
	case reasonUnsupportedVersion:
		return 1
	case reasonBadClientID:
		return 2
	case reasonServerShuttingDown:
		return 3
	case reasonBadCredentials:
		return 4
	default:
		return 5 // not authorized
	}
}

// encodePublish builds a PUBLISH of payload on topic, never retained.
func encodePublish(version byte, topic string, payload []byte, qos byte, packetID uint16) []byte {
	body := make([]byte, 0, 2+len(topic)+2+1+len(payload))
	body = binary.BigEndian.AppendUint16(body, uint16(len(topic)))
	body = append(body, topic...)
	if qos > 0 {
		body = binary.BigEndian.AppendUint16(body, packetID)
	}
	if version == version5 {
		body = append(body, 0) // no properties
	}
	body = append(body, payload...)
	return frame(typePublish<<4|qos<<1, body)
}

// encodeAck builds a PUBACK, PUBREC, PUBREL or PUBCOMP (success, so MQTT 5
// may leave the reason out) or an UNSUBACK of MQTT 3.1.1.
func encodeAck(first byte, packetID uint16) []byte {
	return []byte{first, 2, byte(packetID >> 8), byte(packetID)}
}

// encodeReasonAck builds a PUBACK, PUBREC or PUBCOMP with an MQTT 5 reason
// (older clients get the bare acknowledgement).
func encodeReasonAck(version, first byte, packetID uint16, reason byte) []byte {
	if version != version5 || reason == reasonSuccess {
		return encodeAck(first, packetID)
	}
	return []byte{first, 3, byte(packetID >> 8), byte(packetID), reason}
}

// encodeSuback answers a SUBSCRIBE with one code per filter.
func encodeSuback(version byte, packetID uint16, codes []byte) []byte {
	body := binary.BigEndian.AppendUint16(nil, packetID)
	if version == version5 {
		body = append(body, 0)
	} else {
		for i, c := range codes {
			if c >= 0x80 {
				codes[i] = 0x80 // MQTT 3.1.1 has one failure code
			}
		}
	}
	return frame(typeSuback<<4, append(body, codes...))
}

// encodeUnsuback answers an UNSUBSCRIBE (MQTT 5 with one code per filter).
func encodeUnsuback(version byte, packetID uint16, codes []byte) []byte {
	if version != version5 {
		return encodeAck(typeUnsuback<<4, packetID)
	}
	body := binary.BigEndian.AppendUint16(nil, packetID)
	body = append(body, 0)
	return frame(typeUnsuback<<4, append(body, codes...))
}

// encodeDisconnect builds the DISCONNECT an MQTT 5 session ends with; older
// clients are simply disconnected, so it is nil for them.
func encodeDisconnect(version, reason byte) []byte {
	if version != version5 {
		return nil
	}
	return []byte{typeDisconnect << 4, 1, reason}
}

// frame prefixes body with its fixed header.
func frame(first byte, body []byte) []byte {
	b := appendVarint([]byte{first}, len(body))
	return append(b, body...)
}
