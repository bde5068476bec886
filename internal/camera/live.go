package camera

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"

	"linli/internal/errs"
	"linli/internal/ipcam"
)

// Relay is the media relay as live view uses it: one Stream per camera,
// fanned out to browser viewers.
type Relay interface {
	// NewStream opens a stream; audioPT is 0 (PCMU), 8 (PCMA) or 255 (none).
	// Its errors are errs errors (limits, codecs) or internal ones.
	NewStream(communityID int, label string, audioPT uint8) (Stream, error)
}

// Stream is one upstream fanned out to viewers.
type Stream interface {
	WriteVideo(p *rtp.Packet)
	WriteAudio(p *rtp.Packet)
	// AddViewer answers a browser's offer (complete, no trickle).
	AddViewer(offerSDP string) (Viewer, string, error)
	Done() <-chan struct{}
	Close()
}

// Viewer is one browser watching a Stream.
type Viewer interface {
	Done() <-chan struct{}
	Close()
}

// Live answers a browser's WHEP-style offer for camera id of community cid
// with an SDP answer and the id of the viewing session. All viewers of a
// camera share one RTSP session, opened for the first.
//
// Errors: errs.NotFound, errs.Unavailable (no relay, or the camera's stream
// cannot be opened), the relay's errors (limits, no common codec).
func (s *Service) Live(ctx context.Context, cid, id int, offer string) (answer, session string, err error) {
	c, err := s.get(ctx, cid, id)
	if err != nil {
		return "", "", err
	}
	if !strings.HasPrefix(strings.TrimSpace(offer), "v=0") {
		return "", "", errs.Field("sdp", "SDP offer 格式不正确")
	}
	if s.live.relay == nil {
		return "", "", errs.New(errs.Unavailable, "实时画面暂不可用：服务器未启用媒体转发")
	}
	if c.StreamURI == "" {
		return "", "", errs.New(errs.Unavailable, "这台摄像机没有视频流地址，请先点击刷新")
	}
	password, err := s.box.Open(c.PasswordSealed)
	if err != nil {
		return "", "", err
	}
	open := func() (Stream, *ipcam.Session, error) {
		dctx, cancel := context.WithTimeout(s.reach(context.Background()), ProbeTimeout)
		defer cancel()
		rs, err := ipcam.Dial(dctx, c.StreamURI, c.Username, password, s.logger)
		if err != nil {
			s.logger.Info("camera stream failed", "camera", id, "err", err)
			if errors.Is(err, ipcam.ErrAuth) {
				return nil, nil, &errs.Error{Code: errs.Unavailable, Message: "摄像机拒绝了视频流的登录：请检查用户名和密码", Err: err}
			}
			return nil, nil, &errs.Error{Code: errs.Unavailable, Message: "无法打开摄像机的视频流，请稍后再试或点击刷新检查摄像机", Err: err}
		}
		// The label becomes the stream id of the browser's track: no spaces.
		st, err := s.live.relay.NewStream(cid, fmt.Sprintf("camera-%d", c.ID), rs.AudioPT())
		if err != nil {
			rs.Close()
			return nil, nil, err
		}
		if err := rs.Play(st.WriteVideo, st.WriteAudio); err != nil {
			rs.Close()
			st.Close()
			return nil, nil, &errs.Error{Code: errs.Unavailable, Message: "无法打开摄像机的视频流，请稍后再试", Err: err}
		}
		return st, rs, nil
	}
	return s.live.join(ctx, id, open, offer)
}

// StopLive ends viewing session sid of camera id.
//
// Errors: errs.NotFound.
func (s *Service) StopLive(ctx context.Context, cid, id int, sid string) error {
	if _, err := s.get(ctx, cid, id); err != nil {
		return err
	}
	return s.live.leave(id, sid)
}

// lives holds the cameras being watched.
type lives struct {
	relay  Relay
	idle   time.Duration
	logger *slog.Logger
	mu     sync.Mutex
	feeds  map[int]*feed
}

// feed is one camera's RTSP session pushed into a relay stream.
type feed struct {
	id      int
	ready   chan struct{} // closed when opening ended; err says how
	err     error
	stream  Stream
	rtsp    *ipcam.Session
	viewers map[string]Viewer
	pending int // viewers being added
	idle    *time.Timer
	closed  bool
}

