package webcall

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"linli/internal/media"
)

// Static payload types of G.711, and the dynamic ones the gateway offers.
const (
	ptPCMU  = 0
	ptPCMA  = 8
	ptEvent = 101
	ptH264  = 96
)

var errNoAudio = errors.New("没有可用的音频编码（需要 PCMU 或 PCMA）")

// deviceDesc is a device's SDP: where and how it receives, and its media
// lines in order (an answer has the same lines, RFC 3264).
type deviceDesc struct {
	peer  media.Peer
	lines []string // "m=" lines, for rejecting what the gateway does not take
	kinds []string // audio, video or other, per line
	// videoFmtp is the device's format parameters of its H.264 payload type.
	videoFmtp string
}

// parseDevice reads a device's SDP (offer or answer).
func parseDevice(body []byte) (deviceDesc, error) {
	var d sdp.SessionDescription
	var out deviceDesc
	if err := d.UnmarshalString(string(body)); err != nil {
		return out, fmt.Errorf("SDP 无法解析：%w", err)
	}
	conn := func(m *sdp.MediaDescription) (netip.Addr, bool) {
		c := m.ConnectionInformation
		if c == nil {
			c = d.ConnectionInformation
		}
		if c == nil || c.Address == nil {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(c.Address.Address)
		return a, err == nil
	}
	p := &out.peer
	audioSet := false
	for _, m := range d.MediaDescriptions {
		kind := m.MediaName.Media
		if kind != "audio" && kind != "video" {
			kind = "other"
		}
		out.kinds = append(out.kinds, kind)
		out.lines = append(out.lines, fmt.Sprintf("m=%s 0 %s %s", m.MediaName.Media, strings.Join(m.MediaName.Protos, "/"), strings.Join(m.MediaName.Formats, " ")))
		if m.MediaName.Port.Value == 0 || len(m.MediaName.Protos) == 0 || m.MediaName.Protos[0] != "RTP" {
			continue
		}
		ip, ok := conn(m)
		if !ok {
			continue
		}
		addr := netip.AddrPortFrom(ip, uint16(m.MediaName.Port.Value))
		rtpmap := map[uint8]string{}
		fmtp := map[uint8]string{}
		for _, a := range m.Attributes {
			pt, rest, ok := strings.Cut(a.Value, " ")
			n, err := strconv.Atoi(pt)
			if !ok || err != nil || n < 0 || n > 127 {
				continue
			}
			switch a.Key {
			case "rtpmap":
				rtpmap[uint8(n)] = strings.ToLower(rest)
			case "fmtp":
				fmtp[uint8(n)] = strings.ToLower(rest)
			}
		}
		switch m.MediaName.Media {
		case "audio":
			if audioSet {
				continue
			}
			for _, f := range m.MediaName.Formats {
				n, err := strconv.Atoi(f)
				if err != nil {
					continue
				}
				pt := uint8(n)
				name := rtpmap[pt]
				switch {
				case pt == ptPCMU && (name == "" || strings.HasPrefix(name, "pcmu/")),
					pt == ptPCMA && (name == "" || strings.HasPrefix(name, "pcma/")):
					if !audioSet {
						p.Audio, p.AudioPT, audioSet = addr, pt, true
					}
				case strings.HasPrefix(name, "telephone-event/8000"):
					p.EventPT = pt
				}
			}
		case "video":
			if p.Video.IsValid() {
				continue
			}
			// Prefer packetization-mode 1 (what browsers negotiate); mode 0
			// streams carry single NAL units, which mode 1 also allows.
			best := -1
			for _, f := range m.MediaName.Formats {
				n, err := strconv.Atoi(f)
				if err != nil || n < 0 || n > 127 || !strings.HasPrefix(rtpmap[uint8(n)], "h264/90000") {
					continue
				}
				if best < 0 || strings.Contains(fmtp[uint8(n)], "packetization-mode=1") && !strings.Contains(fmtp[uint8(best)], "packetization-mode=1") {
					best = n
				}
			}
			if best >= 0 {
				p.Video, p.VideoPT, out.videoFmtp = addr, uint8(best), fmtp[uint8(best)]
				// A device that does not announce RTCP keyframe requests
				// gets them as SIP INFO picture_fast_update too.
				p.FastUpdateViaSIP = true
				for _, a := range m.Attributes {
					if a.Key == "rtcp-fb" && (strings.Contains(a.Value, "pli") || strings.Contains(a.Value, "fir")) {
						p.FastUpdateViaSIP = false
					}
				}
			}
		}
	}
	if !audioSet {
		return out, errNoAudio
	}
	return out, nil
}

// deviceSDP writes the gateway's side towards a device: with offer nil, an
// offer of PCMU, PCMA, telephone events and H.264 (video recvonly);
// otherwise the answer to the device's offer, line by line.
func deviceSDP(sessID int64, s *media.RTPStream, offer *deviceDesc) []byte {
	audio, video := s.Audio(), s.Video()
	ip := audio.Addr().String()
	family := "IP4"
	if audio.Addr().Is6() && !audio.Addr().Is4In6() {
		family = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=linli %d %d IN %s %s\r\ns=linli\r\nc=IN %s %s\r\nt=0 0\r\n", sessID, sessID, family, ip, family, ip)
	if offer == nil {
		writeAudio(&b, audio.Port(), []uint8{ptPCMU, ptPCMA}, ptEvent)
		writeVideo(&b, video.Port(), ptH264, "")
		return []byte(b.String())
	}
	p := offer.peer
	audioDone, videoDone := false, false
	for i, kind := range offer.kinds {
		switch {
		case kind == "audio" && !audioDone:
			audioDone = true
			writeAudio(&b, audio.Port(), []uint8{p.AudioPT}, p.EventPT)
		case kind == "video" && !videoDone && p.VideoPT != 0:
			videoDone = true
			writeVideo(&b, video.Port(), p.VideoPT, offer.videoFmtp)
		default:
			b.WriteString(offer.lines[i] + "\r\n")
		}
	}
	return []byte(b.String())
}

func writeAudio(b *strings.Builder, port uint16, codecs []uint8, event uint8) {
	fmt.Fprintf(b, "m=audio %d RTP/AVP", port)
	for _, pt := range codecs {
		fmt.Fprintf(b, " %d", pt)
	}
	if event != 0 {
		fmt.Fprintf(b, " %d", event)
	}
	b.WriteString("\r\n")
	for _, pt := range codecs {
		name := "PCMU"
		if pt == ptPCMA {
			name = "PCMA"
		}
		fmt.Fprintf(b, "a=rtpmap:%d %s/8000\r\n", pt, name)
	}
	if event != 0 {
		fmt.Fprintf(b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\n", event, event)
	}
	b.WriteString("a=ptime:20\r\na=sendrecv\r\n")
}

func writeVideo(b *strings.Builder, port uint16, pt uint8, fmtp string) {
	if fmtp == "" {
		fmtp = "profile-level-id=42e01f;packetization-mode=1"
	}
	fmt.Fprintf(b, "m=video %d RTP/AVP %d\r\na=rtpmap:%d H264/90000\r\n", port, pt, pt)
	fmt.Fprintf(b, "a=fmtp:%d %s\r\n", pt, fmtp)
	fmt.Fprintf(b, "a=rtcp-fb:%d nack pli\r\na=rtcp-fb:%d ccm fir\r\na=recvonly\r\n", pt, pt)
}
