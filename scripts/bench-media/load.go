package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"linli/internal/clip"
)

// clipPackets is the door clip as a door station packetizes it: FU-A at
// MTU 1200, one slice of RTP payloads per frame.
func clipPackets() [][][]byte {
	var p codecs.H264Payloader
	var out [][][]byte
	for _, f := range clip.Door() {
		var au []byte
		for _, n := range f.NALs {
			au = append(au, 0, 0, 0, 1)
			au = append(au, n...)
		}
		out = append(out, p.Payload(1200, au))
	}
	return out
}

// device is a simulated door station: the clip at 25 frames a second
// (about 1 Mbit/s) and G.711 at 50 packets a second to the relay, and a
// copy of its audio to a direct receiver for the jitter baseline.
type device struct {
	audio, video *net.UDPConn
	toAudio      netip.AddrPort
	toVideo      netip.AddrPort
	direct       *net.UDPConn // receives the audio copy
	directStats  jitter
	sentVideo    atomic.Int64
	sentAudio    atomic.Int64
	nextVideo    atomic.Uint32 // sequence number of the next packet
	nextAudio    atomic.Uint32
	paused       atomic.Bool
	audioSSRC    uint32
}

func newDevice(toAudio, toVideo netip.AddrPort) (*device, error) {
	d := &device{toAudio: toAudio, toVideo: toVideo, audioSSRC: rand.Uint32()}
	var err error
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	if d.audio, err = net.ListenUDP("udp4", lo); err != nil {
		return nil, err
	}
	if d.video, err = net.ListenUDP("udp4", lo); err != nil {
		return nil, err
	}
	if d.direct, err = net.ListenUDP("udp4", lo); err != nil {
		return nil, err
	}
	d.directStats.clock = 8000
	return d, nil
}

func (d *device) close() {
	d.audio.Close()
	d.video.Close()
	d.direct.Close()
}

// run sends until stop: audio every 20 ms, a video frame every 40 ms.
func (d *device) run(frames [][][]byte, stop <-chan struct{}, wg *sync.WaitGroup) {
	wg.Add(2)
	go func() { // the direct receiver
		defer wg.Done()
		buf := make([]byte, 1500)
		var p rtp.Packet
		for {
			n, err := d.direct.Read(buf)
			if err != nil {
				return
			}
			// Only our own audio: the relay's RTCP to the device's neighbouring
			// ports may land here too.
			if p.Unmarshal(buf[:n]) == nil && p.PayloadType == 0 && p.SSRC == d.audioSSRC {
				d.directStats.add(&p, time.Now())
			}
		}
	}()
	go func() {
		defer wg.Done()
		directAddr := d.direct.LocalAddr().(*net.UDPAddr).AddrPort()
		vs, vts, vssrc := uint16(rand.Uint32()), rand.Uint32(), rand.Uint32()
		as, ats, assrc := uint16(rand.Uint32()), rand.Uint32(), d.audioSSRC
		audio := bytes.Repeat([]byte{0xff}, 160)
		buf := make([]byte, 1500)
		// Start at a random phase so that the devices do not send in lockstep.
		time.Sleep(time.Duration(rand.Int64N(int64(40 * time.Millisecond))))
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for tick := 0; ; tick++ {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if d.paused.Load() {
				continue
			}
			d.nextVideo.Store(uint32(vs))
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: as, Timestamp: ats, SSRC: assrc}, Payload: audio}
			n, _ := p.MarshalTo(buf)
			if _, err := d.audio.WriteToUDPAddrPort(buf[:n], d.toAudio); err == nil {
				d.sentAudio.Add(1)
			}
			_, _ = d.audio.WriteToUDPAddrPort(buf[:n], directAddr)
			as++
			d.nextAudio.Store(uint32(as))
			ats += 160
			if tick%2 != 0 {
				continue
			}
			pl := frames[(tick/2)%len(frames)]
			for j, payload := range pl {
				p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: vs, Timestamp: vts,
					SSRC: vssrc, Marker: j == len(pl)-1}, Payload: payload}
				n, _ := p.MarshalTo(buf)
				if _, err := d.video.WriteToUDPAddrPort(buf[:n], d.toVideo); err == nil {
					d.sentVideo.Add(1)
				}
				vs++
			}
			d.nextVideo.Store(uint32(vs))
			vts += 90000 / clip.FPS
		}
	}()
}

