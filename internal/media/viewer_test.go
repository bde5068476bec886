package media

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// startDevice opens a stream for a fake door station that sends the clip
// and G.711 (payload type audioPT) to it.
func startDevice(t *testing.T, r *Relay, audioPT uint8) (*RTPStream, *fakeDevice) {
	t.Helper()
	rs, err := r.NewRTPStream(1, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	d := newFakeDevice(t, audioPT)
	rs.Start(d.peer())
	d.send(t, rs.Audio(), rs.Video(), nil, nil)
	return rs, d
}

func TestTwoViewers(t *testing.T) {
	r := newTestRelay(t, Config{})
	rs, _ := startDevice(t, r, 0)
	b1, v1 := watch(t, rs.Stream(), ViewerOptions{Name: "one"})
	b2, v2 := watch(t, rs.Stream(), ViewerOptions{Name: "two"})
	waitFor(t, "frames at both browsers", func() bool {
		return b1.keyframes.Load() >= 1 && b2.keyframes.Load() >= 1 && b1.frames.Load() >= 10 && b2.frames.Load() >= 10
	})
	if n := rs.Stream().Viewers(); n != 2 {
		t.Fatalf("viewers = %d", n)
	}
	v1.Close()
	<-v1.Done()
	if n := rs.Stream().Viewers(); n != 1 {
		t.Fatalf("viewers after one closed = %d", n)
	}
	before, audio := b2.frames.Load(), b2.audioPackets.Load()
	waitFor(t, "the other browser still receiving", func() bool {
		return b2.frames.Load() >= before+50 && b2.audioPackets.Load() >= audio+50
	})
	if j := b2.maxSeqJump.Load(); j > 1 {
		t.Errorf("remaining viewer saw a sequence jump of %d", j)
	}
	select {
	case <-v2.Done():
		t.Fatal("the other viewer ended")
	default:
	}
	if got := r.Stats().Viewers; got != 1 {
		t.Errorf("relay viewers = %d", got)
	}
}

func TestTalk(t *testing.T) {
	r := newTestRelay(t, Config{})
	rs, d := startDevice(t, r, 8) // the device speaks PCMA; the browser's microphone PCMU
	bTalk, vTalk := watch(t, rs.Stream(), ViewerOptions{Name: "talker"})
	bMute, vMute := watch(t, rs.Stream(), ViewerOptions{Name: "listener"})
	stop := make(chan struct{})
	defer close(stop)
	bMute.micLoop(stop)
	waitFor(t, "the muted microphone at the relay", func() bool { return vMute.Stats().AudioReceived >= 50 })
	if n := len(d.talkPackets()); n != 0 {
		t.Fatalf("muted viewer's audio reached the device: %d packets", n)
	}

	bTalk.micLoop(stop)
	waitFor(t, "the talker's microphone at the relay", func() bool { return vTalk.Stats().AudioReceived >= 10 })
	if n := len(d.talkPackets()); n != 0 {
		t.Fatalf("audio reached the device with talk off: %d packets", n)
	}
	vTalk.SetTalk(true)
	waitFor(t, "talk audio at the device", func() bool { return len(d.talkPackets()) >= 50 })
	pkts := d.talkPackets()
	for i, p := range pkts {
		if p.PayloadType != 8 {
			t.Fatalf("packet %d has payload type %d, want the device's 8", i, p.PayloadType)
		}
		if p.SSRC != pkts[0].SSRC {
			t.Fatalf("SSRC changed at packet %d", i)
		}
		if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("sequence %d after %d", p.SequenceNumber, pkts[i-1].SequenceNumber)
		}
		if len(p.Payload) != 160 || p.Payload[0] != convertG711([]byte{0x7e}, 8)[0] {
			t.Fatalf("payload not converted to A-law: % x", p.Payload[:4])
		}
	}
	if got := rs.Stats().AudioOut; got < 50 {
		t.Errorf("stream AudioOut = %d", got)
	}

	vTalk.SetTalk(false)
	mark := vTalk.Stats().AudioReceived
	waitFor(t, "in-flight talk audio", func() bool { return vTalk.Stats().AudioReceived >= mark+10 })
	n := len(d.talkPackets())
	mark = vTalk.Stats().AudioReceived
	waitFor(t, "more microphone audio at the relay", func() bool { return vTalk.Stats().AudioReceived >= mark+50 })
	if got := len(d.talkPackets()); got != n {
		t.Errorf("audio reached the device after talk off: %d → %d packets", n, got)
	}
}

