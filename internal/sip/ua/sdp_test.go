package ua

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"

	"linli/internal/clip"
)

func TestSDPRoundTrip(t *testing.T) {
	addr := netip.MustParseAddrPort("127.0.0.1:40000")
	d, err := parseSDP(buildSDP(1, addr, nil, 0, netip.AddrPort{}, 0))
	if err != nil {
		t.Fatal(err)
	}
	if d.Addr != addr || !slices.Equal(d.Codecs, []uint8{0, 8, 101}) || d.Event != 101 {
		t.Errorf("offer reads back as %+v", d)
	}
}

func TestSDPFromPeers(t *testing.T) {
	// baresip's answer: media-level address differs from the session's,
	// a dynamic telephone-event type, a video line after the audio.
	body := "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" +
		"m=audio 5004 RTP/AVP 8 96\r\nc=IN IP4 127.0.0.2\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n" +
		"m=video 5006 RTP/AVP 97\r\nc=IN IP4 127.0.0.9\r\na=rtpmap:97 telephone-event/8000\r\n"
	d, err := parseSDP([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if d.Addr != netip.MustParseAddrPort("127.0.0.2:5004") || d.Event != 96 {
		t.Errorf("%+v", d)
	}
	if c, ok := d.audioCodec(); !ok || c != ptPCMA {
		t.Errorf("codec %d %v", c, ok)
	}
	for _, bad := range []string{"", "v=0\r\nm=video 5 RTP/AVP 96\r\n", "m=audio 99999 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\n", "m=audio 5 RTP/AVP 0\r\n"} {
		if _, err := parseSDP([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParseSDP feeds the parser what a peer's INVITE or answer may carry:
// it must never panic, and what it accepts has an address.
func FuzzParseSDP(f *testing.F) {
	f.Add(buildSDP(1, netip.MustParseAddrPort("127.0.0.1:4000"), nil, 0, netip.MustParseAddrPort("127.0.0.1:4002"), ptH264))
	f.Add([]byte("m=audio 1/2 RTP/AVP 0 101\nc=IN IP6 ::1/64\na=rtpmap:101 telephone-event/8000"))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := parseSDP(body)
		if err == nil && !d.Addr.Addr().IsValid() {
			t.Errorf("accepted without an address: %+v", d)
		}
	})
}

func TestG711(t *testing.T) {
	// Reference points of ITU-T G.711: silence and the extremes.
	for _, tc := range []struct {
		in    int16
		mu, a byte
	}{{0, 0xFF, 0xD5}, {-1, 0x7F, 0x55}, {32767, 0x80, 0xAA}, {-32768, 0x00, 0x2A}} {
		if got := ulaw(tc.in); got != tc.mu {
			t.Errorf("μ-law(%d) = %#x, want %#x", tc.in, got, tc.mu)
		}
		if got := alaw(tc.in); got != tc.a {
			t.Errorf("A-law(%d) = %#x, want %#x", tc.in, got, tc.a)
		}
	}
}

func TestSDPVideo(t *testing.T) {
	d, err := parseSDP(buildSDP(1, netip.MustParseAddrPort("127.0.0.1:4000"), nil, 0, netip.MustParseAddrPort("127.0.0.1:4002"), 99))
	if err != nil {
		t.Fatal(err)
	}
	if d.Video != netip.MustParseAddrPort("127.0.0.1:4002") || d.VideoPT != 99 || d.Addr.Port() != 4000 || d.Event != 101 {
		t.Errorf("%+v", d)
	}
	// baresip's offer: H.264 in mode 0 first, then mode 1, then others.
	for _, tc := range []struct {
		body string
		want uint8
	}{
		{"c=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96 97 98\r\na=rtpmap:96 H264/90000\r\n" +
			"a=fmtp:96 packetization-mode=0;profile-level-id=42e01f\r\na=rtpmap:97 H264/90000\r\n" +
			"a=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r\na=rtpmap:98 VP8/90000\r\n", 97},
		{"c=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 98 96\r\na=rtpmap:96 H264/90000\r\n" +
			"a=rtpmap:98 H264/90000\r\na=fmtp:98 profile-level-id=42e01f\r\n", 98},
		{"c=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 100 99\r\na=rtpmap:99 H264/90000\r\n" +
			"a=fmtp:99 profile-level-id=42e01f; packetization-mode=1\r\na=rtpmap:100 H264/90000\r\na=fmtp:100 packetization-mode=1\r\n", 100},
	} {
		if d, err := parseSDP([]byte(tc.body)); err != nil || d.VideoPT != tc.want {
			t.Errorf("%q: payload type %d (%v), want %d", tc.body, d.VideoPT, err, tc.want)
		}
	}
	// A refused video stream (port 0) or one without H.264 is no video.
	for _, body := range []string{
		"c=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
		"c=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 97\r\na=rtpmap:97 VP8/90000\r\n",
	} {
		d, err := parseSDP([]byte(body))
		if err != nil || d.VideoPT != 0 {
			t.Errorf("%q: %+v %v", body, d, err)
		}
	}
}

// TestPacketizeH264: every frame of the clip packetized and put together
// again gives back its NAL units; no payload passes the MTU; large units
// go as FU-A with start and end bits.
func TestPacketizeH264(t *testing.T) {
	fragmented := 0
	for i, f := range clip.Door() {
		var got [][]byte
		var cur []byte
		for _, p := range packetizeH264(f.NALs, videoMTU) {
			if len(p) > videoMTU {
				t.Fatalf("frame %d: payload of %d bytes", i, len(p))
			}
			if p[0]&0x1F != 28 {
				got = append(got, p)
				continue
			}
			fragmented++
			if p[1]&0x80 != 0 {
				cur = []byte{p[0]&0xE0 | p[1]&0x1F}
			}
			cur = append(cur, p[2:]...)
			if p[1]&0x40 != 0 {
				got = append(got, cur)
			}
		}
		if len(got) != len(f.NALs) {
			t.Fatalf("frame %d: %d NAL units back, want %d", i, len(got), len(f.NALs))
		}
		for j := range got {
			if !bytes.Equal(got[j], f.NALs[j]) {
				t.Fatalf("frame %d NAL %d differs after packetization", i, j)
			}
		}
	}
	if fragmented == 0 {
		t.Error("no FU-A fragment in the whole clip")
	}
	if f := clip.Door(); nextKeyframe(f, 1) != 25 || nextKeyframe(f, 0) != 0 || nextKeyframe(f, len(f)-1) != 0 {
		t.Errorf("next key frames %d %d %d", nextKeyframe(f, 1), nextKeyframe(f, 0), nextKeyframe(f, len(f)-1))
	}
}
