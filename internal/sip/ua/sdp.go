package ua

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Static payload types of G.711 and the dynamic one this agent offers for
// RFC 4733 telephone events.
const (
	ptPCMU           = 0
	ptPCMA           = 8
	ptTelephoneEvent = 101
	ptH264           = 96
)

// sessionDesc is the part of an SDP body a G.711 audio call needs.
type sessionDesc struct {
	Addr   netip.AddrPort // where the peer receives RTP
	Codecs []uint8        // audio payload types in the peer's order of preference
	Event  uint8          // payload type of telephone-event, 0 when not offered
	// Video is where the peer receives H.264 with payload type VideoPT;
	// VideoPT is 0 when there is no usable H.264 stream.
	Video   netip.AddrPort
	VideoPT uint8
}

// audioCodec returns the first G.711 codec of the description, or false.
func (s sessionDesc) audioCodec() (uint8, bool) {
	for _, pt := range s.Codecs {
		if pt == ptPCMU || pt == ptPCMA {
			return pt, true
		}
	}
	return 0, false
}

// buildSDP writes an offer (codecs nil: PCMU, PCMA and telephone-event) or
// an answer with the chosen codec and event payload type.
//
// video, when valid, adds an H.264 stream with payload type videoPT.
func buildSDP(sessID int64, addr netip.AddrPort, codecs []uint8, event uint8, video netip.AddrPort, videoPT uint8) []byte {
	if codecs == nil {
		codecs, event = []uint8{ptPCMU, ptPCMA}, ptTelephoneEvent
	}
	ip := addr.Addr().String()
	family := "IP4"
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		family = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=linli %d %d IN %s %s\r\ns=linli\r\nc=IN %s %s\r\nt=0 0\r\n", sessID, sessID, family, ip, family, ip)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP", addr.Port())
	for _, pt := range codecs {
		fmt.Fprintf(&b, " %d", pt)
	}
	if event != 0 {
		fmt.Fprintf(&b, " %d", event)
	}
	b.WriteString("\r\n")
	for _, pt := range codecs {
		switch pt {
		case ptPCMU:
			b.WriteString("a=rtpmap:0 PCMU/8000\r\n")
		case ptPCMA:
			b.WriteString("a=rtpmap:8 PCMA/8000\r\n")
		}
	}
	if event != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", event, event)
	}
	b.WriteString("a=ptime:20\r\na=sendrecv\r\n")
	if video.IsValid() && videoPT != 0 {
		fmt.Fprintf(&b, "m=video %d RTP/AVP %d\r\na=rtpmap:%d H264/90000\r\n", video.Port(), videoPT, videoPT)
		fmt.Fprintf(&b, "a=fmtp:%d profile-level-id=42e01f;packetization-mode=1\r\na=sendrecv\r\n", videoPT)
	}
	return []byte(b.String())
}

var errNoAudio = errors.New("sdp: no usable audio stream")

// parseSDP reads the first audio stream of an SDP body (its address: the
// media-level c= line, else the session-level one; payload types; the
// telephone-event payload type) and the first H.264 video stream, if any,
// preferring an H.264 payload type with packetization-mode=1.
func parseSDP(body []byte) (sessionDesc, error) {
	var (
		d                  sessionDesc
		sessionIP          string
		section            string // "", audio, video, or other
		seenAudio          bool
		seenVideo          bool
		audioIP, videoIP   string
		audioPort, vidPort int
		videoPTs           []uint8
		h264PTs            []uint8 // in the order of the a=rtpmap lines
		nonInterleaved     []uint8 // video payload types with packetization-mode=1
	)
	for line := range strings.Lines(string(body)) {
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		val := line[2:]
		switch line[0] {
		case 'm':
			section = "other"
			f := strings.Fields(val)
			if len(f) < 4 || f[0] == "audio" && seenAudio || f[0] == "video" && seenVideo || f[0] != "audio" && f[0] != "video" {
				continue
			}
			p, err := strconv.Atoi(strings.SplitN(f[1], "/", 2)[0])
			if err != nil || p < 0 || p > 65535 {
				return d, fmt.Errorf("sdp: bad port %q", f[1])
			}
			var pts []uint8
			for _, s := range f[3:] {
				if pt, err := strconv.ParseUint(s, 10, 7); err == nil {
					pts = append(pts, uint8(pt))
				}
			}
			section = f[0]
			if section == "audio" {
				seenAudio, audioPort, d.Codecs = true, p, pts
			} else {
				seenVideo, vidPort, videoPTs = true, p, pts
			}
		case 'c':
			f := strings.Fields(val)
			if len(f) < 3 {
				continue
			}
			ip := strings.SplitN(f[2], "/", 2)[0]
			switch section {
			case "":
				sessionIP = ip
			case "audio":
				audioIP = ip
			case "video":
				videoIP = ip
			}
		case 'a':
			if section == "video" && strings.HasPrefix(val, "fmtp:") {
				pt, params, _ := strings.Cut(strings.TrimPrefix(val, "fmtp:"), " ")
				if n, err := strconv.ParseUint(pt, 10, 7); err == nil && strings.Contains(strings.ReplaceAll(params, " ", ""), "packetization-mode=1") {
					nonInterleaved = append(nonInterleaved, uint8(n))
				}
				continue
			}
			if section != "audio" && section != "video" || !strings.HasPrefix(val, "rtpmap:") {
				continue
			}
			f := strings.Fields(strings.TrimPrefix(val, "rtpmap:"))
			if len(f) != 2 {
				continue
			}
			pt, err := strconv.ParseUint(f[0], 10, 7)
			if err != nil {
				continue
			}
			enc := strings.ToLower(f[1])
			switch {
			case section == "audio" && strings.HasPrefix(enc, "telephone-event/"):
				d.Event = uint8(pt)
			case section == "video" && strings.HasPrefix(enc, "h264/90000") && slices.Contains(videoPTs, uint8(pt)):
				h264PTs = append(h264PTs, uint8(pt))
			}
		}
	}
	if !seenAudio {
		return d, errNoAudio
	}
	// The first H.264 in the m= line's order; one with packetization-mode=1
	// (FU-A, which the key frames need) before any other: baresip offers
	// mode 0 first.
	for _, pt := range videoPTs {
		if slices.Contains(h264PTs, pt) && (d.VideoPT == 0 || slices.Contains(nonInterleaved, pt) && !slices.Contains(nonInterleaved, d.VideoPT)) {
			d.VideoPT = pt
		}
	}
	addr := func(ip string, port int) (netip.AddrPort, error) {
		if ip == "" {
			ip = sessionIP
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("sdp: bad connection address %q", ip)
		}
		return netip.AddrPortFrom(a, uint16(port)), nil
	}
	var err error
	if d.Addr, err = addr(audioIP, audioPort); err != nil {
		return d, err
	}
	if d.VideoPT != 0 && vidPort != 0 {
		if d.Video, err = addr(videoIP, vidPort); err != nil {
			d.Video, d.VideoPT = netip.AddrPort{}, 0
		}
	} else {
		d.VideoPT = 0
	}
	return d, nil
}