func TestKeyframeRequest(t *testing.T) {
	r := newTestRelay(t, Config{})
	rs, err := r.NewRTPStream(1, "door")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var hooks atomic.Int64
	rs.OnKeyframe(func() { hooks.Add(1) })
	d := newFakeDevice(t, 0)
	p := d.peer()
	p.FastUpdateViaSIP = true
	rs.Start(p)
	d.send(t, rs.Audio(), rs.Video(), nil, nil)
	b, v := watch(t, rs.Stream(), ViewerOptions{})
	waitFor(t, "video at the browser", func() bool { return b.videoPackets.Load() > 0 })
	// Requests on start and on connect have gone; now the browser asks.
	plis, hooked := d.plis(), hooks.Load()
	if err := b.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: b.videoSSRC.Load()}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the browser's PLI at the relay", func() bool { return v.Stats().Keyframes >= 1 })
	waitFor(t, "a PLI at the device's RTCP port and the hook", func() bool {
		return d.plis() > plis && hooks.Load() > hooked
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	var fir bool
	for _, p := range d.rtcpPkts {
		if f, ok := p.(*rtcp.FullIntraRequest); ok && len(f.FIR) == 1 && f.FIR[0].SSRC == d.ssrcV.Load() {
			fir = true
		}
	}
	if !fir {
		t.Error("no FIR for the device's video SSRC")
	}
}

func TestSSRCChangeKeepsNumbering(t *testing.T) {
	r := newTestRelay(t, Config{})
	rs, d := startDevice(t, r, 0)
	b, _ := watch(t, rs.Stream(), ViewerOptions{})
	waitFor(t, "video at the browser", func() bool { return b.frames.Load() >= 10 })
	for range 2 {
		d.ssrcV.Store(d.ssrcV.Load() + 1)
		mark := b.videoPackets.Load()
		waitFor(t, "video after the SSRC change", func() bool { return b.videoPackets.Load() >= mark+200 })
	}
	if j := b.maxSeqJump.Load(); j > 1 {
		t.Errorf("browser saw a sequence jump of %d across the SSRC change", j)
	}
	if f := b.frames.Load(); f < 20 {
		t.Errorf("frames = %d", f)
	}
}

func TestLatching(t *testing.T) {
	r := newTestRelay(t, Config{})
	rs, err := r.NewRTPStream(1, "door")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	d := newFakeDevice(t, 0)
	rs.Start(d.peer())
	// Behind NAT: the device's RTP leaves from other ports than its SDP says.
	nat, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer nat.Close()
	natVideo, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer natVideo.Close()
	d.send(t, rs.Audio(), rs.Video(), nat, natVideo)
	var atNAT atomic.Int64
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := nat.Read(buf); err != nil {
				return
			}
			atNAT.Add(1)
		}
	}()
	b, v := watch(t, rs.Stream(), ViewerOptions{Talk: true})
	waitFor(t, "video through the NAT", func() bool { return b.frames.Load() >= 5 })
	stop := make(chan struct{})
	defer close(stop)
	b.micLoop(stop)
	waitFor(t, "talk audio at the latched address", func() bool { return atNAT.Load() >= 20 })
	if n := len(d.talkPackets()); n != 0 {
		t.Errorf("%d packets went to the SDP address instead of the latched one", n)
	}

	if v.Stats().AudioReceived == 0 {
		t.Error("viewer counted no microphone audio")
	}
}

// TestLatchingIgnoresOthers: once latched, RTP from another source is
// dropped; a new Start latches anew.
func TestLatchingIgnoresOthers(t *testing.T) {
	r := newTestRelay(t, Config{})
	rs, err := r.NewRTPStream(1, "door")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	d := newFakeDevice(t, 0)
	socket := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	nat, stranger := socket(), socket()
	var seq uint16
	send := func(c *net.UDPConn, n int) {
		for range n {
			seq++
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 7},
				Payload: make([]byte, 160)}
			b, _ := p.Marshal()
			if _, err := c.WriteToUDPAddrPort(b, rs.Audio()); err != nil {
				t.Fatal(err)
			}
		}
	}
	rs.Start(d.peer())
	send(nat, 5)
	waitFor(t, "the NAT's packets", func() bool { return rs.Stats().AudioPackets == 5 })
	// The stranger's packets are queued before the NAT's next one.
	send(stranger, 50)
	send(nat, 1)
	waitFor(t, "the NAT's next packet", func() bool { return rs.Stats().AudioPackets >= 6 })
	if got := rs.Stats().AudioPackets; got != 6 {
		t.Fatalf("accepted %d packets, want 6 (the stranger's dropped)", got)
	}
	// A re-INVITE: the next source latches, here the stranger.
	rs.Start(d.peer())
	send(stranger, 3)
	send(nat, 10)
	send(stranger, 1)
	waitFor(t, "the stranger latched", func() bool { return rs.Stats().AudioPackets >= 10 })
	if got := rs.Stats().AudioPackets; got != 10 {
		t.Fatalf("accepted %d packets, want 10", got)
	}
}