// window counts the packets whose sequence numbers fall in [start, end):
// the relay keeps the devices' numbering, so packets sent and received
// within the measurement are matched one to one, whatever is in flight at
// its edges.
type window struct {
	on         atomic.Bool
	start, end atomic.Uint32
	count      atomic.Int64
}

func (w *window) open(start uint32) {
	w.start.Store(start)
	w.end.Store(start + 30000) // until closed
	w.count.Store(0)
	w.on.Store(true)
}

func (w *window) add(seq uint16) {
	if !w.on.Load() {
		return
	}
	if int16(seq-uint16(w.start.Load())) >= 0 && int16(seq-uint16(w.end.Load())) < 0 {
		w.count.Add(1)
	}
}

// jitter keeps the RFC 3550 interarrival jitter of one RTP stream.
type jitter struct {
	mu      sync.Mutex
	clock   float64
	started bool
	j       float64 // in clock ticks
	lastTS  uint32
	lastAt  time.Time
}

func (j *jitter) add(p *rtp.Packet, now time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.started && p.Timestamp == j.lastTS {
		return // packets of one video frame share a timestamp: count its first only
	}
	if !j.started {
		j.started, j.lastTS, j.lastAt = true, p.Timestamp, now
		return
	}
	// D(i,j) of RFC 3550 §6.4.1, timestamps compared modulo 2^32.
	d := now.Sub(j.lastAt).Seconds()*j.clock - float64(int32(p.Timestamp-j.lastTS))
	j.lastTS, j.lastAt = p.Timestamp, now
	if d < 0 {
		d = -d
	}
	j.j += (d - j.j) / 16
}

func (j *jitter) ms() float64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.j / j.clock * 1000
}

// viewer is a simulated browser: a pion PeerConnection with the default
// codecs, video recvonly and audio sendrecv, counting what arrives.
type viewer struct {
	pc                       *webrtc.PeerConnection
	video, audio             window
	videoJitter, audioJitter jitter
	connected                chan struct{}
}

func newViewer(api *webrtc.API) (*viewer, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	v := &viewer{pc: pc, connected: make(chan struct{})}
	v.videoJitter.clock, v.audioJitter.clock = 90000, 8000
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return nil, err
	}
	// The microphone: sendrecv as a browser offers it, silent here.
	mic, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, "mic", "browser")
	if err != nil {
		return nil, err
	}
	if _, err := pc.AddTransceiverFromTrack(mic,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		return nil, err
	}
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(v.connected) })
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		count, jit := &v.video, &v.videoJitter
		if t.Kind() == webrtc.RTPCodecTypeAudio {
			count, jit = &v.audio, &v.audioJitter
		}
		buf := make([]byte, 1500)
		var p rtp.Packet
		for {
			n, _, err := t.Read(buf)
			if err != nil {
				return
			}
			if p.Unmarshal(buf[:n]) == nil {
				count.add(p.SequenceNumber)
				jit.add(&p, time.Now())
			}
		}
	})
	return v, nil
}

func (v *viewer) offer() (string, error) {
	o, err := v.pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	g := webrtc.GatheringCompletePromise(v.pc)
	if err := v.pc.SetLocalDescription(o); err != nil {
		return "", err
	}
	select {
	case <-g:
	case <-time.After(10 * time.Second):
		return "", fmt.Errorf("ICE gathering timed out")
	}
	return v.pc.LocalDescription().SDP, nil
}

func browserAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)), nil
}
