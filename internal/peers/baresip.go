// Package peers runs third-party SIP devices on this machine, for
// interoperability tests and demonstrations: Debian's baresip as a door
// station that registers, dials and sends the door camera clip as H.264
// with G.711 audio, or as an auto-answering indoor monitor. Each peer is a
// child process in its own temporary directory, controlled over baresip's
// ctrl_tcp socket (JSON in netstrings), and listens on loopback only.
package peers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"linli/internal/syncbuf"
)

// ModulePath is where Debian installs baresip's modules.
const ModulePath = "/usr/lib/baresip/modules"

// Call and registration events baresip reports (the states Wait waits for).
const (
	EventRegistered  = "REGISTER_OK"
	EventRegisterErr = "REGISTER_FAIL"
	EventRinging     = "CALL_RINGING"     // our outgoing call rings at the far end (180)
	EventProgress    = "CALL_PROGRESS"    // early media (183 with SDP)
	EventEstablished = "CALL_ESTABLISHED" // answered
	EventClosed      = "CALL_CLOSED"
	EventIncoming    = "CALL_INCOMING"
)

// ErrMissing is returned (wrapped) when baresip, one of its modules or
// ffmpeg is not installed.
var ErrMissing = errors.New("peers: program or module not installed")

// Available reports whether baresip with the given modules (and ffmpeg, when
// withFFmpeg) is installed; its error wraps ErrMissing and names the Debian
// package.
func Available(withFFmpeg bool, modules ...string) error {
	if _, err := exec.LookPath("baresip"); err != nil {
		return fmt.Errorf("%w: baresip (apt-get install baresip)", ErrMissing)
	}
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(ModulePath, m)); err != nil {
			return fmt.Errorf("%w: baresip module %s (apt-get install baresip-ffmpeg)", ErrMissing, m)
		}
	}
	if withFFmpeg {
		if _, err := exec.LookPath("ffmpeg"); err != nil {
			return fmt.Errorf("%w: ffmpeg (apt-get install ffmpeg)", ErrMissing)
		}
	}
	return nil
}

// Event is one event baresip reported on its control socket.
type Event struct {
	Type    string `json:"type"`
	Class   string `json:"class"`
	PeerURI string `json:"peeruri"`
	Param   string `json:"param"`
}

// Baresip is a running baresip. Its methods are safe for concurrent use.
type Baresip struct {
	dir     string
	ownDir  bool
	sipAddr string
	cmd     *exec.Cmd
	out     syncbuf.Buffer
	done    chan struct{} // closed when the process has exited
	exitErr error

	ctrl  net.Conn
	cmdMu sync.Mutex // one command at a time: answers carry no reliable token

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced at each event
	replies chan reply
}

type reply struct {
	OK   bool   `json:"ok"`
	Data string `json:"data"`
}

// baresipConfig is what start writes into the config directory.
type baresipConfig struct {
	dir      string
	lines    []string          // config lines besides the common ones
	accounts string            // the accounts file
	files    map[string][]byte // more files for the directory
}

