package ua

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// videoMTU bounds an RTP payload; larger NAL units go as FU-A fragments.
const videoMTU = 1200

// video is one call's H.264 stream: a UDP socket receiving (counted) from
// the offer on, and, once started, the test pattern sent at 25 frames a
// second.
type video struct {
	conn           *net.UDPConn
	sent, received atomic.Int64
	start          sync.Once
	stop           chan struct{}
	wg             sync.WaitGroup
}

func newVideo(ip netip.Addr) (*video, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return nil, err
	}
	v := &video{conn: conn, stop: make(chan struct{})}
	v.wg.Add(1)
	go v.receive()
	return v, nil
}

func (v *video) LocalAddr() netip.AddrPort { return v.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Start begins sending to the peer (once).
func (v *video) Start(remote netip.AddrPort, pt uint8) {
	v.start.Do(func() {
		v.wg.Add(1)
		go v.send(remote, pt)
	})
}

func (v *video) Close() {
	select {
	case <-v.stop:
		return
	default:
	}
	close(v.stop)
	_ = v.conn.Close()
	v.wg.Wait()
}

func (v *video) send(remote netip.AddrPort, pt uint8) {
	defer v.wg.Done()
	pay := &codecs.H264Payloader{}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(rand.Uint32()),
		Timestamp: rand.Uint32(), SSRC: rand.Uint32()}}
	buf := make([]byte, 1500)
	t := time.NewTicker(time.Second / videoFPS)
	defer t.Stop()
	for i := 0; ; i++ {
		payloads := pay.Payload(videoMTU, videoFrame(i))
		for j, p := range payloads {
			pkt.Payload, pkt.Marker = p, j == len(payloads)-1
			if n, err := pkt.MarshalTo(buf); err == nil {
				if _, err := v.conn.WriteToUDPAddrPort(buf[:n], remote); err == nil {
					v.sent.Add(1)
				}
			}
			pkt.SequenceNumber++
		}
		pkt.Timestamp += 90000 / videoFPS
		select {
		case <-v.stop:
			return
		case <-t.C:
		}
	}
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
		if pkt.Unmarshal(buf[:n]) == nil && pkt.Version == 2 {
			v.received.Add(1)
		}
	}
}
