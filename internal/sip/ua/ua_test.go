package ua

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func testLogger(tb testing.TB) *slog.Logger {
	tb.Helper()
	if os.Getenv("UA_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// keyLog collects the keys an agent receives.
type keyLog struct {
	mu   sync.Mutex
	keys []string
}

func (k *keyLog) add(_ *Call, key, via string) {
	k.mu.Lock()
	k.keys = append(k.keys, via+":"+key)
	k.mu.Unlock()
}

func (k *keyLog) String() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return strings.Join(k.keys, ",")
}

func newAgent(tb testing.TB, cfg Config) *UA {
	tb.Helper()
	cfg.Logger = testLogger(tb)
	u, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = u.Close() })
	return u
}

// waitFor polls cond for up to d.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitDone(tb testing.TB, c *Call, d time.Duration) {
	tb.Helper()
	select {
	case <-c.Done():
	case <-time.After(d):
		tb.Fatalf("call %s did not end: %+v", c.ID(), c.Info())
	}
}

// incoming returns the agent's only call once it exists.
func incoming(tb testing.TB, u *UA) *Call {
	tb.Helper()
	waitFor(tb, 5*time.Second, "the incoming call", func() bool { return len(u.Calls()) == 1 })
	return u.Calls()[0]
}

func TestCallPeerToPeer(t *testing.T) {
	base := runtime.NumGoroutine()
	var doorKeys, monitorKeys keyLog
	door := newAgentNoCleanup(t, Config{Username: "d1", OnDTMF: doorKeys.add})
	monitor := newAgentNoCleanup(t, Config{Username: "d2", OnDTMF: monitorKeys.add, Answer: AnswerPolicy{Mode: AnswerAuto}})

	c, err := door.Call(t.Context(), monitor.URI())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Answered():
	case <-time.After(5 * time.Second):
		t.Fatalf("not answered: %+v", c.Info())
	}
	in := incoming(t, monitor)
	if in.ID() != c.ID() {
		t.Fatalf("Call-ID: caller %s, callee %s", c.ID(), in.ID())
	}
	// Both sides send a 20 ms tone: after a second each has received ~50.
	waitFor(t, 5*time.Second, "RTP both ways", func() bool {
		return c.Info().PacketsReceived >= 25 && in.Info().PacketsReceived >= 25
	})
	if got := c.Info().Codec; got != "PCMU" {
		t.Errorf("codec %q, want PCMU", got)
	}

	// The monitor opens the door: RFC 4733 first, then SIP INFO; the door
	// answers with keys of its own the same two ways.
	ctx := t.Context()
	if err := in.SendDTMF(ctx, "#", "rtp"); err != nil {
		t.Fatal(err)
	}
	if err := in.SendDTMF(ctx, "#", "info"); err != nil {
		t.Fatal(err)
	}
	if err := c.SendDTMF(ctx, "12", "rtp"); err != nil {
		t.Fatal(err)
	}
	if err := c.SendDTMF(ctx, "*", "info"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "keys both ways", func() bool {
		d, m := doorKeys.String(), monitorKeys.String()
		return strings.Contains(d, "rtp:#") && strings.Contains(d, "info:#") &&
			strings.Contains(m, "info:*") && strings.Contains(strings.ReplaceAll(m, ",info:*", ""), "rtp:1,rtp:2")
	})
	if got := doorKeys.String(); strings.Count(got, "#") != 2 {
		t.Errorf("door got keys %q, want one # by RTP and one by INFO", got)
	}

	// The monitor hangs up: BYE ends both sides.
	in.Hangup()
	waitDone(t, in, 5*time.Second)
	waitDone(t, c, 5*time.Second)
	if info := c.Info(); info.State != StateEnded || info.AnsweredAt == nil || info.Reason != "对方挂断" {
		t.Errorf("caller after BYE: %+v", info)
	}
	sent, recv := c.Info().PacketsSent, in.Info().PacketsReceived
	t.Logf("door sent %d RTP packets, monitor received %d", sent, recv)
	if recv == 0 || recv > sent {
		t.Errorf("monitor received %d of %d packets", recv, sent)
	}

	_ = door.Close()
	_ = monitor.Close()
	checkGoroutines(t, base)
}