// start runs baresip on 127.0.0.1 with the configuration and waits until
// it is ready and its control socket answers.
func start(ctx context.Context, c baresipConfig, ownDir bool) (*Baresip, error) {
	sipPort, err := FreeSIPPort()
	if err != nil {
		return nil, err
	}
	ctrlPort, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	sipAddr := "127.0.0.1:" + strconv.Itoa(sipPort)
	config := append([]string{
		"sip_listen " + sipAddr,
		"module_path " + ModulePath,
		"sip_trans_def udp",
		"rtp_stats yes",
		"module_app menu.so", // the dial and hangup commands
		"module_app ctrl_tcp.so",
		"ctrl_tcp_listen 127.0.0.1:" + strconv.Itoa(ctrlPort),
	}, c.lines...)
	files := map[string][]byte{"config": []byte(strings.Join(config, "\n") + "\n"), "accounts": []byte(c.accounts)}
	for name, body := range c.files {
		files[name] = body
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(c.dir, name), body, 0o600); err != nil {
			return nil, err
		}
	}
	b := &Baresip{dir: c.dir, ownDir: ownDir, sipAddr: sipAddr, done: make(chan struct{}),
		changed: make(chan struct{}), replies: make(chan reply, 1)}
	// -s prints every SIP message: the offer a test checks, and the trail
	// when a call fails.
	b.cmd = exec.Command("baresip", "-f", c.dir, "-v", "-s")
	b.cmd.Dir = c.dir
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	if err := b.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		b.exitErr = b.cmd.Wait()
		close(b.done)
	}()
	// baresip prints this once every module is loaded and the UA runs.
	for !strings.Contains(b.out.String(), "baresip is ready") {
		if err := b.pause(ctx, 50*time.Millisecond); err != nil {
			b.Close()
			return nil, fmt.Errorf("peers: baresip did not start: %w\n%s", err, b.out.String())
		}
	}
	var d net.Dialer
	if b.ctrl, err = d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(ctrlPort)); err != nil {
		b.Close()
		return nil, fmt.Errorf("peers: baresip control socket: %w\n%s", err, b.out.String())
	}
	go b.readControl()
	return b, nil
}

// pause waits for d unless ctx ends or the process exits first.
func (b *Baresip) pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return fmt.Errorf("baresip exited: %v", b.exitErr)
	case <-t.C:
		return nil
	}
}

// Dir is baresip's configuration directory (with the MP4 of a door).
func (b *Baresip) Dir() string { return b.dir }

// SIPAddr is where this baresip receives SIP (127.0.0.1:port).
func (b *Baresip) SIPAddr() string { return b.sipAddr }

// Output is everything baresip printed so far (its -v log).
func (b *Baresip) Output() string { return b.out.String() }

// Events returns the events reported so far.
func (b *Baresip) Events() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Event(nil), b.events...)
}

// Command runs a baresip command ("dial 0502", "hangup", "reginfo"), as
// typed after the slash on its console, and returns its answer text.
func (b *Baresip) Command(ctx context.Context, command string) (string, error) {
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	name, params, _ := strings.Cut(strings.TrimPrefix(command, "/"), " ")
	msg, _ := json.Marshal(map[string]string{"command": name, "params": params, "token": name})
	if dl, ok := ctx.Deadline(); ok {
		_ = b.ctrl.SetWriteDeadline(dl)
	}
	if _, err := fmt.Fprintf(b.ctrl, "%d:%s,", len(msg), msg); err != nil {
		return "", fmt.Errorf("peers: baresip %s: %w", name, err)
	}
	select {
	case r := <-b.replies:
		if !r.OK {
			return r.Data, fmt.Errorf("peers: baresip %s: %s", name, strings.TrimSpace(r.Data))
		}
		return r.Data, nil
	case <-ctx.Done():
		return "", fmt.Errorf("peers: baresip %s: %w", name, ctx.Err())
	case <-b.done:
		return "", fmt.Errorf("peers: baresip %s: baresip exited: %v", name, b.exitErr)
	}
}

// Dial calls number (completed with the account's domain, or a full SIP
// URI). Call events seen before are forgotten, so Wait sees this call's.
func (b *Baresip) Dial(ctx context.Context, number string) error {
	b.forgetCalls()
	_, err := b.Command(ctx, "dial "+number)
	return err
}

// Hangup ends the current call.
func (b *Baresip) Hangup(ctx context.Context) error {
	_, err := b.Command(ctx, "hangup")
	return err
}

