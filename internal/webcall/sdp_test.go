package webcall

import (
	"net/netip"
	"strings"
	"testing"

	"linli/internal/media"
)

const baresipOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n" +
	"m=video 4002 RTP/AVP 96 97 34\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=0;profile-level-id=42e01f\r\n" +
	"a=rtpmap:97 H264/90000\r\na=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r\na=rtpmap:34 H263/90000\r\na=rtcp-fb:* nack pli\r\n" +
	"m=application 5000 UDP/BFCP *\r\n"

func TestParseDeviceOffer(t *testing.T) {
	d, err := parseDevice([]byte(baresipOffer))
	if err != nil {
		t.Fatal(err)
	}
	p := d.peer
	if p.Audio != netip.MustParseAddrPort("127.0.0.1:4000") || p.AudioPT != 0 || p.EventPT != 101 {
		t.Errorf("audio: %+v", p)
	}
	// packetization-mode=1 is preferred even when listed second.
	if p.Video != netip.MustParseAddrPort("127.0.0.1:4002") || p.VideoPT != 97 || p.FastUpdateViaSIP {
		t.Errorf("video: %+v", p)
	}
	if strings.Join(d.kinds, ",") != "audio,video,other" {
		t.Errorf("lines: %v", d.kinds)
	}
}

func TestParseDeviceRefusals(t *testing.T) {
	for name, body := range map[string]string{
		"not SDP":       "hello",
		"only Opus":     "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n",
		"audio port 0":  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n",
		"no connection": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"PCMU renamed":  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 opus/48000\r\n",
	} {
		if _, err := parseDevice([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The answer keeps the offer's lines in order (RFC 3264): audio with the
// chosen codec, video with the chosen payload type and the device's
// format parameters, anything else refused with port 0.
func TestDeviceAnswer(t *testing.T) {
	r, err := media.New(media.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st, err := r.NewRTPStream(1, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := parseDevice([]byte(baresipOffer))
	if err != nil {
		t.Fatal(err)
	}
	ans := string(deviceSDP(1, st, &d))
	var m []string
	for _, l := range strings.Split(ans, "\r\n") {
		if strings.HasPrefix(l, "m=") {
			m = append(m, l)
		}
	}
	if len(m) != 3 || !strings.HasPrefix(m[0], "m=audio ") || !strings.HasSuffix(m[0], " RTP/AVP 0 101") ||
		!strings.HasSuffix(m[1], " RTP/AVP 97") || m[2] != "m=application 0 UDP/BFCP *" {
		t.Errorf("answer lines: %q", m)
	}
	if !strings.Contains(ans, "a=fmtp:97 packetization-mode=1;profile-level-id=42e01f") {
		t.Errorf("the device's own format parameters: %s", ans)
	}
	back, err := parseDevice([]byte(ans))
	if err != nil || back.peer.Audio != st.Audio() || back.peer.Video != st.Video() {
		t.Errorf("the answer does not parse back to the relay's ports: %+v %v", back.peer, err)
	}
	offer := string(deviceSDP(1, st, nil))
	if !strings.Contains(offer, "m=audio ") || !strings.Contains(offer, "a=recvonly") || !strings.Contains(offer, "packetization-mode=1") {
		t.Errorf("offer: %s", offer)
	}
}

func FuzzParseDevice(f *testing.F) {
	f.Add([]byte(baresipOffer))
	f.Add([]byte("v=0\r\nm=video 1 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseDevice(b)
		if err != nil {
			return
		}
		if !d.peer.Audio.IsValid() || (d.peer.AudioPT != 0 && d.peer.AudioPT != 8) {
			t.Fatalf("accepted without usable audio: %+v", d.peer)
		}
		if len(d.kinds) != len(d.lines) {
			t.Fatalf("lines and kinds differ: %d %d", len(d.kinds), len(d.lines))
		}
	})
}
