package ua

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"linli/internal/peers"
)

// startBaresip runs baresip as an auto-answering indoor monitor on
// loopback: no sound card (a WAV file of a 440 Hz tone as microphone, the
// audio bridge as loudspeaker), G.711 only. It returns the peer and its
// SIP address.
func startBaresip(t *testing.T, video bool) (*peers.Baresip, string) {
	t.Helper()
	p, err := peers.StartMonitor(t.Context(), t.TempDir(), video)
	if errors.Is(err, peers.ErrMissing) && os.Getenv("CI_REQUIRE_SIPP") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, p.SIPAddr()
}

func TestInteropCallBaresip(t *testing.T) {
	p, addr := startBaresip(t, false)
	door := newAgent(t, Config{Username: "d7"})
	c, err := door.Call(t.Context(), "sip:monitor@"+addr)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Answered():
	case <-c.Done():
		t.Fatalf("baresip refused: %+v\n%s", c.Info(), p.Output())
	case <-time.After(10 * time.Second):
		t.Fatalf("baresip did not answer: %+v\n%s", c.Info(), p.Output())
	}
	// baresip's sine reaches the door, the door's tone reaches baresip.
	waitFor(t, 5*time.Second, "baresip's audio", func() bool { return c.Info().PacketsReceived >= 50 })
	if err := c.SendDTMF(t.Context(), "5", "rtp"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	c.Hangup()
	waitDone(t, c, 5*time.Second)
	info := c.Info()
	if info.Reason != "本方挂断" {
		t.Errorf("BYE not confirmed: %+v", info)
	}
	// baresip prints its own count when the call ends:
	//   packets:             75           67   (transmit, receive)
	var stats []string
	waitFor(t, 5*time.Second, "baresip's RTP summary", func() bool {
		for line := range strings.Lines(p.Output()) {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "packets:" {
				stats = f[1:]
				return true
			}
		}
		return false
	})
	sent, _ := strconv.Atoi(stats[0])
	received, _ := strconv.Atoi(stats[1])
	t.Logf("door sent %d and received %d RTP packets; baresip sent %d and received %d", info.PacketsSent, info.PacketsReceived, sent, received)
	if received < int(info.PacketsSent)-2 || info.PacketsReceived < int64(sent)-2 {
		t.Errorf("packets lost on loopback:\n%s", p.Output())
	}
	if !strings.Contains(p.Output(), "received event: '5'") {
		t.Errorf("baresip did not see the RFC 4733 key:\n%s", p.Output())
	}
}

// TestInteropVideoBaresip: baresip decodes the door's H.264 clip with
// libavcodec (it reports the picture size only for a stream it decodes)
// and sends its own video back.
func TestInteropVideoBaresip(t *testing.T) {
	p, addr := startBaresip(t, true)
	door := newAgent(t, Config{Username: "d7", Video: true})
	c, err := door.Call(t.Context(), "sip:monitor@"+addr)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Answered():
	case <-time.After(10 * time.Second):
		t.Fatalf("baresip did not answer: %+v\n%s", c.Info(), p.Output())
	}
	waitFor(t, 10*time.Second, "baresip decoding the door's video", func() bool {
		return strings.Contains(p.Output(), "video: receiving with resolution 640 x 480")
	})
	waitFor(t, 10*time.Second, "baresip's video", func() bool { return c.Info().VideoReceived >= 10 })
	c.Hangup()
	waitDone(t, c, 5*time.Second)
	info := c.Info()
	t.Logf("door sent %d and received %d H.264 packets", info.VideoSent, info.VideoReceived)
	waitFor(t, 5*time.Second, "baresip's decoder summary", func() bool {
		return strings.Contains(p.Output(), "avcodec: decoder stats")
	})
	if !strings.Contains(p.Output(), "lost_fragments:0") {
		t.Errorf("baresip lost fragments:\n%s", p.Output())
	}
}
