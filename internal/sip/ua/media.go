package ua

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

const (
	samplesPerFrame = 160 // 20 ms at 8 kHz
	frameInterval   = 20 * time.Millisecond
	// dtmfDuration is how long a sent RFC 4733 digit lasts (in samples:
	// 100 ms), and dtmfEndRepeats how often its end packet is repeated.
	dtmfDuration   = 800
	dtmfEndRepeats = 3
)

// MediaStats counts the RTP of a call. PacketsSent and PacketsReceived are
// audio only; video has its own counts.
type MediaStats struct {
	PacketsSent     int64 `json:"rtp_sent"`
	PacketsReceived int64 `json:"rtp_received"`
	// Codec is the negotiated audio codec (PCMU or PCMA), "" before answer.
	Codec string `json:"codec,omitempty"`
	// H.264 packets, when video was negotiated.
	VideoSent     int64 `json:"video_sent,omitempty"`
	VideoReceived int64 `json:"video_received,omitempty"`
	// KeyframeRequests counts the peer's asks for a key frame: RTCP PLI or
	// FIR, or SIP INFO picture_fast_update.
	KeyframeRequests int64 `json:"keyframe_requests"`
	// VideoProfile is the profile-level-id of the H.264 received, from its
	// first SPS (42e01f: constrained baseline, level 3.1).
	VideoProfile string `json:"video_profile,omitempty"`
}

// media is one call's RTP: a UDP socket that receives from the moment
// the offer or answer is sent and, once started, a 20 ms sender of a G.711
// tone to the peer's address, with RFC 4733 digits mixed in on request.
type media struct {
	conn   *net.UDPConn
	logger *slog.Logger
	onDTMF func(digit string)

	sent, received atomic.Int64

	mu     sync.Mutex
	remote netip.AddrPort
	codec  uint8
	event  uint8 // telephone-event payload type the peer understands, 0 if none
	digits []byte
	start  sync.Once
	codecN atomic.Value // string

	stop chan struct{}
	wg   sync.WaitGroup
}

// newMedia opens the RTP socket on ip (port chosen by the system) and starts
// receiving.
func newMedia(ip netip.Addr, logger *slog.Logger, onDTMF func(string)) (*media, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return nil, err
	}
	m := &media{conn: conn, logger: logger, onDTMF: onDTMF, stop: make(chan struct{})}
	m.wg.Add(1)
	go m.receive()
	return m, nil
}

