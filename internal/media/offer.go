package media

import (
	"strings"

	"github.com/pion/sdp/v3"
)

// offerMedia is what a browser's offer asks for, as far as the relay cares.
type offerMedia struct {
	video, audio bool // an active m-line of that kind
	h264CB       bool // H.264 constrained baseline, packetization-mode=1
	pcmu, pcma   bool
}

// checkOffer parses a browser's offer and tells whether the relay can
// answer it for a stream with the given audio payload type (255: none).
// The error is a codecError in Chinese naming what is missing.
func checkOffer(offer string, audioPT uint8) (offerMedia, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return offerMedia{}, &parseError{err}
	}
	var om offerMedia
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Port.Value == 0 {
			continue
		}
		rtpmap := map[string]string{} // PT → lower-case encoding name
		fmtp := map[string]string{}
		for _, a := range m.Attributes {
			pt, rest, ok := strings.Cut(a.Value, " ")
			switch a.Key {
			case "rtpmap":
				if ok {
					rtpmap[pt] = strings.ToLower(rest)
				}
			case "fmtp":
				if ok {
					fmtp[pt] = strings.ToLower(rest)
				}
			}
		}
		switch m.MediaName.Media {
		case "video":
			om.video = true
			for _, pt := range m.MediaName.Formats {
				if strings.HasPrefix(rtpmap[pt], "h264/90000") && h264ConstrainedBaseline(fmtp[pt]) {
					om.h264CB = true
				}
			}
		case "audio":
			om.audio = true
			for _, pt := range m.MediaName.Formats {
				name := rtpmap[pt]
				if pt == "0" || strings.HasPrefix(name, "pcmu/8000") {
					om.pcmu = true
				}
				if pt == "8" || strings.HasPrefix(name, "pcma/8000") {
					om.pcma = true
				}
			}
		}
	}
	switch {
	case !om.video && !om.audio:
		return om, &codecError{"浏览器的请求里没有音视频"}
	case om.video && !om.h264CB:
		return om, &codecError{"浏览器不支持 H.264 视频（需要 constrained baseline，packetization-mode=1）"}
	case om.audio && audioPT != 255 && !om.pcmu && !om.pcma:
		return om, &codecError{"浏览器不支持 G.711 音频（需要 PCMU 或 PCMA）"}
	}
	return om, nil
}

// h264ConstrainedBaseline reads an H.264 fmtp line the way the WebRTC
// stack matches it: packetization-mode 1 and profile-level-id 42e0xx.
func h264ConstrainedBaseline(fmtp string) bool {
	var mode1, cb bool
	for _, kv := range strings.Split(fmtp, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "packetization-mode":
			mode1 = v == "1"
		case "profile-level-id":
			cb = len(v) == 6 && strings.HasPrefix(v, "42e0")
		}
	}
	return mode1 && cb
}

// parseError is an offer that is not SDP.
type parseError struct{ err error }

func (e *parseError) Error() string { return "浏览器发来的 SDP 无法解析：" + e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }
