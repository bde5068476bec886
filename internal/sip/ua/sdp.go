package ua

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Static payload types of G.711 and the dynamic one this agent offers for
// RFC 4733 telephone events.
const (
	ptPCMU           = 0
	ptPCMA           = 8
	ptTelephoneEvent = 101
)

// sessionDesc is the part of an SDP body a G.711 audio call needs.
type sessionDesc struct {
	Addr   netip.AddrPort // where the peer receives RTP
	Codecs []uint8        // audio payload types in the peer's order of preference
	Event  uint8          // payload type of telephone-event, 0 when not offered
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
func buildSDP(sessID int64, addr netip.AddrPort, codecs []uint8, event uint8) []byte {
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
	return []byte(b.String())
}

var errNoAudio = errors.New("sdp: no usable audio stream")

// parseSDP reads the first audio stream of an SDP body: its address (the
// media-level c= line, else the session-level one), payload types and the
// telephone-event payload type.
func parseSDP(body []byte) (sessionDesc, error) {
	var (
		d                  sessionDesc
		sessionIP, mediaIP string
		port               int
		inAudio, seenAudio bool
	)
	for line := range strings.Lines(string(body)) {
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		val := line[2:]
		switch line[0] {
		case 'm':
			if seenAudio {
				inAudio = false
				continue
			}
			f := strings.Fields(val)
			if len(f) < 4 || f[0] != "audio" {
				inAudio = false
				continue
			}
			p, err := strconv.Atoi(strings.SplitN(f[1], "/", 2)[0])
			if err != nil || p < 0 || p > 65535 {
				return d, fmt.Errorf("sdp: bad port %q", f[1])
			}
			port, inAudio, seenAudio = p, true, true
			for _, s := range f[3:] {
				if pt, err := strconv.ParseUint(s, 10, 7); err == nil {
					d.Codecs = append(d.Codecs, uint8(pt))
				}
			}
		case 'c':
			f := strings.Fields(val)
			if len(f) < 3 {
				continue
			}
			ip := strings.SplitN(f[2], "/", 2)[0]
			if inAudio {
				mediaIP = ip
			} else if !seenAudio {
				sessionIP = ip
			}
		case 'a':
			if !inAudio || !strings.HasPrefix(val, "rtpmap:") {
				continue
			}
			f := strings.Fields(strings.TrimPrefix(val, "rtpmap:"))
			if len(f) == 2 && strings.HasPrefix(strings.ToLower(f[1]), "telephone-event/") {
				if pt, err := strconv.ParseUint(f[0], 10, 7); err == nil {
					d.Event = uint8(pt)
				}
			}
		}
	}
	if !seenAudio {
		return d, errNoAudio
	}
	ip := mediaIP
	if ip == "" {
		ip = sessionIP
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return d, fmt.Errorf("sdp: bad connection address %q", ip)
	}
	d.Addr = netip.AddrPortFrom(a, uint16(port))
	return d, nil
}
