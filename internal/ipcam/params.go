package ipcam

import (
	"encoding/binary"

	"github.com/pion/rtp"
)

// H.264 NAL unit types the relay cares about.
const (
	nalIDR   = 5
	nalSPS   = 7
	nalPPS   = 8
	nalSTAPA = 24
	nalFUA   = 28
)

// paramSets makes sure every keyframe reaches browsers with its SPS and
// PPS: cameras that announce them only in the SDP would otherwise never
// be decoded by a viewer who joined after the stream began. Before an IDR
// that came without them it sends a STAP-A of the last parameter sets
// seen (in the stream, else from the SDP), with the IDR's timestamp;
// later sequence numbers move up by one per inserted packet, so that gaps
// (losses) stay visible.
type paramSets struct {
	sps, pps []byte
	seenTS   uint32 // timestamp of the last access unit that carried an SPS
	seen     bool
	shift    uint16 // packets inserted so far
}

// push passes p (and, before it, the parameter sets when needed) to out.
func (ps *paramSets) push(p *rtp.Packet, out func(*rtp.Packet)) {
	hasSPS, idrStart := ps.inspect(p.Payload)
	if hasSPS {
		ps.seen, ps.seenTS = true, p.Timestamp
	}
	if idrStart && !(ps.seen && ps.seenTS == p.Timestamp) && ps.sps != nil && ps.pps != nil {
		stap := make([]byte, 0, 5+len(ps.sps)+len(ps.pps))
		stap = append(stap, (ps.sps[0]&0x60)|nalSTAPA)
		stap = binary.BigEndian.AppendUint16(stap, uint16(len(ps.sps)))
		stap = append(stap, ps.sps...)
		stap = binary.BigEndian.AppendUint16(stap, uint16(len(ps.pps)))
		stap = append(stap, ps.pps...)
		h := p.Header
		h.Marker = false
		h.SequenceNumber += ps.shift
		out(&rtp.Packet{Header: h, Payload: stap})
		ps.shift++
		ps.seen, ps.seenTS = true, p.Timestamp
	}
	if ps.shift == 0 {
		out(p)
		return
	}
	q := *p
	q.SequenceNumber += ps.shift
	out(&q)
}

// inspect says whether payload carries an SPS and whether it starts an IDR
// picture, and keeps the parameter sets it carries.
func (ps *paramSets) inspect(payload []byte) (hasSPS, idrStart bool) {
	if len(payload) < 1 {
		return false, false
	}
	note := func(nal []byte) {
		if len(nal) == 0 {
			return
		}
		switch nal[0] & 0x1f {
		case nalSPS:
			hasSPS = true
			ps.sps = append(ps.sps[:0:0], nal...)
		case nalPPS:
			ps.pps = append(ps.pps[:0:0], nal...)
		case nalIDR:
			idrStart = true
		}
	}
	switch t := payload[0] & 0x1f; t {
	case nalSTAPA:
		for rest := payload[1:]; len(rest) >= 2; {
			n := int(binary.BigEndian.Uint16(rest))
			rest = rest[2:]
			if n > len(rest) {
				break
			}
			note(rest[:n])
			rest = rest[n:]
		}
	case nalFUA:
		if len(payload) >= 2 && payload[1]&0x80 != 0 && payload[1]&0x1f == nalIDR {
			idrStart = true
		}
	default:
		note(payload)
	}
	return hasSPS, idrStart
}
