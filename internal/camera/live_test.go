package camera

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"linli/internal/fakecam"
	"linli/internal/ipcam"
)

// testStream is a relay stream that counts what it is given; its viewers
// end when it closes.
type testStream struct {
	video, audio atomic.Int64
	mu           sync.Mutex
	viewers      []*testViewer
	done         chan struct{}
	once         sync.Once
}

type testViewer struct {
	done chan struct{}
	once sync.Once
}

func (v *testViewer) Done() <-chan struct{} { return v.done }
func (v *testViewer) Close()                { v.once.Do(func() { close(v.done) }) }

func (s *testStream) WriteVideo(*rtp.Packet) { s.video.Add(1) }
func (s *testStream) WriteAudio(*rtp.Packet) { s.audio.Add(1) }
func (s *testStream) Done() <-chan struct{}  { return s.done }
func (s *testStream) AddViewer(string) (Viewer, string, error) {
	v := &testViewer{done: make(chan struct{})}
	s.mu.Lock()
	s.viewers = append(s.viewers, v)
	s.mu.Unlock()
	return v, "v=0 answer", nil
}
func (s *testStream) Close() {
	s.once.Do(func() {
		close(s.done)
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, v := range s.viewers {
			v.Close()
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLiveSharesOneSession: viewers joining at once share one RTSP
// session; it ends after the last left (idle stop), a later viewer opens a
// new one, and a camera that goes away ends the feed and its viewers.
func TestLiveSharesOneSession(t *testing.T) {
	cam, err := fakecam.Start(fakecam.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	logger := slog.New(slog.DiscardHandler)
	l := &lives{feeds: map[int]*feed{}, idle: 200 * time.Millisecond, logger: logger}
	var opens atomic.Int64
	var streams []*testStream
	var smu sync.Mutex
	open := func() (Stream, *ipcam.Session, error) {
		opens.Add(1)
		rs, err := ipcam.Dial(ipcam.AllowLoopback(context.Background()), cam.RTSPURL(), "admin", "admin123", logger)
		if err != nil {
			return nil, nil, err
		}
		st := &testStream{done: make(chan struct{})}
		if err := rs.Play(st.WriteVideo, st.WriteAudio); err != nil {
			rs.Close()
			return nil, nil, err
		}
		smu.Lock()
		streams = append(streams, st)
		smu.Unlock()
		return st, rs, nil
	}

	const n = 8
	sids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, sid, err := l.join(context.Background(), 1, open, "v=0")
			if err != nil {
				t.Error(err)
			}
			sids[i] = sid
		}()
	}
	wg.Wait()
	if opens.Load() != 1 || cam.Sessions() != 1 || l.viewers(1) != n {
		t.Fatalf("%d viewers at once: %d opens, %d RTSP sessions, %d viewers", n, opens.Load(), cam.Sessions(), l.viewers(1))
	}
	waitFor(t, "video and audio from the camera", func() bool { return streams[0].video.Load() > 50 && streams[0].audio.Load() > 10 })

	for i, sid := range sids {
		if err := l.leave(1, sid); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := l.leave(1, sid); err == nil {
				t.Error("a session left twice")
			}
		}
	}
	waitFor(t, "the RTSP session to end after the last viewer", func() bool { return cam.ActiveSessions() == 0 })
	waitFor(t, "the feed to be gone", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return len(l.feeds) == 0 })

	_, sid, err := l.join(context.Background(), 1, open, "v=0")
	if err != nil {
		t.Fatal(err)
	}
	if opens.Load() != 2 || cam.Sessions() != 2 {
		t.Errorf("a viewer after the idle stop: %d opens, %d sessions", opens.Load(), cam.Sessions())
	}
	// The camera goes away: the feed ends and so does the viewer.
	cam.Close()
	waitFor(t, "the feed to end with the camera", func() bool { l.mu.Lock(); defer l.mu.Unlock(); return len(l.feeds) == 0 })
	if err := l.leave(1, sid); err == nil {
		t.Error("a viewer of a camera gone is still there")
	}
	smu.Lock()
	last := streams[len(streams)-1]
	smu.Unlock()
	select {
	case <-last.Done():
	default:
		t.Error("the stream of a camera gone is open")
	}
}

// TestLiveOpenFails: a camera that cannot be opened gives every waiting
// viewer the error and leaves nothing behind.
func TestLiveOpenFails(t *testing.T) {
	l := &lives{feeds: map[int]*feed{}, idle: time.Second, logger: slog.New(slog.DiscardHandler)}
	release := make(chan struct{})
	open := func() (Stream, *ipcam.Session, error) {
		<-release
		return nil, nil, fmt.Errorf("camera says no")
	}
	errc := make(chan error, 3)
	for range 3 {
		go func() {
			_, _, err := l.join(context.Background(), 7, open, "v=0")
			errc <- err
		}()
	}
	waitFor(t, "three joins waiting", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		f := l.feeds[7]
		return f != nil && f.pending == 3
	})
	close(release)
	for range 3 {
		if err := <-errc; err == nil {
			t.Error("a join succeeded although the camera could not be opened")
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.feeds) != 0 {
		t.Errorf("feeds left: %v", l.feeds)
	}
}
