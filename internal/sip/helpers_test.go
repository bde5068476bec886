package sip

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/internal/store"
	"linli/internal/storetest"
)

// memDirectory is the test double of the Directory: accounts and routes in
// maps.
type memDirectory struct {
	mu       sync.Mutex
	accounts map[string]Account
	routes   map[string]Route
}

func newMemDirectory() *memDirectory {
	return &memDirectory{accounts: map[string]Account{}, routes: map[string]Route{}}
}

func (d *memDirectory) add(a Account) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.accounts[a.Username] = a
}

func (d *memDirectory) route(number string, r Route) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r.Number = number
	d.routes[number] = r
}

func (d *memDirectory) Account(_ context.Context, username string) (Account, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.accounts[username]
	return a, ok, nil
}

func (d *memDirectory) Route(_ context.Context, caller Account, number string) (Route, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.routes[number]
	if !ok {
		return Route{}, &RouteError{Code: 404, Reason: "Number not in the dial plan"}
	}
	if r.Target == "forbidden" {
		return Route{}, &RouteError{Code: 403, Reason: "Not reachable from this device"}
	}
	r.Number = number
	return r, nil
}

// memCallLog keeps what the server reported.
type memCallLog struct {
	mu     sync.Mutex
	calls  map[string]Call
	events []string
}

func newMemCallLog() *memCallLog { return &memCallLog{calls: map[string]Call{}} }

func (l *memCallLog) note(ev string, c Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls[c.CallID] = c
	l.events = append(l.events, ev+" "+c.CallID)
}

func (l *memCallLog) CallStarted(_ context.Context, c Call)  { l.note("started", c) }
func (l *memCallLog) CallAnswered(_ context.Context, c Call) { l.note("answered", c) }
func (l *memCallLog) CallEnded(_ context.Context, c Call)    { l.note("ended", c) }

// ended waits for n ended calls and returns them.
func (l *memCallLog) ended(t testing.TB, n int) []Call {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		var out []Call
		for _, c := range l.calls {
			if !c.EndedAt.IsZero() {
				out = append(out, c)
			}
		}
		l.mu.Unlock()
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls ended, want %d; events %v", len(out), n, l.events)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	return storetest.Open(t, storetest.Backends()[0])
}

func startServer(t testing.TB, db *store.Store, dir Directory, calls CallLog, mod func(*Config)) *Server {
	t.Helper()
	cfg := Config{Addr: "127.0.0.1:0", Realm: "linli"}
	if mod != nil {
		mod(&cfg)
	}
	var logger *slog.Logger
	if os.Getenv("SIP_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := Start(context.Background(), cfg, db, dir, calls, logger)
	if err != nil {
		t.Fatalf("start SIP server: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// needSipp skips when sipp is missing, unless CI requires it.
func needSipp(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI_REQUIRE_SIPP") != "" {
			t.Fatalf("sipp is required (CI_REQUIRE_SIPP) but not installed: %v", err)
		}
		t.Skip("sipp not installed (Debian package sip-tester); set CI_REQUIRE_SIPP to make this fail")
	}
	return p
}

// freePort returns a UDP port free on loopback right now.
func freePort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sipp is one sipp run against the server.
type sippRun struct {
	cmd *exec.Cmd
	out *bytes.Buffer
	err chan error
}

// scenario writes the scenario with every [key] of keys replaced (sipp
// does not substitute -key values in attributes such as response codes).
func scenario(t testing.TB, name string, keys map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sipp", name))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range keys {
		b = bytes.ReplaceAll(b, []byte("["+k+"]"), []byte(v))
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startSipp runs sipp with the scenario against s on localPort in the
// background; keys are -key pairs.
func startSipp(t testing.TB, s *Server, name string, localPort int, keys map[string]string, args ...string) *sippRun {
	t.Helper()
	bin := needSipp(t)
	all := []string{s.Addr(), "-sf", scenario(t, name, keys), "-m", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(localPort),
		"-nostdin", "-timeout", "20", "-timeout_error", "-max_recv_loops", "1000"}
	all = append(all, args...)
	cmd := exec.Command(bin, all...)
	// SIPP_DIR keeps each run's message trace there, for debugging.
	cmd.Dir = t.TempDir()
	if d := os.Getenv("SIPP_DIR"); d != "" {
		cmd.Dir = d
		cmd.Args = append(cmd.Args, "-trace_msg")
	}
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	r := &sippRun{cmd: cmd, out: out, err: make(chan error, 1)}
	go func() { r.err <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return r
}

// wait waits for the sipp run and fails the test when it failed.
func (r *sippRun) wait(t testing.TB, what string) {
	t.Helper()
	select {
	case err := <-r.err:
		if err != nil {
			t.Fatalf("%s: sipp failed: %v\n%s", what, err, tail(r.out.String(), 3000))
		}
	case <-time.After(40 * time.Second):
		_ = r.cmd.Process.Kill()
		t.Fatalf("%s: sipp did not finish\n%s", what, tail(r.out.String(), 3000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// register registers username from localPort with sipp (expires 300).
func register(t testing.TB, s *Server, username, password string, localPort int) {
	t.Helper()
	startSipp(t, s, "register.xml", localPort, map[string]string{"expires": "300", "code": "200"},
		"-s", username, "-au", username, "-ap", password).wait(t, "register "+username)
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitBound waits until the sipp runs started on ports have bound them (UDP
// on the loopback), so that the server's INVITE does not meet a closed
// port. It reads the kernel's socket table rather than trying to bind the
// port itself, which could take it from sipp.
func waitBound(t testing.TB, ports ...int) {
	t.Helper()
	for _, p := range ports {
		waitFor(t, fmt.Sprintf("sipp binds UDP port %d", p), func() bool { return udpBound(t, p) })
	}
}

// udpBound reports whether a UDP socket is bound to 127.0.0.1:port.
func udpBound(t testing.TB, port int) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		t.Fatalf("the socket table: %v", err)
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) > 1 && f[1] == want {
			return true
		}
	}
	return false
}
