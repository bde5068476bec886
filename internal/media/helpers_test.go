package media

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"linli/internal/clip"
)

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newTestRelay(tb testing.TB, cfg Config) *Relay {
	tb.Helper()
	r, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.Close)
	return r
}

// videoPackets packetizes the door clip as a door station does: FU-A at
// MTU 1200, one RTP timestamp step of 90000/25 per frame.
func videoPackets() [][][]byte {
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

// fakeDevice is a door station: it sends the clip and a G.711 tone from
// its own UDP sockets and records what reaches it.
type fakeDevice struct {
	audio, video, videoRTCP *net.UDPConn
	audioPT                 uint8
	ssrcV, ssrcA            atomic.Uint32
	stop                    chan struct{}
	wg                      sync.WaitGroup

	mu       sync.Mutex
	talk     []*rtp.Packet // RTP received on the audio socket
	rtcpPkts []rtcp.Packet // RTCP received on the video RTCP socket
}

func listenPair(tb testing.TB) (*net.UDPConn, *net.UDPConn) {
	tb.Helper()
	for range 50 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c2, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
		if err == nil {
			return c, c2
		}
		c.Close()
	}
	tb.Fatal("no UDP port pair")
	return nil, nil
}

func newFakeDevice(tb testing.TB, audioPT uint8) *fakeDevice {
	tb.Helper()
	d := &fakeDevice{audioPT: audioPT, stop: make(chan struct{})}
	var err error
	if d.audio, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		tb.Fatal(err)
	}
	d.video, d.videoRTCP = listenPair(tb)
	d.ssrcV.Store(rand.Uint32())
	d.ssrcA.Store(rand.Uint32())
	d.wg.Add(2)
	go d.receiveAudio()
	go d.receiveRTCP()
	tb.Cleanup(d.Close)
	return d
}

// peer is what the device's SDP would say.
func (d *fakeDevice) peer() Peer {
	return Peer{Audio: addrOf(d.audio), AudioPT: d.audioPT, EventPT: 101, Video: addrOf(d.video), VideoPT: 96}
}

func (d *fakeDevice) Close() {
	select {
	case <-d.stop:
		return
	default:
	}
	close(d.stop)
	d.audio.Close()
	d.video.Close()
	d.videoRTCP.Close()
	d.wg.Wait()
}

func (d *fakeDevice) receiveAudio() {
	defer d.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, err := d.audio.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p := &rtp.Packet{}
		if p.Unmarshal(append([]byte(nil), buf[:n]...)) == nil {
			d.mu.Lock()
			d.talk = append(d.talk, p)
			d.mu.Unlock()
		}
	}
}

func (d *fakeDevice) receiveRTCP() {
	defer d.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, err := d.videoRTCP.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if pkts, err := rtcp.Unmarshal(buf[:n]); err == nil {
			d.mu.Lock()
			d.rtcpPkts = append(d.rtcpPkts, pkts...)
			d.mu.Unlock()
		}
	}
}

func (d *fakeDevice) talkPackets() []*rtp.Packet {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*rtp.Packet(nil), d.talk...)
}

func (d *fakeDevice) plis() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, p := range d.rtcpPkts {
		if _, ok := p.(*rtcp.PictureLossIndication); ok {
			n++
		}
	}
	return n
}

// send streams the clip (looped, continuing timestamps) and 20 ms G.711
// frames to the relay's ports from the device's sockets, in real time,
// until Close. from, if set, sends from other sockets (a NAT).
func (d *fakeDevice) send(tb testing.TB, audioTo, videoTo netip.AddrPort, audioFrom, videoFrom *net.UDPConn) {
	tb.Helper()
	if audioFrom == nil {
		audioFrom = d.audio
	}
	if videoFrom == nil {
		videoFrom = d.video
	}
	frames := videoPackets()
	d.wg.Add(2)
	go func() { // video
		defer d.wg.Done()
		seq, ts := uint16(rand.Uint32()), rand.Uint32()
		lastSSRC := d.ssrcV.Load()
		t := time.NewTicker(time.Second / clip.FPS)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-d.stop:
				return
			case <-t.C:
			}
			if s := d.ssrcV.Load(); s != lastSSRC { // a restarted device numbers anew
				lastSSRC, seq, ts = s, uint16(rand.Uint32()), rand.Uint32()
			}
			pl := frames[i%len(frames)]
			for j, payload := range pl {
				p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
					Timestamp: ts, SSRC: lastSSRC, Marker: j == len(pl)-1}, Payload: payload}
				b, _ := p.Marshal()
				_, _ = videoFrom.WriteToUDPAddrPort(b, videoTo)
				seq++
			}
			ts += 90000 / clip.FPS
		}
	}()
	go func() { // audio
		defer d.wg.Done()
		payload := bytes.Repeat([]byte{0xff}, 160)
		seq, ts := uint16(rand.Uint32()), rand.Uint32()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-t.C:
			}
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: d.audioPT, SequenceNumber: seq,
				Timestamp: ts, SSRC: d.ssrcA.Load()}, Payload: payload}
			b, _ := p.Marshal()
			_, _ = audioFrom.WriteToUDPAddrPort(b, audioTo)
			seq++
			ts += 160
		}
	}()
}

