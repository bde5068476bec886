package app

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"linli/internal/metrics"
	"linli/internal/mqtt"
	"linli/internal/sip"
)

type fakeLog struct{ ended []string }

func (l *fakeLog) CallStarted(context.Context, sip.Call)  {}
func (l *fakeLog) CallAnswered(context.Context, sip.Call) {}
func (l *fakeLog) CallEnded(_ context.Context, c sip.Call) {
	l.ended = append(l.ended, c.Result)
}

type fakeDevices struct{ online, messages int }

func (d *fakeDevices) AuthenticateMQTT(context.Context, string, string) (mqtt.Device, bool) {
	return mqtt.Device{}, false
}
func (d *fakeDevices) SetOnline(context.Context, int, bool, string) { d.online++ }
func (d *fakeDevices) DeviceMessage(context.Context, int, []byte)   { d.messages++ }

// TestCountedHooks: the SIP server's ended calls and the broker's device
// messages reach both the service and the metrics.
func TestCountedHooks(t *testing.T) {
	m := metrics.New(metrics.Gauges{})
	log, devices := &fakeLog{}, &fakeDevices{}
	calls, msgs := countedCalls{log, m}, countedDevices{devices, m}
	calls.CallEnded(context.Background(), sip.Call{Result: sip.ResultBusy})
	msgs.SetOnline(context.Background(), 1, true, "")
	msgs.DeviceMessage(context.Background(), 1, nil)
	msgs.DeviceMessage(context.Background(), 1, nil)
	if len(log.ended) != 1 || devices.online != 1 || devices.messages != 2 {
		t.Fatalf("services told: %v %+v", log.ended, devices)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	page, _ := io.ReadAll(rec.Body)
	for _, want := range []string{`linli_sip_calls_total{result="busy"} 1`, `linli_mqtt_messages_received_total{kind="status"} 1`,
		`linli_mqtt_messages_received_total{kind="events"} 2`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
