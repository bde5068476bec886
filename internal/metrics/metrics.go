// Package metrics is Linli's Prometheus instrumentation: one registry per
// running server (several servers run in one test process, so nothing goes
// to the library's global registry), the instruments the other packages
// report to through small functions, and the /metrics handler.
//
// A nil *Metrics is valid and records nothing, so services built without a
// server (the offline OpenAPI document) need no special case.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// CountFunc counts something at scrape time, such as the devices online.
// It gets a context bounded by ScrapeTimeout.
type CountFunc func(ctx context.Context) (int, error)

// ScrapeTimeout bounds each CountFunc of a scrape, so that a hung database
// does not hang the scraper.
const ScrapeTimeout = 2 * time.Second

// Gauges are the values asked for at scrape time; a nil one is left out.
type Gauges struct {
	// DevicesOnline counts the bound devices that have an MQTT session.
	DevicesOnline CountFunc
	// SIPRegistrations counts the live SIP registrations.
	SIPRegistrations CountFunc
}

// Metrics holds a server's registry and instruments.
type Metrics struct {
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	mqttMessages *prometheus.CounterVec
	calls        *prometheus.CounterVec
	syncs        *prometheus.CounterVec
	imports      prometheus.Histogram
	sweeps       *prometheus.CounterVec
	swept        prometheus.Counter
}

// New returns a Metrics with its own registry holding the Go runtime and
// process collectors, Linli's instruments and the gauges g.
func New(g Gauges) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linli_http_requests_total",
			Help: "API requests answered, by operation id and HTTP status.",
		}, []string{"operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "linli_http_request_duration_seconds",
			Help:    "Time to answer an API request, by operation id.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		mqttMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linli_mqtt_messages_received_total",
			Help: "Device messages received from the MQTT broker, by kind (status: presence; events: answers to commands).",
		}, []string{"kind"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linli_sip_calls_total",
			Help: "SIP calls this instance routed that ended, by result (answered, missed, busy, cancelled, forwarded, failed).",
		}, []string{"result"}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linli_whitelist_syncs_total",
			Help: "Whitelist versions served to devices, by kind (full snapshot or delta).",
		}, []string{"kind"}),
		imports: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "linli_roster_import_duration_seconds",
			Help:    "Time to import a residents workbook (导入业主), successful or not.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}),
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "linli_janitor_sweeps_total",
			Help: "Orphan file sweeps run, by result (ok or error).",
		}, []string{"result"}),
		swept: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "linli_janitor_files_removed_total",
			Help: "Stored files the orphan sweep removed.",
		}),
	}
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.mqttMessages, m.calls, m.syncs, m.imports, m.sweeps, m.swept)
	if g.DevicesOnline != nil {
		m.registry.MustRegister(newCount("linli_devices_online", "Bound devices with an MQTT session (所有实例).", g.DevicesOnline))
	}
	if g.SIPRegistrations != nil {
		m.registry.MustRegister(newCount("linli_sip_registrations", "Live SIP registrations of devices and apps (所有实例).", g.SIPRegistrations))
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format. A
// count that fails leaves out its metric, not the whole answer.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry, ErrorHandling: promhttp.ContinueOnError})
}

// HTTP is a huma middleware counting every API request by its operation id
// (never the raw path, which holds ids) and status, and timing it.
func (m *Metrics) HTTP(ctx huma.Context, next func(huma.Context)) {
	if m == nil {
		next(ctx)
		return
	}
	start := time.Now()
	next(ctx)
	op := ctx.Operation().OperationID
	status := ctx.Status()
	if status == 0 {
		status = http.StatusOK
	}
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// MQTTMessage counts a device message of kind received from the broker.
func (m *Metrics) MQTTMessage(kind string) {
	if m != nil {
		m.mqttMessages.WithLabelValues(kind).Inc()
	}
}

// CallEnded counts a SIP call that ended with result.
func (m *Metrics) CallEnded(result string) {
	if m != nil {
		m.calls.WithLabelValues(result).Inc()
	}
}

// SyncServed counts a whitelist answer to a device: a full snapshot or a
// delta.
func (m *Metrics) SyncServed(full bool) {
	if m == nil {
		return
	}
	kind := "delta"
	if full {
		kind = "full"
	}
	m.syncs.WithLabelValues(kind).Inc()
}

// ImportTook records how long a workbook import took.
func (m *Metrics) ImportTook(d time.Duration) {
	if m != nil {
		m.imports.Observe(d.Seconds())
	}
}

// Swept counts an orphan file sweep that removed removed files and ended
// with err.
func (m *Metrics) Swept(removed int, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.sweeps.WithLabelValues(result).Inc()
	m.swept.Add(float64(removed))
}