// newAgentNoCleanup is newAgent for tests that close the agents themselves.
func newAgentNoCleanup(tb testing.TB, cfg Config) *UA {
	tb.Helper()
	cfg.Logger = testLogger(tb)
	u, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// checkGoroutines fails when goroutines remain after the agents closed
// (transaction timers of the SIP stack are timers, not goroutines).
func checkGoroutines(tb testing.TB, base int) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			tb.Fatalf("%d goroutines left (was %d):\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCallCancelWhileRinging(t *testing.T) {
	door := newAgent(t, Config{})
	monitor := newAgent(t, Config{Answer: AnswerPolicy{Mode: AnswerNever}})
	c, err := door.Call(t.Context(), monitor.URI())
	if err != nil {
		t.Fatal(err)
	}
	in := incoming(t, monitor)
	waitFor(t, 5*time.Second, "ringing", func() bool { return c.Info().State == StateRinging })
	c.Hangup()
	waitDone(t, c, 10*time.Second)
	waitDone(t, in, 5*time.Second)
	if got := c.Info(); got.Code != 487 || got.AnsweredAt != nil {
		t.Errorf("caller: %+v, want 487 never answered", got)
	}
	if got := in.Info(); got.Code != 487 || got.Reason != "对方取消" {
		t.Errorf("callee: %+v, want 487 对方取消", got)
	}
}

func TestCallRefused(t *testing.T) {
	for _, code := range []int{486, 603} {
		door := newAgent(t, Config{})
		monitor := newAgent(t, Config{Answer: AnswerPolicy{Mode: AnswerReject, Code: code}})
		c, err := door.Call(t.Context(), monitor.URI())
		if err != nil {
			t.Fatal(err)
		}
		waitDone(t, c, 5*time.Second)
		if got := c.Info(); got.Code != code || got.AnsweredAt != nil {
			t.Errorf("refused with %d: caller saw %+v", code, got)
		}
	}
}

func TestCallAnsweredAfterDelayWithEarlyMedia(t *testing.T) {
	door := newAgent(t, Config{})
	monitor := newAgent(t, Config{EarlyMedia: true, Answer: AnswerPolicy{Mode: AnswerAfter, Delay: 700 * time.Millisecond}})
	start := time.Now()
	c, err := door.Call(t.Context(), monitor.URI())
	if err != nil {
		t.Fatal(err)
	}
	// While it rings, the monitor's 183 tone already reaches the door.
	waitFor(t, 5*time.Second, "early media", func() bool {
		i := c.Info()
		return i.State == StateRinging && i.EarlyMedia && i.PacketsReceived >= 5
	})
	select {
	case <-c.Answered():
	case <-time.After(5 * time.Second):
		t.Fatalf("not answered: %+v", c.Info())
	}
	if d := time.Since(start); d < 700*time.Millisecond {
		t.Errorf("answered after %v, want at least 700 ms", d)
	}
	c.Hangup()
	waitDone(t, c, 5*time.Second)
	if got := c.Info(); got.Reason != "本方挂断" {
		t.Errorf("caller: %+v", got)
	}
}

func TestAnswerByHand(t *testing.T) {
	door := newAgent(t, Config{})
	monitor := newAgent(t, Config{Answer: AnswerPolicy{Mode: AnswerNever}})
	c, err := door.Call(context.Background(), monitor.URI())
	if err != nil {
		t.Fatal(err)
	}
	in := incoming(t, monitor)
	waitFor(t, 5*time.Second, "ringing", func() bool { return in.Info().State == StateRinging })
	if err := c.SendDTMF(t.Context(), "#", "info"); err == nil {
		t.Error("keys were sent before the call was answered")
	}
	if err := in.Answer(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Answered():
	case <-time.After(5 * time.Second):
		t.Fatalf("not answered: %+v", c.Info())
	}
	if err := in.Answer(); err == nil {
		t.Error("a second answer was accepted")
	}
}

func TestCallOverTCP(t *testing.T) {
	var keys keyLog
	door := newAgent(t, Config{Username: "d1", Transport: "tcp", OnDTMF: keys.add})
	monitor := newAgent(t, Config{Username: "d2", Transport: "tcp"})
	if !strings.Contains(monitor.URI(), "transport=tcp") {
		t.Fatalf("contact %s does not say TCP", monitor.URI())
	}
	c, err := door.Call(t.Context(), monitor.URI())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Answered():
	case <-time.After(5 * time.Second):
		t.Fatalf("not answered: %+v", c.Info())
	}
	in := incoming(t, monitor)
	waitFor(t, 5*time.Second, "RTP both ways", func() bool {
		return c.Info().PacketsReceived >= 10 && in.Info().PacketsReceived >= 10
	})
	if err := in.SendDTMF(t.Context(), "#", "info"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the INFO key", func() bool { return keys.String() == "info:#" })
	c.Hangup()
	waitDone(t, in, 5*time.Second)
	if got := in.Info(); got.Reason != "对方挂断" {
		t.Errorf("callee after BYE over TCP: %+v", got)
	}
}

// TestCloseWhileCallingNobody: a call to an address where nothing answers
// (not even 100 Trying) does not hold Close for the INVITE's 32 s timeout.
func TestCloseWhileCallingNobody(t *testing.T) {
	base := runtime.NumGoroutine()
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	door := newAgentNoCleanup(t, Config{})
	c, err := door.Call(t.Context(), "sip:0502@"+silent.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	// The INVITE is out: its transaction is what Close must not wait for.
	_ = silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := silent.ReadFromUDP(make([]byte, 8192)); err != nil {
		t.Fatalf("no INVITE reached the silent address: %v", err)
	}
	start := time.Now()
	_ = door.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	waitDone(t, c, time.Second)
	if got := c.Info(); got.Code != 487 {
		t.Errorf("call after Close: %+v", got)
	}
	checkGoroutines(t, base)
}

// TestCallWithVideo: both sides offer and answer H.264 and send the
// camera clip; packets arrive both ways, key frames split into FU-A
// fragments.
func TestCallWithVideo(t *testing.T) {
	door := newAgent(t, Config{Video: true})
	monitor := newAgent(t, Config{Video: true})
	audioOnly := newAgent(t, Config{})
	c, err := door.Call(t.Context(), monitor.URI())
	if err != nil {
		t.Fatal(err)
	}
	in := incoming(t, monitor)
	waitFor(t, 5*time.Second, "video both ways", func() bool {
		return c.Info().VideoReceived >= 40 && in.Info().VideoReceived >= 40
	})
	// A peer without video gets audio only.
	c2, err := door.Call(t.Context(), audioOnly.URI())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "audio from the audio-only peer", func() bool { return c2.Info().PacketsReceived >= 10 })
	if got := c2.Info(); got.VideoSent != 0 || got.VideoReceived != 0 {
		t.Errorf("video with an audio-only peer: %+v", got)
	}
}