func (l *lives) join(ctx context.Context, id int, open func() (Stream, *ipcam.Session, error), offer string) (string, string, error) {
	l.mu.Lock()
	f := l.feeds[id]
	if f == nil || f.closed {
		f = &feed{id: id, ready: make(chan struct{}), viewers: map[string]Viewer{}}
		l.feeds[id] = f
		f.pending++
		l.mu.Unlock()
		st, rs, err := open()
		l.mu.Lock()
		f.stream, f.rtsp, f.err = st, rs, err
		close(f.ready)
		if err != nil {
			f.closed = true
			if l.feeds[id] == f {
				delete(l.feeds, id)
			}
			l.mu.Unlock()
			return "", "", err
		}
		l.mu.Unlock()
		go l.watch(f)
	} else {
		f.pending++
		if f.idle != nil {
			f.idle.Stop()
			f.idle = nil
		}
		l.mu.Unlock()
		select {
		case <-f.ready:
		case <-ctx.Done():
			l.done(f)
			return "", "", ctx.Err()
		}
		if f.err != nil {
			l.done(f)
			return "", "", f.err
		}
	}
	v, answer, err := f.stream.AddViewer(offer)
	if err != nil {
		l.done(f)
		return "", "", err
	}
	sid := newSessionID()
	l.mu.Lock()
	f.viewers[sid] = v
	l.mu.Unlock()
	l.done(f)
	go func() {
		<-v.Done()
		l.mu.Lock()
		delete(f.viewers, sid)
		l.mu.Unlock()
		l.maybeIdle(f)
	}()
	return answer, sid, nil
}

// done ends one pending join.
func (l *lives) done(f *feed) {
	l.mu.Lock()
	f.pending--
	l.mu.Unlock()
	l.maybeIdle(f)
}

// maybeIdle arms the idle stop when nobody watches f.
func (l *lives) maybeIdle(f *feed) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f.closed || f.err != nil || len(f.viewers) > 0 || f.pending > 0 || f.idle != nil {
		return
	}
	f.idle = time.AfterFunc(l.idle, func() {
		l.mu.Lock()
		still := !f.closed && len(f.viewers) == 0 && f.pending == 0
		l.mu.Unlock()
		if still {
			l.end(f)
		}
	})
}

// watch ends f when the camera's session or the relay's stream ends.
func (l *lives) watch(f *feed) {
	select {
	case <-f.rtsp.Done():
		l.logger.Info("camera stream ended", "camera", f.id)
	case <-f.stream.Done():
	}
	l.end(f)
}

// end closes f's RTSP session and stream (and so its viewers).
func (l *lives) end(f *feed) {
	l.mu.Lock()
	if f.closed {
		l.mu.Unlock()
		return
	}
	f.closed = true
	if f.idle != nil {
		f.idle.Stop()
	}
	if l.feeds[f.id] == f {
		delete(l.feeds, f.id)
	}
	l.mu.Unlock()
	f.stream.Close()
	f.rtsp.Close()
}

func (l *lives) leave(id int, sid string) error {
	l.mu.Lock()
	var v Viewer
	if f := l.feeds[id]; f != nil {
		v = f.viewers[sid]
		delete(f.viewers, sid) // its watcher arms the idle stop when it ends
	}
	l.mu.Unlock()
	if v == nil {
		return errs.New(errs.NotFound, "实时画面会话不存在或已结束")
	}
	v.Close()
	return nil
}

// stop ends camera id's live session now (its settings changed).
func (l *lives) stop(id int) {
	l.mu.Lock()
	f := l.feeds[id]
	ready := f != nil && f.err == nil && isClosed(f.ready)
	l.mu.Unlock()
	if ready {
		l.end(f)
	}
}

func (l *lives) viewers(id int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.feeds[id]; f != nil {
		return len(f.viewers)
	}
	return 0
}

func (l *lives) closeAll() {
	l.mu.Lock()
	var fs []*feed
	for _, f := range l.feeds {
		if f.err == nil && isClosed(f.ready) {
			fs = append(fs, f)
		}
	}
	l.mu.Unlock()
	for _, f := range fs {
		l.end(f)
	}
}

// Sessions is how many cameras are being played now (for tests and metrics).
func (s *Service) Sessions() int {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	return len(s.live.feeds)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func newSessionID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