// browser plays a browser: a pion PeerConnection with the default codecs
// (VP8, VP9, H.264 variants, AV1, Opus, G.711…), video recvonly and audio
// sendrecv with a microphone track.
type browser struct {
	pc  *webrtc.PeerConnection
	mic *webrtc.TrackLocalStaticRTP

	videoPackets, audioPackets atomic.Int64
	frames, keyframes          atomic.Int64
	maxSeqJump                 atomic.Int64 // largest forward jump between consecutive video packets
	videoSSRC                  atomic.Uint32
	wg                         sync.WaitGroup
}

type browserOptions struct {
	videoCodecs []webrtc.RTPCodecParameters // nil: the defaults
	audioCodecs []webrtc.RTPCodecParameters
	setting     func(*webrtc.SettingEngine)
}

func newBrowser(tb testing.TB, o browserOptions) *browser {
	tb.Helper()
	me := &webrtc.MediaEngine{}
	if o.videoCodecs == nil && o.audioCodecs == nil {
		if err := me.RegisterDefaultCodecs(); err != nil {
			tb.Fatal(err)
		}
	} else {
		for _, c := range o.videoCodecs {
			if err := me.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
				tb.Fatal(err)
			}
		}
		for _, c := range o.audioCodecs {
			if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
				tb.Fatal(err)
			}
		}
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if o.setting != nil {
		o.setting(&se)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	b := &browser{pc: pc}
	tb.Cleanup(func() { pc.Close(); b.wg.Wait() })
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		tb.Fatal(err)
	}
	micCodec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}
	if len(o.audioCodecs) > 0 {
		micCodec = o.audioCodecs[0].RTPCodecCapability
	}
	b.mic, err = webrtc.NewTrackLocalStaticRTP(micCodec, "mic", "browser")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(b.mic,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		tb.Fatal(err)
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		b.wg.Add(1)
		defer b.wg.Done()
		if t.Kind() == webrtc.RTPCodecTypeAudio {
			for {
				if _, _, err := t.ReadRTP(); err != nil {
					return
				}
				b.audioPackets.Add(1)
			}
		}
		b.videoSSRC.Store(uint32(t.SSRC()))
		sb := samplebuilder.New(256, &codecs.H264Packet{}, 90000)
		var last uint16
		for i := 0; ; i++ {
			p, _, err := t.ReadRTP()
			if err != nil {
				return
			}
			b.videoPackets.Add(1)
			if i > 0 {
				if j := int64(int16(p.SequenceNumber - last)); j > b.maxSeqJump.Load() {
					b.maxSeqJump.Store(j)
				}
			}
			last = p.SequenceNumber
			sb.Push(p)
			for s := sb.Pop(); s != nil; s = sb.Pop() {
				b.frames.Add(1)
				if hasIDR(s.Data) {
					b.keyframes.Add(1)
				}
			}
		}
	})
	return b
}

// hasIDR finds an IDR slice in an Annex B access unit.
func hasIDR(au []byte) bool {
	for i := 0; i+4 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 && au[i+3]&0x1f == 5 {
			return true
		}
	}
	return false
}

// offer makes the browser's complete offer (ICE gathered).
func (b *browser) offer(tb testing.TB) string {
	tb.Helper()
	o, err := b.pc.CreateOffer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(o); err != nil {
		tb.Fatal(err)
	}
	<-g
	return b.pc.LocalDescription().SDP
}

func (b *browser) answer(tb testing.TB, sdp string) {
	tb.Helper()
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		tb.Fatal(err)
	}
}

// watch connects a new browser to st and returns both ends.
func watch(tb testing.TB, st *Stream, opt ViewerOptions) (*browser, *Viewer) {
	tb.Helper()
	b := newBrowser(tb, browserOptions{})
	v, answer, err := st.AddViewer(b.offer(tb), opt)
	if err != nil {
		tb.Fatal(err)
	}
	b.answer(tb, answer)
	return b, v
}

// micLoop sends G.711 from the browser's microphone until stop.
func (b *browser) micLoop(stop <-chan struct{}) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()},
			Payload: bytes.Repeat([]byte{0x7e}, 160)}
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			_ = b.mic.WriteRTP(&p)
			p.SequenceNumber++
			p.Timestamp += 160
		}
	}()
}

func goroutines() int { return runtime.NumGoroutine() }
