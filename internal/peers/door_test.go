package peers_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/internal/peers"
	"linli/internal/sip"
	"linli/internal/sip/ua"
	"linli/internal/storetest"
)

// directory is the SIP server's view of the test community: one door
// station (d1) and one indoor monitor (i1) reached at 0502.
type directory struct{}

var accounts = map[string]sip.Account{
	"d1": {Username: "d1", Password: "door-secret", Kind: sip.KindDoor, CommunityID: 1, DeviceID: 1, Label: "1-1-1-门口机1"},
	"i1": {Username: "i1", Password: "monitor-secret", Kind: sip.KindIndoor, CommunityID: 1, DeviceID: 2, Label: "1-1-1-0502 室内分机"},
}

func (directory) Account(_ context.Context, username string) (sip.Account, bool, error) {
	a, ok := accounts[username]
	return a, ok, nil
}

func (directory) Route(_ context.Context, _ sip.Account, number string) (sip.Route, error) {
	if number != "0502" {
		return sip.Route{}, &sip.RouteError{Code: 404, Reason: "Number not in the dial plan"}
	}
	return sip.Route{Number: number, Target: "1-1-1-0502", RoomID: 7, RingTime: 20 * time.Second,
		Branches: []sip.Branch{{Username: "i1", Who: "室内分机"}}}, nil
}

type callLog struct {
	mu     sync.Mutex
	events []string
}

func (l *callLog) note(ev string, c sip.Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev+" "+c.Result)
}
func (l *callLog) CallStarted(_ context.Context, c sip.Call)  { l.note("started", c) }
func (l *callLog) CallAnswered(_ context.Context, c sip.Call) { l.note("answered", c) }
func (l *callLog) CallEnded(_ context.Context, c sip.Call)    { l.note("ended", c) }

func logger(tb testing.TB) *slog.Logger {
	tb.Helper()
	if os.Getenv("SIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func requireBaresip(tb testing.TB) {
	tb.Helper()
	if err := peers.Available(true, "avformat.so", "avcodec.so", "ctrl_tcp.so"); err != nil {
		if os.Getenv("CI_REQUIRE_SIPP") != "" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
}

// TestDoorCallsThroughServer: baresip, as door station d1, registers with
// the Linli SIP server (digest), dials 0502 and the indoor monitor (our
// agent) answers; the monitor receives baresip's H.264 (the clip through
// avformat and avcodec) and G.711. The offer has H.264 with
// packetization-mode=1, and the monitor's answer picks it.
func TestDoorCallsThroughServer(t *testing.T) {
	requireBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	calls := &callLog{}
	srv, err := sip.Start(ctx, sip.Config{Addr: "127.0.0.1:0", Realm: "linli"}, storetest.Open(t, storetest.Backends()[0]),
		directory{}, calls, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	// The monitor registers over UDP: baresip offers five video codecs, and
	// the INVITE with that offer is over 1300 bytes, which the server must
	// still forward to it (fragmented) rather than fail the call.
	monitor, err := ua.New(ua.Config{Username: "i1", Password: "monitor-secret", Server: srv.Addr(), Video: true,
		Answer: ua.AnswerPolicy{Mode: ua.AnswerAuto}, Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = monitor.Close() })
	if err := monitor.Register(ctx); err != nil {
		t.Fatal(err)
	}

	door, err := peers.StartDoor(ctx, peers.DoorConfig{Server: srv.Addr(), Username: "d1", Password: "door-secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer door.Close()
	if _, err := door.Wait(ctx, peers.EventRegistered); err != nil {
		t.Fatalf("%v\n%s", err, door.Output())
	}
	if err := door.Dial(ctx, "0502"); err != nil {
		t.Fatal(err)
	}
	if _, err := door.Wait(ctx, peers.EventEstablished); err != nil {
		t.Fatalf("%v\n%s", err, door.Output())
	}
	var in *ua.Call
	for in == nil {
		if cs := monitor.Calls(); len(cs) == 1 {
			in = cs[0]
		}
		select {
		case <-ctx.Done():
			t.Fatal("no call at the monitor")
		case <-time.After(20 * time.Millisecond):
		}
	}
	for {
		info := in.Info()
		if info.VideoReceived >= 100 && info.PacketsReceived >= 50 {
			t.Logf("monitor: %+v", info.MediaStats)
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("media from baresip: %+v\n%s", info, door.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
	out := door.Output()
	if pt, ok := h264Mode1(out); !ok {
		t.Errorf("baresip's INVITE offers no H.264 with packetization-mode=1:\n%s", out)
	} else {
		t.Logf("H.264 packetization-mode=1 offered as payload type %s", pt)
	}
	if !strings.Contains(out, "Set video encoder: H264 packetization-mode=1") {
		t.Errorf("baresip did not send H.264 in packetization-mode 1:\n%s", out)
	}
	// Constrained baseline, as the server's WebRTC relay offers browsers:
	// profile_idc 66 with constraint_set1.
	if p := in.Info().VideoProfile; len(p) != 6 || p[:2] != "42" || !strings.ContainsAny(p[2:3], "4567cdef") {
		t.Errorf("the monitor received H.264 of profile-level-id %q, want constrained baseline (42c0xx/42e0xx)", p)
	}
	if err := door.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := door.Wait(ctx, peers.EventClosed); err != nil {
		t.Fatal(err)
	}
	select {
	case <-in.Done():
	case <-ctx.Done():
		t.Fatal("the monitor's call did not end")
	}
	dir := door.Dir()
	if _, err := os.Stat(filepath.Join(dir, "door.mp4")); err != nil {
		t.Errorf("the clip's MP4: %v", err)
	}
	door.Close()
	select {
	case <-door.Exited():
	default:
		t.Error("baresip still runs after Close")
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left behind: %v", dir, err)
	}
	for {
		calls.mu.Lock()
		events := strings.Join(calls.events, ", ")
		calls.mu.Unlock()
		if strings.Contains(events, "ended answered") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the server's record: %s", events)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// h264Mode1 finds in baresip's SIP trace the INVITE's H.264 payload type
// offered with packetization-mode=1.
func h264Mode1(trace string) (string, bool) {
	i := strings.Index(trace, "INVITE sip:0502")
	if i < 0 {
		return "", false
	}
	invite := trace[i:]
	if j := strings.Index(invite, "\nSIP/2.0 "); j > 0 {
		invite = invite[:j]
	}
	for _, m := range regexp.MustCompile(`a=rtpmap:(\d+) H264/90000`).FindAllStringSubmatch(invite, -1) {
		if regexp.MustCompile(`a=fmtp:` + m[1] + ` [^\r\n]*packetization-mode=1`).MatchString(invite) {
			return m[1], true
		}
	}
	return "", false
}
