package media

import (
	"os"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestThousandSessions opens and closes 1,000 device streams and 50 streams
// with a connected browser, then checks that goroutines, streams, viewers
// and ports are back where they started.
func TestThousandSessions(t *testing.T) {
	r := newTestRelay(t, Config{MaxSessions: 5})
	// Warm up once so lazily started runtime goroutines count in the baseline.
	rs, err := r.NewRTPStream(1, "warm-up")
	if err != nil {
		t.Fatal(err)
	}
	rs.Close()
	time.Sleep(100 * time.Millisecond) // not a timing assertion: lets the warm-up's goroutines exit
	base, baseFDs := goroutines(), openFiles(t)

	for i := range 1000 {
		rs, err := r.NewRTPStream(i%7, "door")
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		rs.Start(Peer{Audio: rs.Audio(), AudioPT: 0, Video: rs.Video(), VideoPT: 96})
		rs.Close()
		<-rs.Stream().Done()
	}
	if got := r.Stats(); got != (RelayStats{}) {
		t.Fatalf("after 1,000 streams: %+v", got)
	}

	for i := range 50 {
		rs, err := r.NewRTPStream(1, "door")
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		b := newBrowser(t, browserOptions{})
		connected := make(chan struct{})
		b.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if s == webrtc.PeerConnectionStateConnected {
				close(connected)
			}
		})
		v, answer, err := rs.Stream().AddViewer(b.offer(t), ViewerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b.answer(t, answer)
		select {
		case <-connected:
		case <-time.After(60 * time.Second):
			t.Fatalf("browser %d did not connect", i)
		}
		if i%2 == 0 {
			v.Close() // the viewer first, then the stream
		}
		rs.Close()
		<-v.Done()
		b.pc.Close()
		b.wg.Wait()
	}
	waitFor(t, "relay stats back to zero", func() bool { return r.Stats() == (RelayStats{}) })
	waitFor(t, "goroutines back to the baseline", func() bool { return goroutines() <= base })
	waitFor(t, "open files (sockets) back to the baseline", func() bool { return openFiles(t) <= baseFDs })
	t.Logf("goroutines: %d at the start, %d at the end; open files %d and %d", base, goroutines(), baseFDs, openFiles(t))
}

// openFiles counts the process's file descriptors: every UDP socket of the
// relay and of the browsers is one.
func openFiles(tb testing.TB) int {
	tb.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Skip("no /proc/self/fd")
	}
	return len(fds)
}
