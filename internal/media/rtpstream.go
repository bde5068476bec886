package media

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// RTPStream is the device side of a stream: plain RTP/AVP with a door
// station (H.264 and G.711, RTCP on port+1, no ICE or DTLS).
type RTPStream struct {
	st           *Stream
	audio, video pair
	local        netip.Addr

	mu          sync.Mutex
	peer        Peer
	started     bool
	audioLatch  netip.AddrPort // source of the device's RTP since Start
	videoLatch  netip.AddrPort
	audioRTCP   netip.AddrPort // source of the device's RTCP, if any came
	videoRTCP   netip.AddrPort
	videoSSRC   uint32 // the device's current video SSRC, for RTCP
	onKeyframe  func()
	talk        rewriter
	talkSSRC    uint32
	firSeq      uint8
	audioIn     rtpCounter
	videoIn     rtpCounter
	dtmfPending []byte
	dtmfRunning bool

	audioOut atomic.Int64
	wg       sync.WaitGroup
	stop     chan struct{}
}

// Peer is where a device receives and which payload types it uses, from
// its SDP.
type Peer struct {
	Audio   netip.AddrPort
	AudioPT uint8          // 0 PCMU or 8 PCMA
	EventPT uint8          // the device's telephone-event payload type, 0 if none
	Video   netip.AddrPort // zero: no video
	VideoPT uint8
	// FastUpdateViaSIP makes keyframe requests also call the OnKeyframe
	// hook (SIP INFO picture_fast_update) besides RTCP PLI and FIR.
	FastUpdateViaSIP bool
}

// StreamStats counts a device's RTP.
type StreamStats struct {
	AudioPackets int64         `json:"audio_packets"` // RTP in from the device
	AudioBytes   int64         `json:"audio_bytes"`
	VideoPackets int64         `json:"video_packets"`
	VideoBytes   int64         `json:"video_bytes"`
	AudioOut     int64         `json:"audio_out"`  // RTP sent to the device (talk, DTMF)
	AudioLost    int64         `json:"audio_lost"` // by sequence gaps
	VideoLost    int64         `json:"video_lost"`
	AudioJitter  time.Duration `json:"audio_jitter"` // RFC 3550 interarrival jitter
	VideoJitter  time.Duration `json:"video_jitter"`
}

// NewRTPStream allocates an RTP/RTCP port pair for audio and one for video
// and starts receiving from the device. It returns a *LimitError
// (errors.Is ErrLimit) when the server or the community is full, and an
// error matching ErrPortsExhausted when the port range is.
func (r *Relay) NewRTPStream(communityID int, label string) (*RTPStream, error) {
	st := r.newStream(communityID, label, 0)
	if err := r.admit(st, communityID); err != nil {
		return nil, err
	}
	rs := &RTPStream{st: st, local: r.cfg.IP, stop: make(chan struct{}),
		talk: rewriter{clock: 8000}, talkSSRC: rand.Uint32(),
		audioIn: rtpCounter{clock: 8000}, videoIn: rtpCounter{clock: 90000}}
	var err error
	if rs.audio, err = r.ports.alloc(); err == nil {
		if rs.video, err = r.ports.alloc(); err != nil {
			r.ports.free(rs.audio)
		}
	}
	if err != nil {
		r.release(st)
		return nil, err
	}
	st.onClose = rs.shutdown
	st.OnKeyframeRequest(rs.requestKeyframe)
	st.OnTalk(rs.sendTalk)
	rs.wg.Add(5)
	go rs.sendReports(r.reportInterval)
	go rs.readRTP(rs.audio.rtp, false)
	go rs.readRTP(rs.video.rtp, true)
	go rs.readRTCP(rs.audio.rtcp, false)
	go rs.readRTCP(rs.video.rtcp, true)
	r.log.Info("media device stream opened", "stream", label, "community", communityID,
		"audio", rs.Audio(), "video", rs.Video())
	return rs, nil
}

