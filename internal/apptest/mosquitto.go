package apptest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Broker is a Mosquitto the test started for itself, with the dynamic
// security plugin and no anonymous access.
type Broker struct {
	Addr     string // host:port devices connect to
	URL      string // LINLI_MQTT_URL for Linli: the plugin's administrator
	Admin    string
	Password string

	bin, conf string
	tb        testing.TB
	proc      *brokerProcess // nil while it is stopped
}

// brokerProcess is one run of the broker.
type brokerProcess struct {
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	exited chan struct{}
}

// Mosquitto starts a private Mosquitto on a free loopback port; it stops at
// the end of the test. The machine's own Mosquitto (127.0.0.1:1883) is left
// alone.
func Mosquitto(tb testing.TB) *Broker {
	tb.Helper()
	bin := "/usr/sbin/mosquitto"
	if p, err := exec.LookPath("mosquitto"); err == nil {
		bin = p
	}
	plugin := ""
	for _, p := range []string{"/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so", "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so", "/usr/lib/mosquitto_dynamic_security.so"} {
		if _, err := os.Stat(p); err == nil {
			plugin = p
		}
	}
	if _, err := os.Stat(bin); err != nil || plugin == "" {
		tb.Fatalf("Mosquitto with its dynamic security plugin is needed (Debian package mosquitto; scripts/test.sh installs it)")
	}
	dir := tb.TempDir()
	b := &Broker{Admin: "linli-admin", Password: "Broker-Admin-9", bin: bin, conf: filepath.Join(dir, "mosquitto.conf"), tb: tb}
	dynsec := filepath.Join(dir, "dynsec.json")
	if out, err := exec.Command("mosquitto_ctrl", "dynsec", "init", dynsec, b.Admin, b.Password).CombinedOutput(); err != nil {
		tb.Fatalf("mosquitto_ctrl dynsec init: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// Started as root, Mosquitto would switch to its own user, which cannot
	// read the test's private directory.
	user := ""
	if os.Geteuid() == 0 {
		user = "user root\n"
	}
	// The accounts live in the plugin's file, so they outlive a restart;
	// sessions and last wills do not (no persistence).
	err = os.WriteFile(b.conf, fmt.Appendf(nil, `%sper_listener_settings false
persistence false
log_dest stderr
log_type error
log_type warning
listener %d 127.0.0.1
allow_anonymous false
retain_available false
plugin %s
plugin_opt_config_file %s
`, user, port, plugin, dynsec), 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	b.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	b.URL = fmt.Sprintf("mqtt://%s:%s@%s", b.Admin, b.Password, b.Addr)
	tb.Cleanup(b.Kill)
	b.Start()
	return b
}

// Kill ends the broker at once (SIGKILL): no last will is sent, and every
// session is gone. Start runs it again on the same address.
func (b *Broker) Kill() {
	if b.proc == nil {
		return
	}
	_ = b.proc.cmd.Process.Kill()
	<-b.proc.exited
	b.proc = nil
}

// Start runs the stopped broker and waits until it listens.
func (b *Broker) Start() {
	b.tb.Helper()
	if b.proc != nil {
		return
	}
	p := &brokerProcess{logs: &bytes.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(b.bin, "-c", b.conf)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		b.tb.Fatalf("start mosquitto: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	b.proc = p
	listening := func() bool {
		c, err := net.Dial("tcp", b.Addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	gone := func() bool {
		select {
		case <-p.exited:
			return true
		default:
			return false
		}
	}
	up := false
	Within(10*time.Second, func() bool { up = listening(); return up || gone() })
	if !up {
		exited := gone()
		b.Kill()
		if exited {
			b.tb.Fatalf("mosquitto exited: %s", p.logs.String())
		}
		b.tb.Fatalf("mosquitto did not start listening on %s: %s", b.Addr, p.logs.String())
	}
}
