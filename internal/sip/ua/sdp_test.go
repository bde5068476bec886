package ua

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
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

// TestH264Stream checks the test pattern's structure: start codes, NAL
// types, no start code emulated inside a NAL unit.
func TestH264Stream(t *testing.T) {
	key := videoFrame(0)
	var types []byte
	for _, n := range bytes.Split(key, []byte{0, 0, 0, 1})[1:] {
		types = append(types, n[0]&0x1F)
		if bytes.Contains(n, []byte{0, 0, 1}) || bytes.Contains(n, []byte{0, 0, 0}) {
			t.Errorf("NAL type %d carries a start code", n[0]&0x1F)
		}
	}
	if !bytes.Equal(types, []byte{7, 8, 5}) {
		t.Errorf("key frame NAL types %v, want SPS, PPS, IDR", types)
	}
	if n := len(key); n < 99*384 || n > 99*384+400 {
		t.Errorf("key frame of %d bytes", n)
	}
	if p := videoFrame(1); p[4]&0x1F != 1 || len(p) > 20 {
		t.Errorf("skip frame % x", p)
	}
	// ue(v) codes of the bit writer: 0 → 1, 1 → 010, 25 → 000011010.
	var w bitWriter
	w.ue(0)
	w.ue(1)
	w.ue(25)
	w.trailing()
	if !bytes.Equal(w.buf, []byte{0b10100000, 0b11010100}) {
		t.Errorf("ue codes %08b", w.buf)
	}
}
