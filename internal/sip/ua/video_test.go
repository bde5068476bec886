package ua

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"linli/internal/clip"
)

// viewer is a bare RTP receiver of the door's video: it reports for each
// frame start its RTP timestamp and whether it begins with an SPS.
type viewer struct {
	conn *net.UDPConn
}

func newViewer(tb testing.TB) *viewer {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return &viewer{conn: c}
}

func (v *viewer) addr() netip.AddrPort { return v.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// nextFrame reads until the first packet of a frame (the one after a
// marker) and returns its timestamp and whether the frame is a key frame
// (starts with an SPS, alone or as the first FU-A fragment).
func (v *viewer) nextFrame(tb testing.TB, afterMarker *bool) (uint32, bool) {
	tb.Helper()
	buf := make([]byte, 2048)
	var pkt rtp.Packet
	for {
		_ = v.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := v.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			tb.Fatalf("no video: %v", err)
		}
		if pkt.Unmarshal(buf[:n]) != nil || len(pkt.Payload) < 2 {
			continue
		}
		start := *afterMarker
		*afterMarker = pkt.Marker
		if !start {
			continue
		}
		typ := pkt.Payload[0] & 0x1F
		if typ == 28 {
			typ = pkt.Payload[1] & 0x1F
		}
		return pkt.Timestamp, typ == 7
	}
}

// TestKeyframeRequests: in the middle of a group of pictures, an RTCP PLI
// to the RTP port + 1, a FIR, and a SIP INFO picture_fast_update each
// make the door jump to a key frame long before the clip's next one.
func TestKeyframeRequests(t *testing.T) {
	const frameTicks = 90000 / clip.FPS
	v, err := newVideo(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if p := v.LocalAddr().Port(); p%2 != 0 || v.rtcp.LocalAddr().(*net.UDPAddr).Port != int(p)+1 {
		t.Fatalf("RTP on %d, RTCP on %v", p, v.rtcp.LocalAddr())
	}
	view := newViewer(t)
	v.Start(view.addr(), ptH264)
	rtcpTo := net.UDPAddrFromAddrPort(netip.AddrPortFrom(v.LocalAddr().Addr(), v.LocalAddr().Port()+1))
	requests := []struct {
		name string
		send func()
	}{
		{"PLI", func() {
			b, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.PictureLossIndication{SenderSSRC: 1}})
			_, _ = view.conn.WriteToUDP(b, rtcpTo)
		}},
		{"FIR", func() {
			b, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.FullIntraRequest{SenderSSRC: 1, FIR: []rtcp.FIREntry{{SequenceNumber: 1}}}})
			_, _ = view.conn.WriteToUDP(b, rtcpTo)
		}},
		{"receiver report only", nil},
	}
	marker := true // the first packet starts a frame
	// The very first frame is the clip's first key frame.
	lastKey, key := view.nextFrame(t, &marker)
	if !key {
		t.Fatal("the stream does not start with a key frame")
	}
	for i, r := range requests {
		// Wait for the 5th frame after the key frame, then ask.
		for range 5 {
			if _, key := view.nextFrame(t, &marker); key {
				t.Fatalf("%s: unrequested key frame", r.name)
			}
		}
		if r.send == nil {
			b, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1}})
			_, _ = view.conn.WriteToUDP(b, rtcpTo)
			time.Sleep(200 * time.Millisecond) // a report alone must not bring a key frame
		} else {
			r.send()
		}
		var ts uint32
		for {
			if ts, key = view.nextFrame(t, &marker); key {
				break
			}
		}
		frames := (ts - lastKey) / frameTicks
		t.Logf("%s: key frame %d frames after the previous one", r.name, frames)
		if r.send != nil && frames >= clip.FPS {
			t.Errorf("%s: key frame only after %d frames", r.name, frames)
		}
		if r.send == nil && frames != clip.FPS {
			t.Errorf("%s: key frame after %d frames, want the clip's own %d", r.name, frames, clip.FPS)
		}
		if got := v.keyRequests.Load(); got != int64(min(i+1, 2)) {
			t.Errorf("%s: %d key frame requests counted", r.name, got)
		}
		lastKey = ts
	}
}

// TestKeyframeRequestByINFO: the monitor's SIP INFO picture_fast_update
// reaches the door's call, is answered 200 and counted.
func TestKeyframeRequestByINFO(t *testing.T) {
	door := newAgent(t, Config{Video: true})
	monitor := newAgent(t, Config{Video: true})
	c, err := door.Call(t.Context(), monitor.URI())
	if err != nil {
		t.Fatal(err)
	}
	in := incoming(t, monitor)
	waitFor(t, 10*time.Second, "the call answered", func() bool { return in.Info().State == StateAnswered })
	for range 2 {
		if err := in.RequestKeyframe(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Info().KeyframeRequests; got != 2 {
		t.Errorf("door counted %d key frame requests, want 2", got)
	}
	if got := in.Info().KeyframeRequests; got != 0 {
		t.Errorf("monitor counted %d key frame requests", got)
	}
}

// TestMonitoringCall: an indoor monitor calls the door station (监视);
// the door answers by itself and sends the clip and its tone; each side
// counts the other's audio as audio only (video has its own count).
func TestMonitoringCall(t *testing.T) {
	door := newAgent(t, Config{Video: true, Answer: AnswerPolicy{Mode: AnswerAuto}})
	monitor := newAgent(t, Config{Video: true, Answer: AnswerPolicy{Mode: AnswerNever}})
	c, err := monitor.Call(t.Context(), door.URI())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Answered():
	case <-c.Done():
		t.Fatalf("the door refused: %+v", c.Info())
	case <-time.After(10 * time.Second):
		t.Fatalf("the door did not answer: %+v", c.Info())
	}
	in := incoming(t, door)
	waitFor(t, 10*time.Second, "a second of the door's video and audio at the monitor", func() bool {
		i := c.Info()
		return i.VideoReceived >= 50 && i.PacketsReceived >= 50
	})
	waitFor(t, 10*time.Second, "the monitor's audio at the door", func() bool { return in.Info().PacketsReceived >= 50 })
	c.Hangup()
	waitDone(t, c, 5*time.Second)
	waitDone(t, in, 5*time.Second)
	mon, dr := c.Info(), in.Info()
	t.Logf("monitor: %+v; door: %+v", mon.MediaStats, dr.MediaStats)
	// Audio counts never include video: no more audio received than the
	// other side sent, although video packets outnumber audio.
	if mon.PacketsReceived > dr.PacketsSent || dr.PacketsReceived > mon.PacketsSent {
		t.Errorf("audio counts include other packets: monitor %+v, door %+v", mon.MediaStats, dr.MediaStats)
	}
	// The clip: constrained baseline (constraint_set0 and set1), level 3.1.
	if mon.VideoProfile != "42c01f" {
		t.Errorf("monitor received H.264 profile-level-id %q, want the clip's 42c01f", mon.VideoProfile)
	}
	if dr.VideoSent <= dr.PacketsSent {
		t.Errorf("door sent %d video and %d audio packets: video should outnumber audio at 1 Mbit/s", dr.VideoSent, dr.PacketsSent)
	}
	if mon.Direction != "out" || dr.Direction != "in" || dr.State != StateEnded {
		t.Errorf("monitor %+v, door %+v", mon, dr)
	}
}