// Wait waits until baresip has reported the event (EventRegistered,
// EventEstablished, …) and returns it. It fails early when baresip exits,
// or, waiting for a call state, when the call closed instead.
func (b *Baresip) Wait(ctx context.Context, event string) (Event, error) {
	for {
		b.mu.Lock()
		changed := b.changed
		var closed *Event
		for _, e := range b.events {
			if e.Type == event {
				b.mu.Unlock()
				return e, nil
			}
			if e.Type == EventClosed || e.Type == EventRegisterErr {
				closed = &e
			}
		}
		b.mu.Unlock()
		if closed != nil && strings.HasPrefix(event, "CALL_") == (closed.Type == EventClosed) {
			return *closed, fmt.Errorf("peers: waiting for %s, got %s %s", event, closed.Type, closed.Param)
		}
		var poll <-chan time.Time
		if event == EventRegistered {
			// The first registration may finish before the control socket
			// connects, and its event is then lost: ask.
			if r, err := b.Command(ctx, "reginfo"); err == nil && strings.Contains(r, "OK") {
				return Event{Type: EventRegistered, Class: "register", Param: "200 OK"}, nil
			}
			t := time.NewTimer(200 * time.Millisecond)
			poll = t.C
			defer t.Stop()
		}
		select {
		case <-changed:
		case <-poll:
		case <-ctx.Done():
			return Event{}, fmt.Errorf("peers: waiting for %s: %w (events %v)", event, ctx.Err(), b.Events())
		case <-b.done:
			return Event{}, fmt.Errorf("peers: waiting for %s: baresip exited: %v", event, b.exitErr)
		}
	}
}

func (b *Baresip) forgetCalls() {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.events[:0]
	for _, e := range b.events {
		if !strings.HasPrefix(e.Type, "CALL_") {
			kept = append(kept, e)
		}
	}
	b.events = kept
}

// readControl reads the control socket's netstrings: answers to commands
// and events.
func (b *Baresip) readControl() {
	r := bufio.NewReader(b.ctrl)
	for {
		msg, err := readNetstring(r)
		if err != nil {
			return
		}
		var m struct {
			Event    bool   `json:"event"`
			Response bool   `json:"response"`
			OK       bool   `json:"ok"`
			Data     string `json:"data"`
		}
		if json.Unmarshal(msg, &m) != nil {
			continue
		}
		switch {
		case m.Response:
			select {
			case b.replies <- reply{OK: m.OK, Data: m.Data}:
			default:
			}
		case m.Event:
			var e Event
			_ = json.Unmarshal(msg, &e)
			b.mu.Lock()
			b.events = append(b.events, e)
			close(b.changed)
			b.changed = make(chan struct{})
			b.mu.Unlock()
		}
	}
}

// readNetstring reads one "len:data," frame.
func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[:len(head)-1]))
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("peers: bad netstring length %q", head)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, errors.New("peers: netstring without its comma")
	}
	return buf[:n], nil
}

// Close stops baresip (it is killed: a door station that loses power) and
// removes its directory when Start made it.
func (b *Baresip) Close() {
	if b.ctrl != nil {
		_ = b.ctrl.Close()
	}
	select {
	case <-b.done:
	default:
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	if b.ownDir {
		_ = os.RemoveAll(b.dir)
	}
}

// Exited is closed when the process has ended.
func (b *Baresip) Exited() <-chan struct{} { return b.done }

// freeTCPPort returns a loopback TCP port that was free a moment ago.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreeSIPPort returns a loopback port that was free a moment ago for SIP
// over UDP and TCP, with the next port free for TCP as well: baresip
// listens for SIP on both, and for SIP over TLS on the port after. The
// port is drawn from below the kernel's range of ephemeral ports
// (32768–60999 on Linux), from which outgoing connections and listeners on
// port 0 take theirs, so none of a busy test process's own sockets can take
// it before the peer binds it.
func FreeSIPPort() (int, error) {
	for range 100 {
		port := 10000 + rand.IntN(10000)
		if sipPortFree(port) {
			return port, nil
		}
	}
	return 0, errors.New("peers: no port free for SIP over UDP, TCP and TLS")
}

// sipPortFree says whether port is free for UDP and TCP and port+1 for TCP
// on 127.0.0.1.
func sipPortFree(port int) bool {
	addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	tcp, err := net.Listen("tcp", addr(port))
	if err != nil {
		return false
	}
	defer tcp.Close()
	udp, err := net.ListenPacket("udp", addr(port))
	if err != nil {
		return false
	}
	defer udp.Close()
	tls, err := net.Listen("tcp", addr(port+1))
	if err != nil {
		return false
	}
	tls.Close()
	return true
}
