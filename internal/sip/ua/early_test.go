package ua

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
)

// mediaSink is one branch's RTP sockets: it counts audio packets (of the
// payload type it answered with) and H.264 packets.
type mediaSink struct {
	audio, video *net.UDPConn
	audioPT      uint8
	audioN       atomic.Int64
	videoN       atomic.Int64
}

func newMediaSink(tb testing.TB, audioPT uint8) *mediaSink {
	tb.Helper()
	s := &mediaSink{audioPT: audioPT}
	for _, c := range []**net.UDPConn{&s.audio, &s.video} {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = conn.Close() })
		*c = conn
	}
	count := func(conn *net.UDPConn, pt uint8, n *atomic.Int64) {
		buf := make([]byte, 2048)
		var pkt rtp.Packet
		for {
			m, _, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:m]) == nil && pkt.PayloadType == pt {
				n.Add(1)
			}
		}
	}
	go count(s.audio, audioPT, &s.audioN)
	go count(s.video, ptH264, &s.videoN)
	return s
}

func (s *mediaSink) sdp() []byte {
	return buildSDP(1, s.audio.LocalAddr().(*net.UDPAddr).AddrPort(), []uint8{s.audioPT}, ptTelephoneEvent,
		s.video.LocalAddr().(*net.UDPAddr).AddrPort(), ptH264)
}

func (s *mediaSink) counts() (int64, int64) { return s.audioN.Load(), s.videoN.Load() }

// TestEarlyMediaForks: the door calls through a forking proxy: branch A
// answers 183 with SDP, then branch B does, then branch C answers 200 (with
// PCMA). The door's audio and video go to A at once, move to B, and end at
// C.
func TestEarlyMediaForks(t *testing.T) {
	type invite struct {
		req *sip.Request
		tx  sip.ServerTransaction
	}
	invites := make(chan invite, 1)
	proxyUA, err := sipgo.NewUA(sipgo.WithUserAgent("fork-proxy"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxyUA.Close() })
	srv, err := sipgo.NewServer(proxyUA)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		invites <- invite{req, tx}
		<-tx.Done()
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	proxyAddr := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	go func() { _ = srv.ServeUDP(conn) }()

	door := newAgent(t, Config{Video: true})
	c, err := door.Call(t.Context(), "sip:0502@"+proxyAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	var in invite
	select {
	case in = <-invites:
	case <-time.After(10 * time.Second):
		t.Fatal("no INVITE")
	}
	branches := []struct {
		code int
		tag  string
		sink *mediaSink
	}{
		{183, "branch-a", newMediaSink(t, ptPCMU)},
		{183, "branch-b", newMediaSink(t, ptPCMU)},
		{200, "branch-c", newMediaSink(t, ptPCMA)},
	}
	for i, b := range branches {
		reason := "Session Progress"
		if b.code == 200 {
			reason = "OK"
		}
		res := sip.NewResponseFromRequest(in.req, b.code, reason, b.sink.sdp())
		res.To().Params.Add("tag", b.tag)
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: b.tag, Host: "127.0.0.1", Port: int(proxyAddr.Port())}})
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		if err := in.tx.Respond(res); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, b.tag+"'s audio and video", func() bool {
			a, v := b.sink.counts()
			return a >= 10 && v >= 10
		})
		if i == 0 {
			if info := c.Info(); !info.EarlyMedia || info.State != StateRinging {
				t.Errorf("after the first 183: %+v", info)
			}
			continue
		}
		// The previous branch gets nothing more once this one receives:
		// at most what was already under way.
		prev := branches[i-1].sink
		a0, v0 := prev.counts()
		cur := b.sink
		ca, cv := cur.counts()
		waitFor(t, 10*time.Second, b.tag+"'s next second of media", func() bool {
			a, v := cur.counts()
			return a >= ca+50 && v >= cv+50
		})
		if a, v := prev.counts(); a > a0+2 || v > v0+40 {
			t.Errorf("%s still receives after %s took over: audio %d→%d, video %d→%d", branches[i-1].tag, b.tag, a0, a, v0, v)
		}
	}
	select {
	case <-c.Answered():
	case <-time.After(10 * time.Second):
		t.Fatalf("not answered: %+v", c.Info())
	}
	if info := c.Info(); info.Codec != "PCMA" {
		t.Errorf("codec %q after branch C's PCMA answer", info.Codec)
	}
	c.Hangup()
	waitDone(t, c, 5*time.Second)
	if info := c.Info(); info.Reason != "本方挂断" {
		t.Errorf("BYE to branch C not confirmed: %+v", info)
	}
}
