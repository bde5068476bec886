package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"linli/internal/health"
	"linli/internal/httpapi"
	"linli/internal/metrics"
	"linli/internal/mqtt"
	"linli/internal/sip"
)

// operations answers what process supervisors, load balancers and
// Prometheus ask: /healthz, /readyz, and /metrics unless LINLI_METRICS_ADDR
// gives the metrics a listener of their own. None of them needs a session.
func (a *App) operations() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", health.Live())
	mux.Handle("GET /readyz", health.NewChecker(a.logger,
		health.Check{Key: "database", Down: "数据库无响应", Probe: a.pingDatabase},
		health.Check{Key: "mqtt", Down: "MQTT 服务未就绪：设备无法连接", Probe: a.checkBroker},
		health.Check{Key: "files", Down: "文件存储不可写：照片、抓拍和固件无法保存", Probe: a.files.Check},
	))
	if a.cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", a.metrics.Handler())
	} else {
		mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			httpapi.WriteProblem(w, http.StatusNotFound, "指标不在此地址：见 LINLI_METRICS_ADDR 的监听地址")
		}))
	}
	return mux
}

func (a *App) pingDatabase(ctx context.Context) error {
	var one int
	return a.db.DB.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// checkBroker says whether devices can reach the server over MQTT: the
// embedded broker listens, or the external one is connected.
func (a *App) checkBroker(ctx context.Context) error {
	switch {
	case a.external != nil:
		return a.external.Check(ctx)
	case a.broker != nil:
		return a.broker.Check(ctx)
	case a.cfg.MQTTURL == "" && (a.cfg.MQTTAddr == "" || a.cfg.MQTTAddr == "off"):
		return health.ErrDisabled
	}
	return errors.New("mqtt: the embedded broker did not start (its port is in use)")
}

// devicesOnline and sipRegistrations are the gauges Prometheus reads at
// scrape time.
func (a *App) devicesOnline(ctx context.Context) (int, error) { return a.devices.CountOnline(ctx) }

func (a *App) sipRegistrations(ctx context.Context) (int, error) {
	if a.sip == nil {
		return 0, nil
	}
	return a.sip.CountRegistrations(ctx)
}

// startMetrics serves /metrics on LINLI_METRICS_ADDR when it is set; Close
// stops it.
func (a *App) startMetrics() error {
	if a.cfg.MetricsAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	addr, stop, err := a.serveOps("metrics", a.cfg.MetricsAddr, mux, 30*time.Second)
	if err != nil {
		return err
	}
	a.metricsAddr, a.stopMetrics = addr, stop
	a.logger.Info("metrics listening", "metrics", "http://"+addr.String()+"/metrics")
	return nil
}

// startProfiles serves Go's profiles (/debug/pprof/: heap, goroutine, CPU
// …) on LINLI_PPROF_ADDR, a loopback address, when it is set; Close stops
// it. They show memory and goroutines of a running server, and are never
// on the public listener.
func (a *App) startProfiles() error {
	if a.cfg.PprofAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	// A CPU profile or trace takes 30 s by default.
	addr, stop, err := a.serveOps("pprof", a.cfg.PprofAddr, mux, 5*time.Minute)
	if err != nil {
		return err
	}
	a.pprofAddr, a.stopProfiles = addr, stop
	a.logger.Info("profiles listening", "pprof", "http://"+addr.String()+"/debug/pprof/")
	return nil
}

// serveOps serves h on a listener of its own at addr; stop ends it.
func (a *App) serveOps(name, addr string, h http.Handler, writeTimeout time.Duration) (net.Addr, func(), error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: listen %s: %w", name, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: writeTimeout}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error(name+" listener", "err", err)
		}
	}()
	return l.Addr(), func() {
		_ = srv.Close()
		<-done
	}, nil
}

// PprofAddr returns the address of the profiles' listener, or nil without
// LINLI_PPROF_ADDR.
func (a *App) PprofAddr() net.Addr { return a.pprofAddr }

// MetricsAddr returns the address of the metrics listener, or nil when the
// metrics are served on the main HTTP listener.
func (a *App) MetricsAddr() net.Addr { return a.metricsAddr }

// countedDevices counts the device messages the broker hands to the device
// service.
type countedDevices struct {
	mqtt.Devices
	metrics *metrics.Metrics
}

func (d countedDevices) SetOnline(ctx context.Context, deviceID int, online bool, ip string) {
	d.metrics.MQTTMessage("status")
	d.Devices.SetOnline(ctx, deviceID, online, ip)
}

func (d countedDevices) DeviceMessage(ctx context.Context, deviceID int, payload []byte) {
	d.metrics.MQTTMessage("events")
	d.Devices.DeviceMessage(ctx, deviceID, payload)
}

// countedCalls counts the calls the SIP server ends, by result.
type countedCalls struct {
	sip.CallLog
	metrics *metrics.Metrics
}

func (c countedCalls) CallEnded(ctx context.Context, call sip.Call) {
	c.CallLog.CallEnded(ctx, call)
	c.metrics.CallEnded(call.Result)
}
