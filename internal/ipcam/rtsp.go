package ipcam

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"
)

// NoAudio is the audio payload type of a stream without G.711.
const NoAudio = 255

// Session is one RTSP session with a camera: its H.264 track and, when
// the camera has one, its G.711 track.
type Session struct {
	client  *gortsplib.Client
	desc    *description.Session
	video   *description.Media
	h264    *format.H264
	audio   *description.Media
	g711    *format.G711
	done    chan struct{}
	err     error
	started bool
}

// Dial opens an RTSP session with the camera (DESCRIBE and SETUP; UDP
// first, TCP when the camera refuses UDP). Errors: ErrUnreachable, ErrAuth,
// ErrNoH264.
func Dial(ctx context.Context, streamURI, username, password string, logger *slog.Logger) (*Session, error) {
	u, err := base.ParseURL(streamURI)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAddress, err)
	}
	if username != "" {
		u.User = url.UserPassword(username, password)
	}
	c := &gortsplib.Client{
		Scheme:      u.Scheme,
		Host:        u.Host,
		ReadTimeout: 10 * time.Second,
		DialContext: func(_ context.Context, network, address string) (net.Conn, error) {
			// A DESCRIBE redirect would take the client (and the camera's
			// credentials) elsewhere: only the camera's own host is dialled.
			if h, _, err := net.SplitHostPort(address); err != nil || h != u.Hostname() {
				return nil, fmt.Errorf("ipcam: %s is not the camera's host %s", address, u.Hostname())
			}
			return dialer.DialContext(ctx, network, address)
		},
		// The library logs these itself unless told where.
		OnTransportSwitch: func(err error) { logger.Debug("rtsp transport switch", "stream", u.Host, "err", err) },
		OnPacketsLost:     func(n uint64) { logger.Debug("rtsp packets lost", "stream", u.Host, "lost", n) },
		OnDecodeError:     func(err error) { logger.Debug("rtsp decode error", "stream", u.Host, "err", err) },
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	s := &Session{client: c, done: make(chan struct{})}
	fail := func(err error) (*Session, error) {
		c.Close()
		return nil, err
	}
	desc, resp, err := c.Describe(u)
	if err != nil {
		if resp != nil && resp.StatusCode == base.StatusUnauthorized {
			return fail(ErrAuth)
		}
		return fail(fmt.Errorf("%w: describe: %w", ErrUnreachable, err))
	}
	s.desc = desc
	s.video = desc.FindFormat(&s.h264)
	if s.video == nil {
		return fail(ErrNoH264)
	}
	if _, err := c.Setup(desc.BaseURL, s.video, 0, 0); err != nil {
		return fail(fmt.Errorf("%w: setup video: %v", ErrUnreachable, err))
	}
	if m := desc.FindFormat(&s.g711); m != nil && s.g711.SampleRate == 8000 && s.g711.ChannelCount == 1 {
		if _, err := c.Setup(desc.BaseURL, m, 0, 0); err == nil {
			s.audio = m
		}
	}
	return s, nil
}

// AudioPT is 0 (PCMU) or 8 (PCMA), or NoAudio.
func (s *Session) AudioPT() uint8 {
	if s.audio == nil {
		return NoAudio
	}
	if s.g711.MULaw {
		return 0
	}
	return 8
}

// Transport is how RTP comes: "UDP" or "TCP".
func (s *Session) Transport() string {
	if t := s.client.Transport(); t != nil && t.Session != nil && t.Session.Protocol != gortsplib.ProtocolTCP {
		return "UDP"
	}
	return "TCP"
}

// ParameterSets returns the SPS and PPS the camera announced in its SDP
// (nil when it did not).
func (s *Session) ParameterSets() (sps, pps []byte) { return s.h264.SPS, s.h264.PPS }

// Play starts the stream: video and audio get every RTP packet as it
// arrives (on the client's goroutines; audio may be nil). Done is closed
// when the session ends.
func (s *Session) Play(video, audio func(*rtp.Packet)) error {
	sps, pps := s.h264.SPS, s.h264.PPS
	params := &paramSets{sps: sps, pps: pps}
	s.client.OnPacketRTP(s.video, s.h264, func(p *rtp.Packet) { params.push(p, video) })
	if s.audio != nil && audio != nil {
		s.client.OnPacketRTP(s.audio, s.g711, func(p *rtp.Packet) { audio(p) })
	}
	if _, err := s.client.Play(nil); err != nil {
		return fmt.Errorf("%w: play: %v", ErrUnreachable, err)
	}
	go func() {
		s.err = s.client.Wait()
		close(s.done)
	}()
	s.started = true
	return nil
}

// Done is closed when the session ends (the camera went away or Close).
func (s *Session) Done() <-chan struct{} { return s.done }

// Close ends the session and waits for its goroutines.
func (s *Session) Close() {
	s.client.Close()
	if s.started {
		<-s.done
	}
}
