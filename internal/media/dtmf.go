package media

import (
	"errors"
	"strings"
	"time"

	"github.com/pion/rtp"
)

// dtmfPacket is one 20 ms step of an RFC 4733 event; an event lasts
// 100 ms and its end is sent three times.
const (
	dtmfStep     = 160
	dtmfDuration = 800
	dtmfEnds     = 3
)

// SendDTMF sends key (0-9, *, #, A-D) to the device as RFC 4733 events.
// It fails when the device offered no telephone-event or before Start.
func (rs *RTPStream) SendDTMF(key byte) error {
	code := strings.IndexByte("0123456789*#ABCD", key)
	if code < 0 {
		return errors.New("按键只能是 0-9、*、#、A-D")
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	select {
	case <-rs.stop:
		return errors.New("视频通话已结束")
	default:
	}
	if !rs.started || rs.peer.EventPT == 0 {
		return errors.New("设备不支持 RFC 4733 按键（telephone-event）")
	}
	rs.dtmfPending = append(rs.dtmfPending, byte(code))
	if !rs.dtmfRunning {
		rs.dtmfRunning = true
		rs.wg.Add(1)
		go rs.sendDTMF()
	}
	return nil
}

// sendDTMF plays the queued events; microphone audio pauses meanwhile.
// The events use their own source in the talk rewriter, so numbering
// stays continuous for the device.
func (rs *RTPStream) sendDTMF() {
	defer rs.wg.Done()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	src := rs.talkSSRC ^ 0x5a5a5a5a
	var seq uint16
	var ts uint32
	for {
		rs.mu.Lock()
		if len(rs.dtmfPending) == 0 {
			rs.dtmfRunning = false
			rs.mu.Unlock()
			return
		}
		code := rs.dtmfPending[0]
		rs.dtmfPending = rs.dtmfPending[1:]
		rs.mu.Unlock()
		ts += dtmfDuration + dtmfStep
		for dur, ends := dtmfStep, 0; ends < dtmfEnds; {
			select {
			case <-rs.stop:
				return
			case <-t.C:
			}
			flags := byte(10) // volume −10 dBm0
			if dur >= dtmfDuration {
				flags |= 0x80
				ends++
			}
			seq++
			rs.sendEvent(rtp.Header{Version: 2, Marker: dur == dtmfStep, SSRC: src, SequenceNumber: seq, Timestamp: ts},
				[]byte{code, flags, byte(dur >> 8), byte(dur)})
			dur = min(dur+dtmfStep, dtmfDuration)
		}
	}
}

func (rs *RTPStream) sendEvent(h rtp.Header, payload []byte) {
	rs.mu.Lock()
	to := rs.audioLatch
	if !to.IsValid() {
		to = rs.peer.Audio
	}
	rs.talk.rewrite(&h, time.Now())
	h.SSRC, h.PayloadType = rs.talkSSRC, rs.peer.EventPT
	rs.mu.Unlock()
	b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err != nil || !to.IsValid() {
		return
	}
	if _, err := rs.audio.rtp.WriteToUDPAddrPort(b, to); err == nil {
		rs.audioOut.Add(1)
	}
}
