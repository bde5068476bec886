package media

import (
	"strings"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// viewerTrack is what a viewer's sender plays: packets already renumbered
// by the stream, written with the SSRC and payload type negotiated with
// this browser. Unlike webrtc.TrackLocalStaticRTP it keeps every
// negotiated G.711 payload type, so the device's choice of PCMU or PCMA
// may come after the browser's answer.
type viewerTrack struct {
	kind    webrtc.RTPCodecType
	id, sid string
	prefer  webrtc.RTPCodecCapability
	binding atomic.Pointer[trackBinding]
	onBind  func()
	written atomic.Int64
}

type trackBinding struct {
	ssrc  uint32
	ws    webrtc.TrackLocalWriter
	pcmu  int // negotiated payload types, −1 if absent
	pcma  int
	h264  int
	bound string
}

func (t *viewerTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	b := &trackBinding{ssrc: uint32(ctx.SSRC()), ws: ctx.WriteStream(), pcmu: -1, pcma: -1, h264: -1, bound: ctx.ID()}
	var chosen *webrtc.RTPCodecParameters
	for _, c := range ctx.CodecParameters() {
		switch {
		case strings.EqualFold(c.MimeType, webrtc.MimeTypePCMU):
			b.pcmu = int(c.PayloadType)
		case strings.EqualFold(c.MimeType, webrtc.MimeTypePCMA):
			b.pcma = int(c.PayloadType)
		case strings.EqualFold(c.MimeType, webrtc.MimeTypeH264):
			if b.h264 < 0 {
				b.h264 = int(c.PayloadType)
			}
		default:
			continue
		}
		if chosen == nil || strings.EqualFold(c.MimeType, t.prefer.MimeType) && !strings.EqualFold(chosen.MimeType, t.prefer.MimeType) {
			c := c
			chosen = &c
		}
	}
	if chosen == nil {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	t.binding.Store(b)
	if t.onBind != nil {
		t.onBind()
	}
	return *chosen, nil
}

func (t *viewerTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	if b := t.binding.Load(); b != nil && b.bound == ctx.ID() {
		t.binding.Store(nil)
	}
	return nil
}

func (t *viewerTrack) ID() string                { return t.id }
func (t *viewerTrack) RID() string               { return "" }
func (t *viewerTrack) StreamID() string          { return t.sid }
func (t *viewerTrack) Kind() webrtc.RTPCodecType { return t.kind }

// bound tells whether the browser is connected and the sender started.
func (t *viewerTrack) bound() bool { return t.binding.Load() != nil }

// write sends p with the browser's SSRC and the payload type negotiated
// for p's codec (upstream PT 0 PCMU, 8 PCMA, anything else H.264). It
// reports false when the packet could not be sent.
func (t *viewerTrack) write(p *rtp.Packet) bool {
	b := t.binding.Load()
	if b == nil {
		return false
	}
	pt, payload := b.h264, p.Payload
	if t.kind == webrtc.RTPCodecTypeAudio {
		same, other, otherPT := b.pcmu, b.pcma, uint8(8)
		if p.PayloadType == 8 {
			same, other, otherPT = b.pcma, b.pcmu, 0
		}
		pt = same
		if same < 0 && other >= 0 { // the browser took only the other law
			pt, payload = other, convertG711(payload, otherPT)
		}
	}
	if pt < 0 {
		return false
	}
	h := rtp.Header{
		Version: 2, Marker: p.Marker, PayloadType: uint8(pt),
		SequenceNumber: p.SequenceNumber, Timestamp: p.Timestamp, SSRC: b.ssrc,
	}
	if _, err := b.ws.WriteRTP(&h, payload); err != nil {
		return false
	}
	t.written.Add(1)
	return true
}