// LocalAddr is where the call receives RTP.
func (m *media) LocalAddr() netip.AddrPort { return m.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Start begins sending to the peer with the negotiated codec (once; later
// calls only update where to send).
func (m *media) Start(remote netip.AddrPort, codec, event uint8) {
	m.mu.Lock()
	m.remote, m.codec, m.event = remote, codec, event
	m.mu.Unlock()
	name := "PCMU"
	if codec == ptPCMA {
		name = "PCMA"
	}
	m.codecN.Store(name)
	m.start.Do(func() {
		m.wg.Add(1)
		go m.send()
	})
}

// SendDigits queues RFC 4733 telephone events; it fails when the peer did
// not offer telephone-event.
func (m *media) SendDigits(digits string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.event == 0 {
		return errors.New("对方不支持 RFC 4733 按键（telephone-event），请改用 SIP INFO")
	}
	for i := range len(digits) {
		if _, ok := dtmfEvent(digits[i]); !ok {
			return errors.New("按键只能是 0-9、*、#、A-D")
		}
	}
	m.digits = append(m.digits, digits...)
	return nil
}

// Stats returns the packet counts.
func (m *media) Stats() MediaStats {
	s := MediaStats{PacketsSent: m.sent.Load(), PacketsReceived: m.received.Load()}
	if c, ok := m.codecN.Load().(string); ok {
		s.Codec = c
	}
	return s
}

// Close stops sending and receiving and waits for both.
func (m *media) Close() {
	select {
	case <-m.stop:
		return
	default:
	}
	close(m.stop)
	_ = m.conn.Close()
	m.wg.Wait()
}

func (m *media) send() {
	defer m.wg.Done()
	tones := map[uint8][]byte{ptPCMU: toneFrame(ulaw), ptPCMA: toneFrame(alaw)}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, Marker: true,
		SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32(), SSRC: rand.Uint32()}}
	var (
		buf      = make([]byte, 1500)
		digit    byte
		evDur    int // samples of the current digit sent so far
		endsSent int
	)
	t := time.NewTicker(frameInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		m.mu.Lock()
		// A later answer (another fork of the call) may change both.
		remote, event, codec := m.remote, m.event, m.codec
		if digit == 0 && len(m.digits) > 0 {
			digit, m.digits = m.digits[0], m.digits[1:]
			evDur, endsSent = 0, 0
		}
		m.mu.Unlock()
		if digit != 0 {
			// A digit replaces the tone for its duration: every packet of an
			// event carries the event's start timestamp (RFC 4733 §2.5).
			code, _ := dtmfEvent(digit)
			evDur = min(evDur+samplesPerFrame, dtmfDuration)
			end := evDur == dtmfDuration
			pkt.PayloadType, pkt.Marker = event, evDur == samplesPerFrame
			flags := byte(10) // volume −10 dBm0
			if end {
				flags |= 0x80
				endsSent++
			}
			pkt.Payload = []byte{code, flags, 0, 0}
			binary.BigEndian.PutUint16(pkt.Payload[2:], uint16(evDur))
			m.write(&pkt, buf, remote)
			pkt.SequenceNumber++
			if end && endsSent == dtmfEndRepeats {
				digit = 0
				pkt.Timestamp += dtmfDuration
			}
			continue
		}
		pkt.PayloadType, pkt.Payload = codec, tones[codec]
		m.write(&pkt, buf, remote)
		pkt.Marker = false
		pkt.SequenceNumber++
		pkt.Timestamp += samplesPerFrame
	}
}

func (m *media) write(pkt *rtp.Packet, buf []byte, to netip.AddrPort) {
	n, err := pkt.MarshalTo(buf)
	if err != nil {
		return
	}
	if _, err := m.conn.WriteToUDPAddrPort(buf[:n], to); err == nil {
		m.sent.Add(1)
	}
}

func (m *media) receive() {
	defer m.wg.Done()
	buf := make([]byte, 2048)
	var (
		pkt       rtp.Packet
		lastEvent uint32
		anyEvent  bool
	)
	for {
		n, _, err := m.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-m.stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if pkt.Unmarshal(buf[:n]) != nil || pkt.Version != 2 {
			continue
		}
		m.received.Add(1)
		m.mu.Lock()
		event := m.event
		m.mu.Unlock()
		isEvent := pkt.PayloadType == event && event != 0 || event == 0 && pkt.PayloadType == ptTelephoneEvent
		if !isEvent || len(pkt.Payload) < 4 {
			continue
		}
		// Every packet of one event repeats its timestamp: report the digit
		// at the first one seen, so a lost start or end packet costs nothing.
		if anyEvent && pkt.Timestamp == lastEvent {
			continue
		}
		anyEvent, lastEvent = true, pkt.Timestamp
		if d, ok := dtmfDigit(pkt.Payload[0]); ok && m.onDTMF != nil {
			m.onDTMF(string(d))
		}
	}
}

const dtmfDigits = "0123456789*#ABCD"

// dtmfEvent is the RFC 4733 event code of a key.
func dtmfEvent(d byte) (byte, bool) {
	for i := range len(dtmfDigits) {
		if dtmfDigits[i] == d || d >= 'a' && d <= 'd' && dtmfDigits[i] == d-'a'+'A' {
			return byte(i), true
		}
	}
	return 0, false
}

// dtmfDigit is the key of an RFC 4733 event code.
func dtmfDigit(code byte) (byte, bool) {
	if int(code) < len(dtmfDigits) {
		return dtmfDigits[code], true
	}
	return 0, false
}
