package app_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/storetest"
)

// scrape returns the metrics page at url.
func scrape(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestMetrics scrapes /metrics after API requests and a device's login and
// sync: requests are counted by operation id and status (never by the raw
// path), and the devices online and syncs served are there.
func TestMetrics(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		c := s.NewCommunity(t, op, "指标小区", "ME")
		op.Must(200, "GET", c.Path(""), nil)
		var dc credentials
		s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": c.ID, "community_password": "pwMEx9",
			"serial": "SN-M", "slot": map[string]any{"kind": "door", "unit_id": c.UnitID, "index": 1}}).JSON(t, &dc)
		if _, err := connectDevice(t, s.App.MQTTAddr().String(), dc.MQTT.Username, dc.MQTT.Password, dc.MQTT.Username, dc.MQTT.StatusTopic); err != nil {
			t.Fatalf("device login: %v", err)
		}
		waitFor(t, "device shown 在线", func() bool { return deviceStatus(t, c.Manager, c, "SN-M") == "online" })
		if status, _ := syncAs(t, s.Client("device"), dc.Token, 0); status != 200 {
			t.Fatalf("sync: %d", status)
		}

		status, page := scrape(t, s.URL+"/metrics")
		if status != 200 {
			t.Fatalf("/metrics = %d %s", status, page)
		}
		for _, want := range []string{
			`linli_http_requests_total{operation="create-community",status="201"} 1`,
			`linli_http_request_duration_seconds_count{operation="create-community"} 1`,
			`linli_http_requests_total{operation="device-sync",status="200"} 1`,
			`linli_devices_online 1`,
			`linli_sip_registrations 0`,
			`linli_whitelist_syncs_total{kind="full"} 1`,
			`linli_mqtt_messages_received_total{kind="status"}`,
			`go_goroutines `,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if regexp.MustCompile(`operation="[^"]*/`).MatchString(page) {
			t.Error("/metrics labels a request with a raw path")
		}

		// The probes pass the session, cross-origin and gzip layers.
		anon := s.Client("probe")
		if r := anon.DoHeaders("GET", "/healthz", map[string]string{"Accept-Encoding": "gzip", "Sec-Fetch-Site": "cross-site"}, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"status":"ok"`) {
			t.Errorf("/healthz = %d %s", r.Status, r.Body)
		}
		var ready struct {
			Status string `json:"status"`
			Checks map[string]struct{ Status string }
		}
		anon.Must(200, "GET", "/readyz", nil).JSON(t, &ready)
		if ready.Status != "ok" || ready.Checks["database"].Status != "ok" || ready.Checks["mqtt"].Status != "ok" || ready.Checks["files"].Status != "ok" {
			t.Errorf("/readyz: %+v", ready)
		}
	})
}

// TestMetricsAddr moves /metrics to LINLI_METRICS_ADDR: it is served
// there, and no longer on the main listener.
func TestMetricsAddr(t *testing.T) {
	t.Parallel()
	s := apptest.StartWith(t, config.Config{DataDir: t.TempDir(), DBURL: storetest.Backends()[0].URL(t), AdminAccount: "admin",
		AdminPassword: apptest.AdminInitial, MQTTAddr: "off", SIPAddr: "off", MetricsAddr: "127.0.0.1:0"})
	s.Operator()
	addr := s.App.MetricsAddr()
	if addr == nil {
		t.Fatal("no metrics listener although LINLI_METRICS_ADDR is set")
	}
	status, page := scrape(t, "http://"+addr.String()+"/metrics")
	if status != 200 || !strings.Contains(page, `linli_http_requests_total{operation="login",status="200"}`) || !strings.Contains(page, "linli_devices_online 0") {
		t.Errorf("metrics listener: %d %s", status, page)
	}
	if status, page := scrape(t, s.URL+"/metrics"); status != 404 || strings.Contains(page, "linli_") {
		t.Errorf("/metrics on the main listener = %d %.200s", status, page)
	}
}

// TestReadiness: /readyz says 503 and which part is down when the file
// store cannot be written (its directory replaced by a file: root ignores
// permissions), and a disabled broker does not count as down.
func TestReadiness(t *testing.T) {
	t.Parallel()
	s := apptest.StartWith(t, config.Config{DataDir: t.TempDir(), DBURL: storetest.Backends()[0].URL(t), AdminAccount: "admin",
		AdminPassword: apptest.AdminInitial, MQTTAddr: "off", SIPAddr: "off"})
	anon := s.Client("probe")
	type report struct {
		Status string `json:"status"`
		Checks map[string]struct{ Status, Message string }
	}
	var ready report
	anon.Must(200, "GET", "/readyz", nil).JSON(t, &ready)
	if ready.Checks["mqtt"].Status != "disabled" || ready.Checks["files"].Status != "ok" {
		t.Errorf("/readyz with the broker off: %+v", ready)
	}

	files := filepath.Join(s.DataDir(), "files")
	if err := os.RemoveAll(files); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := anon.Do("GET", "/readyz", nil)
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz without a file store = %d %s", r.Status, r.Body)
	}
	r.JSON(t, &ready)
	if ready.Status != "unavailable" || ready.Checks["files"].Status != "down" || !strings.Contains(ready.Checks["files"].Message, "文件存储不可写") ||
		ready.Checks["database"].Status != "ok" {
		t.Errorf("/readyz without a file store: %s", r.Body)
	}
	if strings.Contains(string(r.Body), s.DataDir()) {
		t.Errorf("/readyz shows a server path: %s", r.Body)
	}
	anon.Must(200, "GET", "/healthz", nil)
}
