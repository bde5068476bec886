package media

import (
	"time"

	"github.com/pion/rtp"
)

// rewriter renumbers an RTP stream whose source may change (a new fork
// answered, a device restarted, another talker) so that the receiver sees
// one stream: sequence numbers continue by one and timestamps advance by
// the wall-clock time that passed.
type rewriter struct {
	clock   uint32 // Hz of the RTP clock
	started bool
	src     uint32 // SSRC of the current source
	seqOff  uint16
	tsOff   uint32
	lastSeq uint16 // highest output sequence number
	lastTS  uint32
	lastAt  time.Time
}

// rewrite changes h's sequence number and timestamp in place.
func (w *rewriter) rewrite(h *rtp.Header, now time.Time) {
	switch {
	case !w.started:
		w.started = true
		w.src = h.SSRC
	case h.SSRC != w.src:
		w.src = h.SSRC
		w.seqOff = w.lastSeq + 1 - h.SequenceNumber
		ticks := uint32(now.Sub(w.lastAt).Seconds() * float64(w.clock))
		w.tsOff = w.lastTS + max(ticks, 1) - h.Timestamp
	}
	h.SequenceNumber += w.seqOff
	h.Timestamp += w.tsOff
	// Reordered packets keep their place; only newer ones move the mark.
	if d := int16(h.SequenceNumber - w.lastSeq); d > 0 || w.lastAt.IsZero() {
		w.lastSeq, w.lastTS, w.lastAt = h.SequenceNumber, h.Timestamp, now
	}
}

// rtpCounter keeps the receive statistics of one incoming RTP stream:
// packets, bytes, losses by sequence gaps and the RFC 3550 interarrival
// jitter.
type rtpCounter struct {
	clock   float64
	packets int64
	bytes   int64
	lost    int64
	jitter  float64 // in RTP clock ticks
	started bool
	ssrc    uint32
	lastSeq uint16
	lastTS  uint32
	lastAt  time.Time
	// at the previous receiver report
	lastExpected, lastLost int64
}

func (c *rtpCounter) add(p *rtp.Packet, size int, now time.Time) {
	c.packets++
	c.bytes += int64(size)
	if !c.started || p.SSRC != c.ssrc {
		c.started, c.ssrc, c.lastSeq, c.lastTS, c.lastAt = true, p.SSRC, p.SequenceNumber, p.Timestamp, now
		return
	}
	gap := int16(p.SequenceNumber - c.lastSeq)
	if gap > 0 {
		if gap > 1 && gap < 3000 {
			c.lost += int64(gap - 1)
		}
		c.lastSeq = p.SequenceNumber
	}
	// D(i,j) of RFC 3550 §6.4.1, with the timestamp difference taken
	// modulo 2^32 so that a wrap is no jump.
	d := now.Sub(c.lastAt).Seconds()*c.clock - float64(int32(p.Timestamp-c.lastTS))
	c.lastTS, c.lastAt = p.Timestamp, now
	if d < 0 {
		d = -d
	}
	c.jitter += (d - c.jitter) / 16
}

func (c *rtpCounter) jitterDuration() time.Duration {
	if c.clock == 0 {
		return 0
	}
	return time.Duration(c.jitter / c.clock * float64(time.Second))
}

// isKeyframeStart tells whether an H.264 RTP payload begins an IDR
// picture or the parameter sets before one.
func isKeyframeStart(payload []byte) bool {
	if len(payload) < 2 {
		return false
	}
	switch t := payload[0] & 0x1f; t {
	case 5, 7:
		return true
	case 24: // STAP-A: 16-bit sizes before each NAL unit
		for b := payload[1:]; len(b) > 2; {
			n := int(b[0])<<8 | int(b[1])
			if n == 0 || len(b) < 2+n {
				return false
			}
			if u := b[2] & 0x1f; u == 5 || u == 7 {
				return true
			}
			b = b[2+n:]
		}
	case 28: // FU-A: the start fragment names the NAL type
		return payload[1]&0x80 != 0 && (payload[1]&0x1f == 5 || payload[1]&0x1f == 7)
	}
	return false
}
