package app_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"linli/internal/apptest"
	"linli/internal/storetest"
)

// viewer is a browser watching a camera: a pion PeerConnection with the
// default codecs, video and audio recvonly, as the console offers.
type viewer struct {
	pc                    *webrtc.PeerConnection
	frames, keys, packets atomic.Int64
	audio                 atomic.Int64
	wg                    sync.WaitGroup
}

func newViewer(tb testing.TB) *viewer {
	tb.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		tb.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	v := &viewer{pc: pc}
	tb.Cleanup(func() { pc.Close(); v.wg.Wait() })
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			tb.Fatal(err)
		}
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		v.wg.Add(1)
		defer v.wg.Done()
		if t.Kind() == webrtc.RTPCodecTypeAudio {
			for {
				if _, _, err := t.ReadRTP(); err != nil {
					return
				}
				v.audio.Add(1)
			}
		}
		sb := samplebuilder.New(256, &codecs.H264Packet{}, 90000)
		for {
			p, _, err := t.ReadRTP()
			if err != nil {
				return
			}
			v.packets.Add(1)
			sb.Push(p)
			for s := sb.Pop(); s != nil; s = sb.Pop() {
				v.frames.Add(1)
				if strings.Contains(string(s.Data), "\x00\x00\x01\x65") {
					v.keys.Add(1)
				}
			}
		}
	})
	return v
}

func (v *viewer) offer(tb testing.TB) string {
	tb.Helper()
	o, err := v.pc.CreateOffer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(v.pc)
	if err := v.pc.SetLocalDescription(o); err != nil {
		tb.Fatal(err)
	}
	<-g
	return v.pc.LocalDescription().SDP
}

// watch starts live view of camera path as c and returns the session.
func (v *viewer) watch(tb testing.TB, c *apptest.Client, path string) string {
	tb.Helper()
	var out struct{ SDP, Session string }
	c.Must(201, "POST", path+"/live", map[string]any{"sdp": v.offer(tb)}).JSON(tb, &out)
	if err := v.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: out.SDP}); err != nil {
		tb.Fatal(err)
	}
	return out.Session
}

// waitUntil waits up to a minute for cond (a camera's RTSP session can
// take that long to start on a busy machine).
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	apptest.Eventually(tb, 60*time.Second, what, cond)
}

// TestCameraLive: a browser's offer gets an answer and the fake camera's
// H.264 (and G.711) arrives through the relay; a second viewer shares the
// camera's one RTSP session; another community's staff get 404 and no
// media; the RTSP session ends after the last viewer left.
func TestCameraLive(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	op := s.Operator()
	a := s.NewCommunity(t, op, "直播小区", "CL")
	b := s.NewCommunity(t, op, "别处小区", "CM")
	cam := startFakeCamera(t, "LIVE CAM")
	var c apiCamera
	a.Manager.Must(201, "POST", a.Path("/cameras"), map[string]any{"name": "岗亭", "address": cam.Addr(), "username": "admin", "password": "Cam-Pass-9"}).JSON(t, &c)
	path := a.Path(fmt.Sprintf("/cameras/%d", c.ID))

	stranger := newViewer(t)
	if r := b.Manager.Do("POST", path+"/live", map[string]any{"sdp": stranger.offer(t)}); r.Status != 404 {
		t.Errorf("manager B: %d %s", r.Status, r.Body)
	}
	if cam.Sessions() != 0 {
		t.Errorf("a refused viewer opened the camera's stream")
	}

	first := newViewer(t)
	sid1 := first.watch(t, a.Manager, path)
	waitUntil(t, "frames in the first browser", func() bool { return first.frames.Load() > 25 && first.keys.Load() > 0 })
	waitUntil(t, "audio in the first browser", func() bool { return first.audio.Load() > 10 })

	second := newViewer(t)
	sid2 := second.watch(t, op, path)
	waitUntil(t, "frames in the second browser", func() bool { return second.frames.Load() > 25 })
	if cam.Sessions() != 1 || cam.ActiveSessions() != 1 {
		t.Errorf("two viewers: the camera opened %d RTSP sessions (%d now), want 1", cam.Sessions(), cam.ActiveSessions())
	}
	if r := a.Manager.Must(200, "GET", path, nil); !strings.Contains(string(r.Body), `"viewers":2`) {
		t.Errorf("viewers: %s", r.Body)
	}

	if r := b.Manager.Do("DELETE", path+"/live/"+sid1, nil); r.Status != 404 {
		t.Errorf("manager B ends A's session: %d %s", r.Status, r.Body)
	}
	a.Manager.Must(204, "DELETE", path+"/live/"+sid1, nil)
	before := second.frames.Load()
	waitUntil(t, "the second browser keeps playing", func() bool { return second.frames.Load() > before+25 })
	op.Must(204, "DELETE", path+"/live/"+sid2, nil)
	if r := op.Do("DELETE", path+"/live/"+sid2, nil); r.Status != 404 {
		t.Errorf("ended twice: %d", r.Status)
	}
	waitUntil(t, "the camera's RTSP session to end after the last viewer", func() bool { return cam.ActiveSessions() == 0 })
	waitUntil(t, "the relay to be empty", func() bool { st := s.App.MediaStats(); return st.Streams == 0 && st.Viewers == 0 })
}
