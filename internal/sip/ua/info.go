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