// Audio is where the device must send audio RTP (for our SDP).
func (rs *RTPStream) Audio() netip.AddrPort { return addrOf(rs.audio.rtp) }

// Video is where the device must send video RTP (for our SDP).
func (rs *RTPStream) Video() netip.AddrPort { return addrOf(rs.video.rtp) }

// Stream is the stream viewers are added to.
func (rs *RTPStream) Stream() *Stream { return rs.st }

func addrOf(c *net.UDPConn) netip.AddrPort {
	a := c.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// Start tells where the device receives and which payload types it uses.
// It may be called again (re-INVITE, another fork's SDP); each call
// latches anew to the first source of the device's RTP after it.
func (rs *RTPStream) Start(p Peer) {
	rs.mu.Lock()
	rs.peer, rs.started = p, true
	rs.audioLatch, rs.videoLatch = netip.AddrPort{}, netip.AddrPort{}
	rs.audioRTCP, rs.videoRTCP = netip.AddrPort{}, netip.AddrPort{}
	rs.mu.Unlock()
	if p.AudioPT == 0 || p.AudioPT == 8 {
		rs.st.audioPT.Store(uint32(p.AudioPT))
	}
	// Viewers already watching need a keyframe from the new source; with
	// none yet, the request would only hold back the one the first viewer
	// asks for when it connects (requests are rate limited).
	if rs.st.Viewers() > 0 {
		rs.st.requestKeyframe()
	}
}

// OnKeyframe sets the hook called (at most once per 500 ms) when a viewer
// asks for a keyframe and the Peer has FastUpdateViaSIP; RTCP PLI and FIR
// go to the device's RTCP port regardless.
func (rs *RTPStream) OnKeyframe(f func()) {
	rs.mu.Lock()
	rs.onKeyframe = f
	rs.mu.Unlock()
}

// Close frees the ports and closes the stream and its viewers.
func (rs *RTPStream) Close() { rs.st.Close() }

// shutdown closes the sockets and waits for their readers (Stream.Close).
func (rs *RTPStream) shutdown() {
	rs.mu.Lock()
	close(rs.stop) // under mu: SendDTMF starts no sender after this
	rs.mu.Unlock()
	rs.st.r.ports.free(rs.audio)
	rs.st.r.ports.free(rs.video)
	rs.wg.Wait()
}

// Stats counts the device's RTP.
func (rs *RTPStream) Stats() StreamStats {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return StreamStats{
		AudioPackets: rs.audioIn.packets, AudioBytes: rs.audioIn.bytes,
		VideoPackets: rs.videoIn.packets, VideoBytes: rs.videoIn.bytes,
		AudioOut:  rs.audioOut.Load(),
		AudioLost: rs.audioIn.lost, VideoLost: rs.videoIn.lost,
		AudioJitter: rs.audioIn.jitterDuration(), VideoJitter: rs.videoIn.jitterDuration(),
	}
}

// readRTP receives the device's RTP. Before Start any source is accepted;
// after it, the first source latches and others are dropped.
func (rs *RTPStream) readRTP(c *net.UDPConn, video bool) {
	defer rs.wg.Done()
	buf := make([]byte, 1600)
	var p rtp.Packet
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if !rs.accept(&p, n, from, video) {
			continue
		}
		if video {
			rs.st.WriteVideo(&p)
		} else {
			rs.st.WriteAudio(&p)
		}
	}
}

func (rs *RTPStream) accept(p *rtp.Packet, size int, from netip.AddrPort, video bool) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	latch, counter := &rs.audioLatch, &rs.audioIn
	if video {
		latch, counter = &rs.videoLatch, &rs.videoIn
	}
	if rs.started {
		if !latch.IsValid() {
			*latch = from
		} else if *latch != from {
			return false
		}
	}
	switch {
	case video:
		if rs.started && rs.peer.VideoPT != 0 && p.PayloadType != rs.peer.VideoPT {
			return false
		}
		if rs.videoSSRC != p.SSRC && rs.videoSSRC != 0 {
			// A new source (another fork, a restart): viewers need a
			// keyframe of it. Asynchronous and rate-limited.
			defer rs.st.requestKeyframe()
		}
		rs.videoSSRC = p.SSRC
	case rs.started:
		if p.PayloadType != rs.peer.AudioPT {
			return false // telephone-event, comfort noise
		}
	default:
		if p.PayloadType != 0 && p.PayloadType != 8 {
			return false
		}
	}
	counter.add(p, size, time.Now())
	return true
}

