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
	b := &Broker{Admin: "linli-admin", Password: "Broker-Admin-9"}
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
	conf := filepath.Join(dir, "mosquitto.conf")
	// Started as root, Mosquitto would switch to its own user, which cannot
	// read the test's private directory.
	user := ""
	if os.Geteuid() == 0 {
		user = "user root\n"
	}
	err = os.WriteFile(conf, fmt.Appendf(nil, `%sper_listener_settings false
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
	var logs bytes.Buffer
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start mosquitto: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	b.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	b.URL = fmt.Sprintf("mqtt://%s:%s@%s", b.Admin, b.Password, b.Addr)
	listening := func() bool {
		c, err := net.Dial("tcp", b.Addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	gone := func() bool {
		select {
		case <-exited:
			return true
		default:
			return false
		}
	}
	up := false
	Within(10*time.Second, func() bool { up = listening(); return up || gone() })
	switch {
	case up:
		return b
	case gone():
		tb.Fatalf("mosquitto exited: %s", logs.String())
	default:
		tb.Fatalf("mosquitto did not start listening on %s: %s", b.Addr, logs.String())
	}
	return nil
}
