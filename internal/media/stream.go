package media

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// keyframeInterval rate-limits keyframe requests towards a source.
const keyframeInterval = 500 * time.Millisecond

// talkFloor is how long the last talking viewer keeps the floor: another
// viewer's audio is dropped meanwhile, so two microphones never interleave.
const talkFloor = 200 * time.Millisecond

// A Stream is one upstream source fanned out to viewers. Its methods are
// safe for concurrent use.
type Stream struct {
	r         *Relay
	community int
	label     string
	audioPT   atomic.Uint32 // 0 PCMU, 8 PCMA, 255 no audio

	videoMu sync.Mutex // orders video writes and guards the video rewriter
	video   rewriter
	audioMu sync.Mutex
	audio   rewriter

	mu       sync.Mutex
	viewers  map[*Viewer]struct{}
	list     atomic.Pointer[[]*Viewer] // snapshot for the fan-out
	onKey    func()
	onTalk   func(*rtp.Packet)
	keyLast  time.Time
	keyTimer *time.Timer
	talker   uint32 // SSRC of the viewer holding the floor
	talkAt   time.Time
	closing  bool
	onClose  func() // set by an RTPStream: frees its sockets

	closeOnce sync.Once
	done      chan struct{}
}

// NewStream creates a stream fed by its caller (the RTSP camera client)
// through WriteVideo and WriteAudio. audioPT is 0 (PCMU), 8 (PCMA) or 255
// (no audio). It returns a *LimitError (errors.Is ErrLimit) when the server
// or the community is full.
func (r *Relay) NewStream(communityID int, label string, audioPT uint8) (*Stream, error) {
	st := r.newStream(communityID, label, audioPT)
	if err := r.admit(st, communityID); err != nil {
		return nil, err
	}
	r.log.Info("media stream opened", "stream", label, "community", communityID)
	return st, nil
}

func (r *Relay) newStream(communityID int, label string, audioPT uint8) *Stream {
	st := &Stream{
		r: r, community: communityID, label: label,
		video:   rewriter{clock: 90000},
		audio:   rewriter{clock: 8000},
		viewers: map[*Viewer]struct{}{},
		done:    make(chan struct{}),
	}
	st.audioPT.Store(uint32(audioPT))
	st.list.Store(&[]*Viewer{})
	return st
}

// WriteVideo relays one H.264 RTP packet as received (any SSRC, payload
// type, numbering) to every viewer. p is not kept nor modified.
func (st *Stream) WriteVideo(p *rtp.Packet) {
	st.videoMu.Lock()
	defer st.videoMu.Unlock()
	out := *p
	st.video.rewrite(&out.Header, time.Now())
	key := isKeyframeStart(out.Payload)
	for _, v := range *st.list.Load() {
		v.writeVideo(&out, key)
	}
}

// WriteAudio relays one G.711 RTP packet (payload type 0 or 8) to every
// viewer. p is not kept nor modified.
func (st *Stream) WriteAudio(p *rtp.Packet) {
	if p.PayloadType != 0 && p.PayloadType != 8 {
		return
	}
	st.audioMu.Lock()
	defer st.audioMu.Unlock()
	out := *p
	st.audio.rewrite(&out.Header, time.Now())
	for _, v := range *st.list.Load() {
		v.writeAudio(&out)
	}
}

// OnKeyframeRequest sets the function that asks the source for a keyframe.
// It is called at most once per 500 ms, never from the caller of WriteVideo.
func (st *Stream) OnKeyframeRequest(f func()) {
	st.mu.Lock()
	st.onKey = f
	st.mu.Unlock()
}

// OnTalk sets the receiver of the talking viewers' microphone audio: G.711
// RTP in the browser's numbering (the payload type says PCMU or PCMA).
func (st *Stream) OnTalk(f func(p *rtp.Packet)) {
	st.mu.Lock()
	st.onTalk = f
	st.mu.Unlock()
}

// Done is closed when the stream is closed.
func (st *Stream) Done() <-chan struct{} { return st.done }

// Viewers counts the stream's viewers.
func (st *Stream) Viewers() int { return len(*st.list.Load()) }

// Close closes the stream, its viewers and, for an RTPStream, its ports.
func (st *Stream) Close() {
	st.closeOnce.Do(func() {
		st.mu.Lock()
		st.closing = true
		vs := make([]*Viewer, 0, len(st.viewers))
		for v := range st.viewers {
			vs = append(vs, v)
		}
		if st.keyTimer != nil {
			st.keyTimer.Stop()
		}
		onClose := st.onClose
		st.mu.Unlock()
		if onClose != nil {
			onClose()
		}
		for _, v := range vs {
			v.Close()
		}
		st.r.release(st)
		close(st.done)
		st.r.log.Info("media stream closed", "stream", st.label)
	})
}

// requestKeyframe asks the source for a keyframe now, or when the rate
// limit allows; requests in between fold into that one.
func (st *Stream) requestKeyframe() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closing || st.onKey == nil || st.keyTimer != nil {
		return
	}
	wait := max(0, keyframeInterval-time.Since(st.keyLast))
	st.keyTimer = time.AfterFunc(wait, func() {
		st.mu.Lock()
		f := st.onKey
		st.keyTimer = nil
		st.keyLast = time.Now()
		closing := st.closing
		st.mu.Unlock()
		if f != nil && !closing {
			f()
		}
	})
}

// talk passes a viewer's microphone packet upstream unless another viewer
// holds the floor.
func (st *Stream) talk(p *rtp.Packet) {
	now := time.Now()
	st.mu.Lock()
	f := st.onTalk
	if p.SSRC != st.talker && now.Sub(st.talkAt) < talkFloor {
		f = nil
	} else {
		st.talker, st.talkAt = p.SSRC, now
	}
	st.mu.Unlock()
	if f != nil {
		f(p)
	}
}

func (st *Stream) addViewer(v *Viewer) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closing {
		return false
	}
	st.viewers[v] = struct{}{}
	st.publish()
	return true
}

func (st *Stream) removeViewer(v *Viewer) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.viewers[v]; ok {
		delete(st.viewers, v)
		st.publish()
	}
}

// publish refreshes the fan-out snapshot; st.mu is held.
func (st *Stream) publish() {
	l := make([]*Viewer, 0, len(st.viewers))
	for v := range st.viewers {
		l = append(l, v)
	}
	st.list.Store(&l)
}