// readRTCP learns where the device's RTCP comes from; its reports are not
// used otherwise.
func (rs *RTPStream) readRTCP(c *net.UDPConn, video bool) {
	defer rs.wg.Done()
	buf := make([]byte, 1500)
	for {
		_, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		rs.mu.Lock()
		latch, dst := rs.audioLatch, &rs.audioRTCP
		if video {
			latch, dst = rs.videoLatch, &rs.videoRTCP
		}
		if rs.started && (!latch.IsValid() || latch.Addr() == from.Addr()) {
			*dst = from
		}
		rs.mu.Unlock()
	}
}

// rtcpTarget is the device's video RTCP address: where its RTCP comes
// from, else its RTP address (latched, else from SDP) plus one.
func (rs *RTPStream) rtcpTarget() netip.AddrPort {
	if rs.videoRTCP.IsValid() {
		return rs.videoRTCP
	}
	a := rs.videoLatch
	if !a.IsValid() {
		a = rs.peer.Video
	}
	if !a.IsValid() {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Addr(), a.Port()+1)
}

// requestKeyframe sends RTCP PLI and FIR (RFC 5104) to the device and, if
// it asked for SIP picture_fast_update, calls the hook.
func (rs *RTPStream) requestKeyframe() {
	rs.mu.Lock()
	to := rs.rtcpTarget()
	media := rs.videoSSRC
	rs.firSeq++
	seq := rs.firSeq
	hook := rs.onKeyframe
	if !rs.peer.FastUpdateViaSIP {
		hook = nil
	}
	rs.mu.Unlock()
	if to.IsValid() {
		b, err := rtcp.Marshal([]rtcp.Packet{
			&rtcp.ReceiverReport{SSRC: rs.talkSSRC},
			&rtcp.PictureLossIndication{SenderSSRC: rs.talkSSRC, MediaSSRC: media},
			&rtcp.FullIntraRequest{SenderSSRC: rs.talkSSRC, MediaSSRC: media,
				FIR: []rtcp.FIREntry{{SSRC: media, SequenceNumber: seq}}},
		})
		if err == nil {
			_, _ = rs.video.rtcp.WriteToUDPAddrPort(b, to)
		}
	}
	if hook != nil {
		hook()
	}
}

// sendTalk sends a talking viewer's microphone packet to the device with
// our SSRC, the device's payload type and continuous numbering.
func (rs *RTPStream) sendTalk(p *rtp.Packet) {
	rs.mu.Lock()
	to := rs.audioLatch
	if !to.IsValid() {
		to = rs.peer.Audio
	}
	if !rs.started || !to.IsValid() || rs.dtmfRunning {
		rs.mu.Unlock()
		return
	}
	h := p.Header
	h.Extension, h.Extensions, h.CSRC, h.Padding, h.PaddingSize = false, nil, nil, false, 0
	rs.talk.rewrite(&h, time.Now())
	payload := p.Payload
	if p.PayloadType != rs.peer.AudioPT {
		payload = convertG711(payload, rs.peer.AudioPT)
	}
	h.SSRC, h.PayloadType = rs.talkSSRC, rs.peer.AudioPT
	rs.mu.Unlock()
	out := rtp.Packet{Header: h, Payload: payload}
	b, err := out.Marshal()
	if err != nil {
		return
	}
	if _, err := rs.audio.rtp.WriteToUDPAddrPort(b, to); err == nil {
		rs.audioOut.Add(1)
	}
}