func TestLimits(t *testing.T) {
	r := newTestRelay(t, Config{MaxSessions: 2, MaxPerCommunity: 1})
	a, err := r.NewRTPStream(1, "a")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.NewRTPStream(1, "b")
	var le *LimitError
	if !errors.As(err, &le) || le.Scope != "community" || le.N != 1 || !errors.Is(err, ErrLimit) {
		t.Fatalf("second stream of a community: %v", err)
	}
	if !strings.Contains(err.Error(), "上限（1 路）") {
		t.Errorf("message %q", err)
	}
	c, err := r.NewStream(2, "camera", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.NewStream(3, "c", 8)
	if !errors.As(err, &le) || le.Scope != "server" || le.N != 2 || !errors.Is(err, ErrLimit) {
		t.Fatalf("third stream on the server: %v", err)
	}
	if err.Error() != "同时进行的视频通话已达上限（2 路），请稍后再试" {
		t.Errorf("message %q", err)
	}
	if got := r.Stats(); got.Streams != 2 || got.Ports != 4 {
		t.Errorf("stats %+v", got)
	}
	a.Close()
	if _, err := r.NewRTPStream(1, "b"); err != nil {
		t.Errorf("after a stream closed: %v", err)
	}
	c.Close()
}

func TestNoCommonCodec(t *testing.T) {
	vp8 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}
	h264High := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640032"}, PayloadType: 112}
	h264CB := webrtc.RTPCodecParameters{RTPCodecCapability: h264Codec.RTPCodecCapability, PayloadType: 102}
	opus := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}
	pcmu := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0}
	r := newTestRelay(t, Config{})
	st, err := r.NewStream(1, "camera", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		video, audio []webrtc.RTPCodecParameters
		want         string
	}{
		{"only VP8", []webrtc.RTPCodecParameters{vp8}, []webrtc.RTPCodecParameters{pcmu}, "H.264"},
		{"H.264 high only", []webrtc.RTPCodecParameters{h264High}, []webrtc.RTPCodecParameters{pcmu}, "constrained baseline"},
		{"only Opus", []webrtc.RTPCodecParameters{h264CB}, []webrtc.RTPCodecParameters{opus}, "G.711"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, browserOptions{videoCodecs: tc.video, audioCodecs: tc.audio})
			_, _, err := st.AddViewer(b.offer(t), ViewerOptions{})
			if !errors.Is(err, ErrNoCommonCodec) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "浏览器不支持") {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if got := r.Stats().Viewers; got != 0 {
		t.Errorf("viewers = %d", got)
	}
}

// cuttable is a browser's UDP socket that can go silent both ways, like a
// laptop whose lid closed.
type cuttable struct {
	c   *net.UDPConn
	cut atomic.Bool
}

func (u *cuttable) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := u.c.ReadFrom(b)
		if err != nil || !u.cut.Load() {
			return n, a, err
		}
	}
}

func (u *cuttable) WriteTo(b []byte, a net.Addr) (int, error) {
	if u.cut.Load() {
		return len(b), nil
	}
	return u.c.WriteTo(b, a)
}
func (u *cuttable) Close() error                       { return u.c.Close() }
func (u *cuttable) LocalAddr() net.Addr                { return u.c.LocalAddr() }
func (u *cuttable) SetDeadline(t time.Time) error      { return u.c.SetDeadline(t) }
func (u *cuttable) SetReadDeadline(t time.Time) error  { return u.c.SetReadDeadline(t) }
func (u *cuttable) SetWriteDeadline(t time.Time) error { return u.c.SetWriteDeadline(t) }

// answerPorts lists the ports of the host candidates in an SDP.
func answerPorts(t *testing.T, s string) []int {
	t.Helper()
	var d sdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		t.Fatal(err)
	}
	var ports []int
	for _, m := range d.MediaDescriptions {
		for _, a := range m.Attributes {
			if a.Key != "candidate" {
				continue
			}
			f := strings.Fields(a.Value)
			if len(f) >= 8 && f[7] == "host" && strings.EqualFold(f[2], "udp") {
				var p int
				for _, ch := range f[5] {
					p = p*10 + int(ch-'0')
				}
				ports = append(ports, p)
			}
		}
	}
	return ports
}

