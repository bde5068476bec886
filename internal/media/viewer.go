package media

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// gatherTimeout bounds the wait for our ICE candidates before answering.
const gatherTimeout = 10 * time.Second

// ViewerOptions configure a new viewer.
type ViewerOptions struct {
	// Talk forwards the viewer's microphone to the source from the start.
	Talk bool
	// Name identifies the viewer in logs.
	Name string
}

// ViewerStats counts a viewer's packets.
type ViewerStats struct {
	VideoSent     int64 `json:"video_sent"` // RTP packets sent to the browser
	AudioSent     int64 `json:"audio_sent"`
	AudioReceived int64 `json:"audio_received"`    // microphone RTP packets from the browser
	Keyframes     int64 `json:"keyframe_requests"` // PLI/FIR from the browser
}

// A Viewer is one browser watching a stream over WebRTC.
type Viewer struct {
	st    *Stream
	name  string
	pc    *webrtc.PeerConnection
	video *viewerTrack // nil when the browser offered no video
	audio *viewerTrack

	talk    atomic.Bool
	waitKey bool // video waits for a keyframe; guarded by st.videoMu
	// live is set once ICE and DTLS are up: what is sent before that is
	// lost, so video starts with the keyframe asked for then.
	live      atomic.Bool
	liveAt    atomic.Int64 // when live was set, unix nanoseconds
	received  atomic.Int64
	keyframes atomic.Int64

	mu        sync.Mutex
	closing   bool // no reader may start once Close waits for them
	connected bool
	timer     *time.Timer // closes the viewer unless it (re)connects

	wg        sync.WaitGroup // RTCP and microphone readers
	closeOnce sync.Once
	done      chan struct{}
}

// AddViewer answers a browser's offer (WHEP style: video recvonly, audio
// sendrecv, ICE gathered completely) and adds the browser as a viewer. The
// answer carries our ICE candidates. A browser that does not connect
// within twice the viewer timeout (at least 10 s) is closed. Audio goes to
// the browser in the stream's G.711 law, or converted to the other one if
// the browser offered only that. It returns an error matching
// ErrNoCommonCodec, in Chinese, when the offer lacks H.264 constrained
// baseline or G.711, and an error when the stream is closed.
func (st *Stream) AddViewer(offerSDP string, opt ViewerOptions) (*Viewer, string, error) {
	select {
	case <-st.done:
		return nil, "", errors.New("视频通话已结束")
	default:
	}
	audioPT := uint8(st.audioPT.Load())
	om, err := checkOffer(offerSDP, audioPT)
	if err != nil {
		return nil, "", err
	}
	r := st.r
	pc, err := r.api.NewPeerConnection(r.rtcCfg)
	if err != nil {
		return nil, "", fmt.Errorf("media: peer connection: %w", err)
	}
	v := &Viewer{st: st, name: opt.Name, pc: pc, done: make(chan struct{}), waitKey: true}
	v.talk.Store(opt.Talk)
	r.viewerDelta(1)
	answer, err := v.negotiate(offerSDP, om, audioPT)
	if err != nil {
		v.Close()
		return nil, "", err
	}
	if !st.addViewer(v) {
		v.Close()
		return nil, "", errors.New("视频通话已结束")
	}
	select {
	case <-v.done: // failed while answering: Close ran before the viewer was listed
		st.removeViewer(v)
		return nil, "", errors.New("浏览器连接失败")
	default:
	}
	// A browser that never connects is given up like one that vanished.
	v.mu.Lock()
	if !v.connected && v.timer == nil {
		v.timer = time.AfterFunc(max(2*r.cfg.ViewerTimeout, 10*time.Second), func() { go v.Close() })
	}
	v.mu.Unlock()
	r.log.Info("media viewer added", "stream", st.label, "viewer", opt.Name, "viewers", st.Viewers())
	return v, answer, nil
}

