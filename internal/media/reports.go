package media

import (
	"net/netip"
	"time"

	"github.com/pion/rtcp"
)

// reportInterval is how often the device gets RTCP receiver reports.
const reportInterval = 5 * time.Second

// sendReports sends a receiver report for the device's audio and video to
// their RTCP ports every interval until the stream closes; some door
// stations end a call whose RTCP stays silent.
func (rs *RTPStream) sendReports(interval time.Duration) {
	defer rs.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-rs.stop:
			return
		case <-t.C:
		}
		rs.mu.Lock()
		started := rs.started
		audioTo, videoTo := rs.audioRTCPTarget(), rs.rtcpTarget()
		audio, video := rs.audioIn.report(), rs.videoIn.report()
		rs.mu.Unlock()
		if !started {
			continue
		}
		rs.sendReport(rs.audio.rtcp.WriteToUDPAddrPort, audioTo, audio)
		rs.sendReport(rs.video.rtcp.WriteToUDPAddrPort, videoTo, video)
	}
}

func (rs *RTPStream) sendReport(write func([]byte, netip.AddrPort) (int, error), to netip.AddrPort, r *rtcp.ReceptionReport) {
	if !to.IsValid() || r == nil {
		return
	}
	b, err := (&rtcp.ReceiverReport{SSRC: rs.talkSSRC, Reports: []rtcp.ReceptionReport{*r}}).Marshal()
	if err == nil {
		_, _ = write(b, to)
	}
}

// audioRTCPTarget is like rtcpTarget for audio; rs.mu is held.
func (rs *RTPStream) audioRTCPTarget() netip.AddrPort {
	if rs.audioRTCP.IsValid() {
		return rs.audioRTCP
	}
	a := rs.audioLatch
	if !a.IsValid() {
		a = rs.peer.Audio
	}
	if !a.IsValid() {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Addr(), a.Port()+1)
}

// report is the reception report block of the counter (nil before any
// packet), with the fraction lost since the previous report.
func (c *rtpCounter) report() *rtcp.ReceptionReport {
	if !c.started {
		return nil
	}
	expected := c.packets + c.lost - c.lastExpected
	lost := c.lost - c.lastLost
	c.lastExpected, c.lastLost = c.packets+c.lost, c.lost
	var fraction uint8
	if expected > 0 && lost > 0 {
		fraction = uint8(min(255, lost*256/expected))
	}
	return &rtcp.ReceptionReport{
		SSRC: c.ssrc, FractionLost: fraction, TotalLost: uint32(min(c.lost, 0x7fffff)),
		LastSequenceNumber: uint32(c.lastSeq), Jitter: uint32(c.jitter),
	}
}