func TestVanishedBrowser(t *testing.T) {
	r := newTestRelay(t, Config{ViewerTimeout: 2 * time.Second})
	rs, _ := startDevice(t, r, 0)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	sock := &cuttable{c: conn}
	mux := webrtc.NewICEUDPMux(nil, sock)
	defer mux.Close()
	b := newBrowser(t, browserOptions{setting: func(se *webrtc.SettingEngine) { se.SetICEUDPMux(mux) }})
	v, answer, err := rs.Stream().AddViewer(b.offer(t), ViewerOptions{Name: "lid closed"})
	if err != nil {
		t.Fatal(err)
	}
	b.answer(t, answer)
	ports := answerPorts(t, answer)
	if len(ports) == 0 {
		t.Fatalf("no host candidate in the answer:\n%s", answer)
	}
	waitFor(t, "video at the browser", func() bool { return b.frames.Load() >= 5 })
	sock.cut.Store(true)
	cutAt := time.Now()
	select {
	case <-v.Done():
		t.Logf("viewer closed %v after the browser vanished (timeout 2 s)", time.Since(cutAt).Round(time.Millisecond))
	case <-time.After(60 * time.Second):
		t.Fatal("viewer of a vanished browser still open")
	}
	if got := rs.Stream().Viewers(); got != 0 {
		t.Errorf("stream still lists %d viewers", got)
	}
	if got := r.Stats().Viewers; got != 0 {
		t.Errorf("relay counts %d viewers", got)
	}
	for _, p := range ports {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			t.Errorf("ICE port %d not freed: %v", p, err)
			continue
		}
		c.Close()
	}
}

func TestPortRange(t *testing.T) {
	// A free stretch of 12 ports somewhere high.
	var base int
	for try := 0; base == 0 && try < 200; try++ {
		cand := 40000 + 2*(int(time.Now().UnixNano()/7+int64(try*131))%9000)
		ok := true
		for p := cand; p < cand+12 && ok; p++ {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				ok = false
				continue
			}
			c.Close()
		}
		if ok {
			base = cand
		}
	}
	if base == 0 {
		t.Fatal("no free port stretch")
	}
	r := newTestRelay(t, Config{PortMin: base, PortMax: base + 11})
	inRange := func(a netip.AddrPort) bool { return int(a.Port()) >= base && int(a.Port()) <= base+11 }
	a, err := r.NewRTPStream(1, "a")
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.NewRTPStream(1, "b")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*RTPStream{a, c} {
		if !inRange(s.Audio()) || !inRange(s.Video()) || s.Audio().Port()%2 != 0 || s.Video().Port()%2 != 0 {
			t.Errorf("ports %v %v outside [%d, %d] or odd", s.Audio(), s.Video(), base, base+11)
		}
	}
	b := newBrowser(t, browserOptions{})
	_, answer, err := a.Stream().AddViewer(b.offer(t), ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range answerPorts(t, answer) {
		if p < base || p > base+11 {
			t.Errorf("ICE port %d outside the range", p)
		}
	}
	// 8 device ports and 1 ICE port used: no even/odd pair pair left for a third stream.
	_, err = r.NewRTPStream(1, "c")
	if !errors.Is(err, ErrPortsExhausted) || !strings.Contains(err.Error(), "端口") {
		t.Fatalf("third stream: %v", err)
	}
	if got := r.Stats().Streams; got != 2 {
		t.Errorf("streams = %d after the refused one", got)
	}
	c.Close()
	if _, err := r.NewRTPStream(1, "c"); err != nil {
		t.Errorf("after freeing: %v", err)
	}
}

// TestBrowserNeverConnects: a browser that takes the answer and is never
// heard from again is given up and its viewer ends.
func TestBrowserNeverConnects(t *testing.T) {
	r := newTestRelay(t, Config{ViewerTimeout: time.Second})
	st, err := r.NewStream(1, "camera", 0)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, browserOptions{})
	v, _, err := st.AddViewer(b.offer(t), ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.pc.Close() // the tab closed before the answer arrived
	waitFor(t, "the viewer to end", func() bool {
		select {
		case <-v.Done():
			return true
		default:
			return false
		}
	})
	if got := r.Stats(); got.Viewers != 0 || st.Viewers() != 0 {
		t.Errorf("stats %+v, stream viewers %d", got, st.Viewers())
	}
}

// TestPublicIP: behind 1:1 NAT the answer announces the public address
// instead of the local one. The answer is not applied: no traffic leaves
// loopback.
func TestPublicIP(t *testing.T) {
	r := newTestRelay(t, Config{PublicIP: "198.51.100.7"})
	st, err := r.NewStream(1, "camera", 0)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, browserOptions{})
	v, answer, err := st.AddViewer(b.offer(t), ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if !strings.Contains(answer, " 198.51.100.7 ") || strings.Contains(answer, "candidate:") && strings.Contains(answer, " 127.0.0.1 ") {
		t.Errorf("answer candidates:\n%s", answer)
	}
}
