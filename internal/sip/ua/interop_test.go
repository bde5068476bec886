package ua

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"linli/internal/syncbuf"
)

// requirePeer skips a test whose peer program is missing, unless
// CI_REQUIRE_SIPP says the machine must have it.
func requirePeer(tb testing.TB, name, pkg string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI_REQUIRE_SIPP") != "" {
			tb.Fatalf("%s is required (CI_REQUIRE_SIPP is set) but not installed: apt-get install %s", name, pkg)
		}
		tb.Skipf("%s is not installed (apt-get install %s); set CI_REQUIRE_SIPP to make this a failure", name, pkg)
	}
	return path
}

// waitBound waits until a peer the test started has bound port on the
// loopback (transport "udp", or "tcp" listening). It reads the kernel's
// socket table rather than binding the port itself, which could take it
// from the peer.
func waitBound(tb testing.TB, transport string, port int) {
	tb.Helper()
	waitFor(tb, 10*time.Second, fmt.Sprintf("a peer on %s port %d", transport, port), func() bool {
		data, err := os.ReadFile("/proc/net/" + transport)
		if err != nil {
			tb.Fatalf("the socket table: %v", err)
		}
		want := fmt.Sprintf("0100007F:%04X", port)
		for line := range strings.Lines(string(data)) {
			// Fields: sl, local address, remote address, state (0A: TCP LISTEN).
			if f := strings.Fields(line); len(f) > 3 && f[1] == want && (transport == "udp" || f[3] == "0A") {
				return true
			}
		}
		return false
	})
}

// freePort returns a UDP port on loopback that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// peer is a running peer program.
type peer struct {
	cmd  *exec.Cmd
	out  syncbuf.Buffer
	err  error
	done chan struct{} // closed when the program has exited; err is then set
}

func startPeer(tb testing.TB, dir string, name string, args ...string) *peer {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	p := &peer{cmd: exec.CommandContext(ctx, name, args...), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		cancel()
		tb.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		cancel()
		close(p.done)
	}()
	tb.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the program to exit and fails the test unless it exited 0.
func (p *peer) wait(tb testing.TB, d time.Duration) {
	tb.Helper()
	select {
	case <-p.done:
		if p.err != nil {
			tb.Fatalf("%s: %v\n%s", p.cmd.Path, p.err, p.out.String())
		}
	case <-time.After(d):
		tb.Fatalf("%s did not finish\n%s", p.cmd.Path, p.out.String())
	}
}

func TestInteropCallSippUAS(t *testing.T) {
	sipp := requirePeer(t, "sipp", "sip-tester")
	port, mport := freePort(t), freePort(t)
	p := startPeer(t, t.TempDir(), sipp, "-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mp", strconv.Itoa(mport), "-rtp_echo", "-m", "1", "-nostdin", "-timeout", "30", "-timeout_error")
	waitBound(t, "udp", port)
	door := newAgent(t, Config{Username: "d7"})
	c, err := door.Call(t.Context(), "sip:0502@127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Answered():
	case <-c.Done():
		t.Fatalf("sipp did not answer: %+v\n%s", c.Info(), p.out.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("sipp did not answer: %+v", c.Info())
	}
	// sipp echoes the door's tone back: what returns proves both directions.
	waitFor(t, 5*time.Second, "the echoed tone", func() bool { return c.Info().PacketsReceived >= 25 })
	c.Hangup()
	waitDone(t, c, 5*time.Second)
	p.wait(t, 10*time.Second)
	info := c.Info()
	t.Logf("sipp UAS: sent %d, received %d RTP packets", info.PacketsSent, info.PacketsReceived)
	if info.Reason != "本方挂断" {
		t.Errorf("BYE not confirmed: %+v", info)
	}
}

func TestInteropSippUACCallsAgent(t *testing.T) {
	sipp := requirePeer(t, "sipp", "sip-tester")
	monitor := newAgent(t, Config{Username: "d9", Answer: AnswerPolicy{Mode: AnswerAfter, Delay: 300 * time.Millisecond}})
	port, mport := freePort(t), freePort(t)
	p := startPeer(t, t.TempDir(), sipp, "-sn", "uac", monitor.Addr(), "-s", "0502", "-i", "127.0.0.1",
		"-p", strconv.Itoa(port), "-mp", strconv.Itoa(mport), "-rtp_echo", "-d", "1500", "-m", "1", "-nostdin",
		"-timeout", "30", "-timeout_error")
	p.wait(t, 20*time.Second)
	calls := monitor.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls reached the agent", len(calls))
	}
	c := calls[0]
	waitDone(t, c, 5*time.Second)
	info := c.Info()
	t.Logf("sipp UAC: agent sent %d, received %d RTP packets", info.PacketsSent, info.PacketsReceived)
	if info.AnsweredAt == nil || info.Reason != "对方挂断" || info.PacketsReceived < 25 {
		t.Errorf("call from sipp: %+v", info)
	}
}

func TestInteropRegisterWithSipp(t *testing.T) {
	sipp := requirePeer(t, "sipp", "sip-tester")
	scenario, _ := filepath.Abs("testdata/registrar.xml")
	for _, tc := range []struct {
		name, password string
		granted        int // seconds the registrar grants
		ok             bool
		transport      string
	}{
		{"right password", "s3cret-Pw", 3600, true, "udp"},
		{"wrong password", "guessed", 3600, false, "udp"},
		{"refresh before expiry", "s3cret-Pw", 2, true, "udp"},
		{"over TCP", "s3cret-Pw", 2, true, "tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			transport := map[string]string{"udp": "u1", "tcp": "t1"}[tc.transport]
			p := startPeer(t, t.TempDir(), sipp, "-sf", scenario, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", transport,
				"-set", "user", "d7", "-set", "password", "s3cret-Pw", "-set", "expires", strconv.Itoa(tc.granted),
				"-m", "1", "-nostdin", "-timeout", "20")
			waitBound(t, tc.transport, port)
			u, err := New(Config{Username: "d7", Password: tc.password, Server: "127.0.0.1:" + strconv.Itoa(port),
				Transport: tc.transport, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			err = u.Register(ctx)
			cancel()
			reg := u.Registration()
			if tc.ok != (err == nil) || tc.ok != (reg.State == RegRegistered) {
				_ = u.Close()
				t.Fatalf("register: %v, state %+v\n%s", err, reg, p.out.String())
			}
			if tc.ok && time.Until(reg.Expires) < time.Duration(tc.granted-1)*time.Second {
				t.Errorf("expires %v, want the registrar's %d s", reg.Expires, tc.granted)
			}
			if !tc.ok && reg.Code != 403 {
				t.Errorf("wrong password: %+v, want 403", reg)
			}
			if tc.granted < 10 {
				// Granted 2 s, the agent refreshes after 1 s, signing with the
				// remembered challenge and the next nonce count.
				first := reg.Expires
				waitFor(t, 5*time.Second, "two refreshes", func() bool {
					r := u.Registration()
					return r.State == RegRegistered && r.Expires.Sub(first) >= 1500*time.Millisecond
				})
			}
			_ = u.Close()
			if tc.ok {
				if st := u.Registration().State; st != RegEnded {
					t.Errorf("after Close: %s, want %s\n%s", st, RegEnded, p.out.String())
				}
				p.wait(t, 10*time.Second)
			}
		})
	}
}
