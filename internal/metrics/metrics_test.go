package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	if rec.Code != 200 {
		t.Fatalf("/metrics = %d %s", rec.Code, body)
	}
	return string(body)
}

func TestInstruments(t *testing.T) {
	m := New(Gauges{
		DevicesOnline:    func(context.Context) (int, error) { return 7, nil },
		SIPRegistrations: func(context.Context) (int, error) { return 0, errors.New("database down") },
	})
	m.MQTTMessage("events")
	m.MQTTMessage("events")
	m.CallEnded("answered")
	m.CallEnded("missed")
	m.SyncServed(true)
	m.SyncServed(false)
	m.SyncServed(false)
	m.ImportTook(1500 * time.Millisecond)
	m.Swept(3, nil)
	m.Swept(1, errors.New("disk"))
	page := scrape(t, m)
	for _, want := range []string{
		"linli_devices_online 7",
		`linli_mqtt_messages_received_total{kind="events"} 2`,
		`linli_sip_calls_total{result="answered"} 1`,
		`linli_sip_calls_total{result="missed"} 1`,
		`linli_whitelist_syncs_total{kind="full"} 1`,
		`linli_whitelist_syncs_total{kind="delta"} 2`,
		`linli_roster_import_duration_seconds_bucket{le="2.5"} 1`,
		`linli_janitor_sweeps_total{result="ok"} 1`,
		`linli_janitor_sweeps_total{result="error"} 1`,
		"linli_janitor_files_removed_total 4",
		"process_",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// A count that fails leaves out its own metric, not the page.
	if strings.Contains(page, "linli_sip_registrations ") {
		t.Error("a failed count was reported")
	}
}

// TestNil: a nil Metrics records nothing and does not panic.
func TestNil(t *testing.T) {
	var m *Metrics
	m.MQTTMessage("status")
	m.CallEnded("answered")
	m.SyncServed(true)
	m.ImportTook(time.Second)
	m.Swept(1, nil)
}

// TestOwnRegistries: two servers in one process count apart.
func TestOwnRegistries(t *testing.T) {
	a, b := New(Gauges{}), New(Gauges{})
	a.CallEnded("busy")
	if strings.Contains(scrape(t, b), "linli_sip_calls_total") {
		t.Error("a call counted by one server shows on another")
	}
}
