package ua

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"linli/internal/clip"
)

// videoMTU bounds an RTP payload; larger NAL units go as FU-A fragments.
const videoMTU = 1200

// video is one call's H.264 stream: an RTP socket on an even port
// receiving (counted) from the offer on, an RTCP socket on the port above
// it listening for key frame requests, and, once started, the door's
// camera clip sent at its 25 frames a second, looped.
type video struct {
	conn, rtcp     *net.UDPConn
	sent, received atomic.Int64
	keyRequests    atomic.Int64
	wantKey        atomic.Bool  // the next frame sent is a key frame
	profile        atomic.Value // string: profile-level-id of the first SPS received

	mu     sync.Mutex
	remote netip.AddrPort
	pt     uint8

	start sync.Once
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newVideo(ip netip.Addr) (*video, error) {
	conn, rtcpConn, err := listenPair(ip)
	if err != nil {
		return nil, err
	}
	v := &video{conn: conn, rtcp: rtcpConn, stop: make(chan struct{})}
	v.wg.Add(2)
	go v.receive()
	go v.receiveRTCP()
	return v, nil
}

// listenPair opens an RTP socket on an even port and its RTCP socket on
// the next one, as devices that do not announce a=rtcp expect (RFC 3550
// §11).
func listenPair(ip netip.Addr) (rtpConn, rtcpConn *net.UDPConn, err error) {
	for range 50 {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return nil, nil, err
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		other := port + 1
		if port%2 == 1 {
			other = port - 1
		}
		o, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(other))))
		if err != nil {
			_ = c.Close()
			continue
		}
		if port%2 == 0 {
			return c, o, nil
		}
		return o, c, nil
	}
	return nil, nil, errors.New("ua: no free RTP/RTCP port pair")
}

func (v *video) LocalAddr() netip.AddrPort { return v.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Start begins sending to the peer (the sender starts once; a later call,
// for a later answer of a forked call, moves it to the new address).
func (v *video) Start(remote netip.AddrPort, pt uint8) {
	v.mu.Lock()
	v.remote, v.pt = remote, pt
	v.mu.Unlock()
	v.start.Do(func() {
		v.wg.Add(1)
		go v.send()
	})
}

// RequestKeyframe makes the next frame sent the clip's next key frame
// (with its SPS and PPS), for a viewer that just joined or lost packets.
func (v *video) RequestKeyframe() {
	v.keyRequests.Add(1)
	v.wantKey.Store(true)
}

func (v *video) Close() {
	select {
	case <-v.stop:
		return
	default:
	}
	close(v.stop)
	_ = v.conn.Close()
	_ = v.rtcp.Close()
	v.wg.Wait()
}

func (v *video) send() {
	defer v.wg.Done()
	frames := clip.Door()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()),
		Timestamp: rand.Uint32(), SSRC: rand.Uint32()}}
	buf := make([]byte, 1500)
	t := time.NewTicker(time.Second / clip.FPS)
	defer t.Stop()
	for i := 0; ; i = (i + 1) % len(frames) {
		if v.wantKey.Swap(false) {
			i = nextKeyframe(frames, i)
		}
		v.mu.Lock()
		remote, pt := v.remote, v.pt
		v.mu.Unlock()
		pkt.PayloadType = pt
		payloads := packetizeH264(frames[i].NALs, videoMTU)
		for j, p := range payloads {
			pkt.Payload, pkt.Marker = p, j == len(payloads)-1
			if n, err := pkt.MarshalTo(buf); err == nil {
				if _, err := v.conn.WriteToUDPAddrPort(buf[:n], remote); err == nil {
					v.sent.Add(1)
				}
			}
			pkt.SequenceNumber++
		}
		pkt.Timestamp += 90000 / clip.FPS
		select {
		case <-v.stop:
			return
		case <-t.C:
		}
	}
}

// nextKeyframe is the index of the first key frame at or after i, going
// round to the clip's start.
func nextKeyframe(frames []clip.Frame, i int) int {
	for j := range len(frames) {
		if k := (i + j) % len(frames); frames[k].Key {
			return k
		}
	}
	return i
}

// packetizeH264 makes the RTP payloads of one access unit
// (packetization-mode=1, RFC 6184): a NAL unit that fits goes alone, a
// larger one as FU-A fragments.
func packetizeH264(nals [][]byte, mtu int) [][]byte {
	var out [][]byte
	for _, n := range nals {
		if len(n) == 0 {
			continue
		}
		if len(n) <= mtu {
			out = append(out, n)
			continue
		}
		indicator := n[0]&0xE0 | 28 // F and NRI of the unit, type FU-A
		typ := n[0] & 0x1F
		rest := n[1:]
		for first := true; len(rest) > 0; first = false {
			size := min(len(rest), mtu-2)
			header := typ
			if first {
				header |= 0x80
			}
			if size == len(rest) {
				header |= 0x40
			}
			p := make([]byte, 0, 2+size)
			p = append(p, indicator, header)
			out = append(out, append(p, rest[:size]...))
			rest = rest[size:]
		}
	}
	return out
}

func (v *video) receive() {
	defer v.wg.Done()
	buf := make([]byte, 2048)
	var pkt rtp.Packet
	for {
		n, _, err := v.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-v.stop:
				return
			default:
				continue
			}
		}
		// RTCP multiplexed on the RTP port (RFC 5761): packet types 192–223.
		if n >= 2 && buf[1] >= 192 && buf[1] <= 223 {
			v.onRTCP(buf[:n])
			continue
		}
		if pkt.Unmarshal(buf[:n]) == nil && pkt.Version == 2 {
			v.received.Add(1)
			if v.profile.Load() == nil {
				if p, ok := spsProfile(pkt.Payload); ok {
					v.profile.Store(p)
				}
			}
		}
	}
}

func (v *video) receiveRTCP() {
	defer v.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, _, err := v.rtcp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-v.stop:
				return
			default:
				continue
			}
		}
		v.onRTCP(buf[:n])
	}
}

// onRTCP answers a picture loss indication or a full intra request with
// a key frame.
func (v *video) onRTCP(b []byte) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	for _, p := range pkts {
		switch p.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			v.RequestKeyframe()
			return
		}
	}
}

// spsProfile returns the profile-level-id (as in SDP: 42e01f) of an SPS
// carried by an RTP payload: alone, as the first FU-A fragment, or first
// in a STAP-A.
func spsProfile(p []byte) (string, bool) {
	var sps []byte
	switch {
	case len(p) >= 4 && p[0]&0x1F == 7:
		sps = p[1:]
	case len(p) >= 5 && p[0]&0x1F == 28 && p[1]&0x80 != 0 && p[1]&0x1F == 7:
		sps = p[2:]
	case len(p) >= 7 && p[0]&0x1F == 24 && p[3]&0x1F == 7:
		sps = p[4:]
	default:
		return "", false
	}
	return fmt.Sprintf("%02x%02x%02x", sps[0], sps[1], sps[2]), true
}