func (v *Viewer) negotiate(offer string, om offerMedia, audioPT uint8) (string, error) {
	st, pc := v.st, v.pc
	// The stream id goes into the SDP's msid, where browsers accept only
	// a token: never the label, which may hold spaces or Chinese.
	sid := fmt.Sprintf("linli-%p", st)
	if om.video {
		v.video = &viewerTrack{kind: webrtc.RTPCodecTypeVideo, id: "video", sid: sid,
			prefer: h264Codec.RTPCodecCapability}
		tr, err := pc.AddTransceiverFromTrack(v.video, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return "", fmt.Errorf("media: video transceiver: %w", err)
		}
		v.readRTCP(tr.Sender(), true)
	}
	if om.audio && audioPT != 255 {
		first, second := g711Codec(audioPT), g711Codec(8-audioPT)
		v.audio = &viewerTrack{kind: webrtc.RTPCodecTypeAudio, id: "audio", sid: sid, prefer: first.RTPCodecCapability}
		tr, err := pc.AddTransceiverFromTrack(v.audio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
		if err != nil {
			return "", fmt.Errorf("media: audio transceiver: %w", err)
		}
		// The stream's codec first: the browser's microphone uses it.
		if err := tr.SetCodecPreferences([]webrtc.RTPCodecParameters{first, second}); err != nil {
			return "", fmt.Errorf("media: audio codecs: %w", err)
		}
		v.readRTCP(tr.Sender(), false)
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if t.Kind() != webrtc.RTPCodecTypeAudio {
			return
		}
		v.mu.Lock()
		if v.closing {
			v.mu.Unlock()
			return
		}
		v.wg.Add(1)
		v.mu.Unlock()
		defer v.wg.Done()
		v.readMicrophone(t)
	})
	pc.OnConnectionStateChange(v.stateChanged)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("媒体协商失败：%w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("媒体协商失败：%w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("媒体协商失败：%w", err)
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		return "", errors.New("媒体服务收集网络地址超时")
	}
	return pc.LocalDescription().SDP, nil
}

// readRTCP drains a sender's RTCP (the interceptors need it read) and turns
// the browser's PLI and FIR into keyframe requests for the source.
func (v *Viewer) readRTCP(s *webrtc.RTPSender, video bool) {
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		for {
			pkts, _, err := s.ReadRTCP()
			if err != nil {
				return
			}
			if !video {
				continue
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					v.keyframes.Add(1)
					v.st.requestKeyframe()
				}
			}
		}
	}()
}

// readMicrophone passes the browser's audio upstream while talk is on.
func (v *Viewer) readMicrophone(t *webrtc.TrackRemote) {
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		v.received.Add(1)
		if v.talk.Load() {
			v.st.talk(p)
		}
	}
}

// stateChanged closes a viewer whose connection failed or closed at once,
// and one that stays disconnected for the rest of the viewer timeout (ICE
// reports disconnection after half of it).
func (v *Viewer) stateChanged(s webrtc.PeerConnectionState) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch s {
	case webrtc.PeerConnectionStateConnected:
		v.connected = true
		if !v.live.Swap(true) {
			v.liveAt.Store(time.Now().UnixNano())
			go v.st.requestKeyframe()
		}
		if v.timer != nil {
			v.timer.Stop()
			v.timer = nil
		}
	case webrtc.PeerConnectionStateDisconnected:
		if v.timer == nil {
			v.timer = time.AfterFunc(v.st.r.cfg.ViewerTimeout-v.st.r.cfg.ViewerTimeout/2, func() { v.Close() })
		}
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		go v.Close()
	}
}

// keyframeWait is how long a new viewer's video waits for a keyframe.
const keyframeWait = time.Second

func (v *Viewer) writeVideo(p *rtp.Packet, key bool) {
	if v.video == nil || !v.video.bound() || !v.live.Load() {
		return
	}
	if v.waitKey {
		// A source that ignores keyframe requests would never be seen:
		// after a second, pass what comes (the browser asks again with PLI
		// and decodes from the next keyframe).
		if !key && time.Since(time.Unix(0, v.liveAt.Load())) < keyframeWait {
			return
		}
		v.waitKey = false
	}
	v.video.write(p)
}

func (v *Viewer) writeAudio(p *rtp.Packet) {
	if v.audio != nil {
		v.audio.write(p)
	}
}

// SetTalk starts or stops forwarding the viewer's microphone upstream.
func (v *Viewer) SetTalk(on bool) { v.talk.Store(on) }

// Done is closed when the viewer has ended (Close, ICE failed or
// disconnected beyond the viewer timeout, DTLS closed, or the stream
// closed) and its ports are free.
func (v *Viewer) Done() <-chan struct{} { return v.done }

// Stats counts the viewer's packets.
func (v *Viewer) Stats() ViewerStats {
	s := ViewerStats{AudioReceived: v.received.Load(), Keyframes: v.keyframes.Load()}
	if v.video != nil {
		s.VideoSent = v.video.written.Load()
	}
	if v.audio != nil {
		s.AudioSent = v.audio.written.Load()
	}
	return s
}

// Close ends the viewer and waits for its goroutines.
func (v *Viewer) Close() {
	v.closeOnce.Do(func() {
		v.st.removeViewer(v)
		v.mu.Lock()
		v.closing = true
		if v.timer != nil {
			v.timer.Stop()
			v.timer = nil
		}
		v.mu.Unlock()
		_ = v.pc.Close()
		v.wg.Wait()
		v.st.r.viewerDelta(-1)
		close(v.done)
		v.st.r.log.Info("media viewer closed", "stream", v.st.label, "viewer", v.name)
	})
}
