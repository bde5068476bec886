package media

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func TestG711Conversion(t *testing.T) {
	// Every µ-law value converted to A-law and back stays within one
	// A-law step of where it was, and the sign is kept.
	for i := range 256 {
		u := byte(i)
		back := convertG711(convertG711([]byte{u}, 8), 0)[0]
		a, b := int(ulawToLinear(u)), int(ulawToLinear(back))
		if (a < 0) != (b < 0) && a != 0 && b != 0 {
			t.Fatalf("µ-law %#x: sign lost (%d → %d)", u, a, b)
		}
		if d := a - b; d > 1024 || d < -1024 || (abs(a) < 256 && (d > 32 || d < -32)) {
			t.Fatalf("µ-law %#x: %d came back as %d", u, a, b)
		}
	}
	for _, s := range []int16{0, 100, -100, 1000, -1000, 30000, -30000} {
		if got := alawToLinear(linearToAlaw(s)); abs(int(got)-int(s)) > abs(int(s))/16+16 {
			t.Errorf("A-law round trip of %d gave %d", s, got)
		}
		if got := ulawToLinear(linearToUlaw(s)); abs(int(got)-int(s)) > abs(int(s))/16+16 {
			t.Errorf("µ-law round trip of %d gave %d", s, got)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestCheckOffer(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	video := func(fmtp string) string {
		return "m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\na=fmtp:102 " + fmtp + "\r\n"
	}
	audio := func(formats, maps string) string { return "m=audio 9 UDP/TLS/RTP/SAVPF " + formats + "\r\n" + maps }
	cb := "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	for _, tc := range []struct {
		name, sdp string
		audioPT   uint8
		want      string // "" for accepted
	}{
		{"chrome-like", video(cb) + audio("111 0 8", "a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"), 0, ""},
		{"static PCMA without rtpmap", video(cb) + audio("8", ""), 0, ""},
		{"mode 0", video("packetization-mode=0;profile-level-id=42e01f") + audio("0", ""), 0, "H.264"},
		{"baseline without constraint", video("packetization-mode=1;profile-level-id=42001f") + audio("0", ""), 0, "constrained baseline"},
		{"opus only", video(cb) + audio("111", "a=rtpmap:111 opus/48000/2\r\n"), 0, "G.711"},
		{"opus only, stream without audio", video(cb) + audio("111", "a=rtpmap:111 opus/48000/2\r\n"), 255, ""},
		{"no media", "", 0, "没有音视频"},
		{"video rejected, audio only", "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n" + audio("0", ""), 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkOffer(head+tc.sdp, tc.audioPT)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrNoCommonCodec) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := checkOffer("not sdp", 0); err == nil || errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("garbage: %v", err)
	}
}

func FuzzCheckOffer(f *testing.F) {
	f.Add("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1;profile-level-id=42e01f\r\n")
	f.Add("v=0\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = checkOffer(s, 0)
	})
}

// TestBrowserWithOtherLaw: a browser that offers only PCMA still hears a
// PCMU door station, converted.
func TestBrowserWithOtherLaw(t *testing.T) {
	r := newTestRelay(t, Config{})
	rs, _ := startDevice(t, r, 0)
	b := newBrowser(t, browserOptions{
		videoCodecs: []webrtc.RTPCodecParameters{{RTPCodecCapability: h264Codec.RTPCodecCapability, PayloadType: 102}},
		audioCodecs: []webrtc.RTPCodecParameters{{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000}, PayloadType: 8}},
	})
	_, answer, err := rs.Stream().AddViewer(b.offer(t), ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(answer, "PCMU") {
		t.Errorf("answer offers PCMU the browser did not:\n%s", answer)
	}
	b.answer(t, answer)
	waitFor(t, "converted audio at the browser", func() bool { return b.audioPackets.Load() >= 25 })
	waitFor(t, "video at the browser", func() bool { return b.frames.Load() >= 5 })
}

func TestCounterAcrossTimestampWrap(t *testing.T) {
	c := rtpCounter{clock: 8000}
	start := time.Unix(1000, 0)
	ts := uint32(math.MaxUint32 - 800)
	for i := range 20 {
		p := &rtp.Packet{Header: rtp.Header{SSRC: 1, SequenceNumber: uint16(65530 + i), Timestamp: ts}}
		if i != 7 { // one lost
			c.add(p, 172, start.Add(time.Duration(i)*20*time.Millisecond))
		}
		ts += 160
	}
	if c.jitterDuration() > time.Millisecond || c.lost != 1 || c.packets != 19 {
		t.Errorf("jitter %v, lost %d, packets %d", c.jitterDuration(), c.lost, c.packets)
	}
}
