package ua

import (
	"fmt"
	"strings"
)

// dtmfRelayType is the content type of SIP INFO key presses.
const dtmfRelayType = "application/dtmf-relay"

// dtmfRelayBody is the INFO body for one key: Signal=#, Duration=160 (ms).
func dtmfRelayBody(d byte) []byte {
	return fmt.Appendf(nil, "Signal=%c\r\nDuration=160\r\n", d)
}

// parseDTMFInfo returns the key of an INFO body: application/dtmf-relay
// ("Signal=#") or application/dtmf (the bare key).
func parseDTMFInfo(contentType string, body []byte) (byte, bool) {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch ct {
	case dtmfRelayType:
		for line := range strings.Lines(string(body)) {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				v = strings.TrimSpace(v)
				if len(v) == 1 {
					if _, ok := dtmfEvent(v[0]); ok {
						return strings.ToUpper(v)[0], true
					}
				}
				// Some phones send the event code (Signal=11 for #).
				for i := range len(dtmfDigits) {
					if fmt.Sprint(i) == v {
						return dtmfDigits[i], true
					}
				}
			}
		}
	case "application/dtmf":
		v := strings.TrimSpace(string(body))
		if len(v) == 1 {
			if _, ok := dtmfEvent(v[0]); ok {
				return strings.ToUpper(v)[0], true
			}
		}
	}
	return 0, false
}

// mediaControlType is the content type of a key frame request in SIP INFO
// (the XML schema of draft-levin-mmusic-xml-media-control, which video
// phones and door stations still use).
const mediaControlType = "application/media_control+xml"

// isFastUpdate reports whether an INFO body asks for a key frame
// (<picture_fast_update/>).
func isFastUpdate(contentType string, body []byte) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	return ct == mediaControlType && strings.Contains(string(body), "picture_fast_update")
}

// fastUpdateBody asks for a key frame.
const fastUpdateBody = `<?xml version="1.0" encoding="utf-8" ?>
<media_control><vc_primitive><to_encoder><picture_fast_update/></to_encoder></vc_primitive></media_control>
`
