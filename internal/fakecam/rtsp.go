package fakecam

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/rtp"

	"linli/internal/clip"
)

// rtspServer plays the clip to every reader (RTP over the RTSP TCP
// connection; UDP is not offered, so clients fall back to TCP).
type rtspServer struct {
	cam    *Camera
	server *gortsplib.Server
	stream *gortsplib.ServerStream
	video  *description.Media
	audio  *description.Media
	addr   string
	wg     sync.WaitGroup
}

func startRTSP(ctx context.Context, cam *Camera) (*rtspServer, error) {
	rs := &rtspServer{cam: cam}
	var ln net.Listener
	var err error
	for try := 0; ; try++ {
		rs.server = &gortsplib.Server{
			Handler:     rs,
			RTSPAddress: cam.cfg.RTSPAddr,
			Listen: func(network, address string) (net.Listener, error) {
				l, err := net.Listen(network, address)
				ln = l
				return l, err
			},
		}
		if cam.cfg.UDP {
			port := 40000 + 2*rand.IntN(9000)
			rs.server.UDPRTPAddress = fmt.Sprintf("127.0.0.1:%d", port)
			rs.server.UDPRTCPAddress = fmt.Sprintf("127.0.0.1:%d", port+1)
		}
		if err = rs.server.Start(); err == nil {
			break
		}
		if ln != nil {
			ln.Close()
			ln = nil
		}
		if !cam.cfg.UDP || try == 20 {
			return nil, fmt.Errorf("fakecam: rtsp: %w", err)
		}
	}
	rs.addr = ln.Addr().String()
	frames := clip.Door()
	var sps, pps []byte
	for _, n := range frames[0].NALs {
		switch n[0] & 0x1f {
		case 7:
			sps = n
		case 8:
			pps = n
		}
	}
	h264 := &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps}
	rs.video = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{h264}}
	desc := &description.Session{Medias: []*description.Media{rs.video}}
	var g711 *format.G711
	if !cam.cfg.NoAudio {
		g711 = &format.G711{PayloadTyp: 0, MULaw: true, SampleRate: 8000, ChannelCount: 1}
		rs.audio = &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{g711}}
		desc.Medias = append(desc.Medias, rs.audio)
	}
	rs.stream = &gortsplib.ServerStream{Server: rs.server, Desc: desc}
	if err := rs.stream.Initialize(); err != nil {
		rs.server.Close()
		return nil, err
	}
	rs.wg.Add(1)
	go func() {
		defer rs.wg.Done()
		rs.play(ctx, h264, g711)
	}()
	return rs, nil
}

// play writes the clip in a loop at 25 fps, and 20 ms of a 400 Hz µ-law
// tone every 20 ms; timestamps run on across loops.
func (rs *rtspServer) play(ctx context.Context, h264 *format.H264, g711 *format.G711) {
	venc, err := h264.CreateEncoder()
	if err != nil {
		return
	}
	frames := clip.Door()
	tick := time.NewTicker(time.Second / clip.FPS)
	defer tick.Stop()
	tone := toneFrame()
	var audioSeq uint16
	var audioTS uint32
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		nals := frames[n%len(frames)].NALs
		if rs.cam.cfg.NoInbandParams {
			nals = withoutParams(nals)
		}
		pkts, err := venc.Encode(nals)
		if err != nil {
			continue
		}
		now := time.Now()
		for _, p := range pkts {
			p.Timestamp = uint32(n) * (90000 / clip.FPS)
			_ = rs.stream.WritePacketRTPWithNTP(rs.video, p, now)
		}
		if g711 != nil {
			// Two 20 ms audio packets per 40 ms video frame.
			for range 2 {
				p := &rtp.Packet{}
				p.Version, p.PayloadType, p.SequenceNumber, p.Timestamp, p.SSRC = 2, 0, audioSeq, audioTS, 0x0fa1ce
				p.Payload = tone
				audioSeq++
				audioTS += 160
				_ = rs.stream.WritePacketRTPWithNTP(rs.audio, p, now)
			}
		}
	}
}

// toneFrame is 160 samples (20 ms) of a quiet 400 Hz tone in µ-law.
func toneFrame() []byte {
	out := make([]byte, 160)
	for i := range out {
		s := int16(2000 * math.Sin(2*math.Pi*400*float64(i)/8000))
		out[i] = linearToMulaw(s)
	}
	return out
}

func linearToMulaw(sample int16) byte {
	const bias, clipLevel = 0x84, 32635
	s := int(sample)
	sign := 0
	if s < 0 {
		sign = 0x80
		s = -s
	}
	if s > clipLevel {
		s = clipLevel
	}
	s += bias
	exp := 7
	for mask := 0x4000; s&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (s >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

func (rs *rtspServer) close() {
	rs.stream.Close()
	rs.server.Close()
	rs.wg.Wait()
}

// OnSessionOpen counts sessions.
func (rs *rtspServer) OnSessionOpen(*gortsplib.ServerHandlerOnSessionOpenCtx) {
	rs.cam.sessions.Add(1)
	rs.cam.active.Add(1)
}

// OnSessionClose counts sessions.
func (rs *rtspServer) OnSessionClose(*gortsplib.ServerHandlerOnSessionCloseCtx) {
	rs.cam.active.Add(-1)
}

// OnDescribe checks the credentials and describes the stream.
func (rs *rtspServer) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if !ctx.Conn.VerifyCredentials(ctx.Request, rs.cam.cfg.Username, rs.cam.cfg.Password) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, nil, liberrors.ErrServerAuth{}
	}
	return &base.Response{StatusCode: base.StatusOK}, rs.stream, nil
}

// OnSetup checks the credentials and sets a track up.
func (rs *rtspServer) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if !ctx.Conn.VerifyCredentials(ctx.Request, rs.cam.cfg.Username, rs.cam.cfg.Password) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, nil, liberrors.ErrServerAuth{}
	}
	return &base.Response{StatusCode: base.StatusOK}, rs.stream, nil
}

// OnPlay starts playing.
func (rs *rtspServer) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// withoutParams drops SPS and PPS NAL units.
func withoutParams(nals [][]byte) [][]byte {
	out := make([][]byte, 0, len(nals))
	for _, n := range nals {
		if t := n[0] & 0x1f; t != 7 && t != 8 {
			out = append(out, n)
		}
	}
	return out
}
