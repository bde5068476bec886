// Package app is the one place that wires configuration, store, services and
// servers together. Tests start the whole system through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/account"
	"linli/internal/actor"
	"linli/internal/ad"
	"linli/internal/application"
	"linli/internal/audit"
	"linli/internal/auth"
	"linli/internal/blob"
	"linli/internal/call"
	"linli/internal/camera"
	"linli/internal/card"
	"linli/internal/community"
	"linli/internal/config"
	"linli/internal/device"
	"linli/internal/firmware"
	"linli/internal/h5"
	"linli/internal/household"
	"linli/internal/housing"
	"linli/internal/httpapi"
	"linli/internal/imaging"
	"linli/internal/mail"
	"linli/internal/media"
	"linli/internal/metrics"
	"linli/internal/mqtt"
	"linli/internal/notice"
	"linli/internal/ownerapp"
	"linli/internal/pass"
	"linli/internal/record"
	"linli/internal/recovery"
	"linli/internal/resident"
	"linli/internal/roster"
	"linli/internal/secret"
	"linli/internal/sip"
	"linli/internal/staff"
	"linli/internal/store"
	"linli/internal/webcall"
	"linli/internal/whitelist"
	"linli/web"
)

// Version is the build version, set with -ldflags "-X linli/internal/app.Version=…".
var Version = "dev"

// App is a running Linli.
type App struct {
	cfg       config.Config
	logger    *slog.Logger
	db        *store.Store
	auth      *auth.Service
	whitelist *whitelist.Service
	records   *record.Service
	owners    *ownerapp.Service
	devices   *device.Service
	apply     *application.Service
	// directory and callLog are what the SIP server asks: accounts, routes,
	// and where call records go.
	directory *call.Directory
	callLog   *call.Log
	sip       *sip.Server
	relay     *media.Relay
	calls     *webcall.Service
	box       *secret.Box
	broker    *mqtt.Broker
	external  *mqtt.External
	handler   http.Handler
	api       huma.API
	// files holds every stored file; fileOwners say which of them rows
	// still refer to, one owner per kind of file.
	files      blob.Store
	fileOwners []blob.Owner
	listener   net.Listener
	// cameras is 监控设备; its live sessions end on Close.
	cameras *camera.Service
	// recovery is 忘记密码 and 替换手机/替换邮箱; its deliveries end on Close.
	recovery *recovery.Service
	// audit is 操作日志; the janitor purges it.
	audit *audit.Service
	// metrics are this server's Prometheus instruments; metricsAddr is
	// their own listener (LINLI_METRICS_ADDR), which stopMetrics ends.
	metrics     *metrics.Metrics
	metricsAddr net.Addr
	stopMetrics func()
	// pprofAddr is the profiles' listener (LINLI_PPROF_ADDR), which
	// stopProfiles ends.
	pprofAddr    net.Addr
	stopProfiles func()
}

// New opens the store, applies migrations, creates the first operator when
// needed and builds the HTTP handler. Close releases what it opened.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	db, err := store.Open(ctx, cfg.DBURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if db.SearchUnindexed != nil {
		logger.Warn("search boxes scan their tables: no substring indexes", "err", db.SearchUnindexed)
	}
	a := &App{cfg: cfg, logger: logger, db: db}
	a.metrics = metrics.New(metrics.Gauges{DevicesOnline: a.devicesOnline, SIPRegistrations: a.sipRegistrations})
	accounts := account.NewService(db, logger)
	created, err := accounts.EnsureOperator(ctx, cfg.AdminAccount, cfg.AdminPassword)
	if err != nil {
		db.Close()
		return nil, err
	}
	if created {
		// Hashing the first operator's password took 64 MiB for a moment; give
		// it back to the system instead of keeping it until the scavenger runs.
		debug.FreeOSMemory()
	}
	box, err := secret.Load(cfg.DataKey, cfg.DataDir)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.box = box
	a.auth = auth.NewService(db, box, cfg.TrustedProxies, logger)
	files, err := openFiles(ctx, cfg, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.files = files
	broker, err := a.openBroker()
	if err != nil {
		db.Close()
		return nil, err
	}
	// One budget for decoding pictures, whichever path they come by.
	pictures := imaging.NewGate(imaging.DefaultBudget, imaging.DefaultDecodes, imaging.DefaultWait)
	images := firmware.NewService(db, files, logger)
	devices := device.NewService(db, box, broker, logger, device.WithFirmware(images), device.WithSIPPresence(a.sipPresence),
		device.WithPresenceGrace(cfg.PresenceGrace))
	a.devices = devices
	if err := a.serveBroker(ctx, devices); err != nil {
		a.Close()
		return nil, err
	}
	a.whitelist = whitelist.NewService(db, logger, sources(db), whitelist.WithDevices(devices), whitelist.WithSyncsServed(a.metrics.SyncServed))
	residents := resident.NewService(db, box, files, pictures, a.whitelist, logger)
	pushes := ownerapp.NewPushes(db, ownerapp.LogPusher{Logger: logger}, logger)
	notices := notice.NewService(db, a.whitelist, pushes)
	ads := ad.NewService(db, a.whitelist, files, pictures, devices)
	passes := pass.NewService(db, a.whitelist, pushes, logger)
	a.records = record.NewService(db, files, devices, passes, logger)
	a.directory = call.NewDirectory(db, box, logger)
	sms := ownerapp.LogSender{Logger: logger}
	mailer, err := mail.New(cfg.SMTPURL, cfg.SMTPFrom, logger)
	if err != nil {
		a.Close()
		return nil, err
	}
	if cfg.SMTPURL != "" && cfg.PublicURL == "" {
		logger.Warn("LINLI_PUBLIC_URL is not set: 忘记密码 links in e-mail name the address each request arrived at, not a domain name; set it to the console's address, e.g. https://wuye.example.com")
	}
	a.recovery = recovery.NewService(db, a.auth, sms, mailer, cfg.PublicURL, logger)
	a.owners = ownerapp.NewService(db, box, sms, logger,
		ownerapp.WithDoors(devices, cfg.DoorOpenTimeout), ownerapp.WithSnapshots(a.records))
	a.callLog = call.NewLog(a.directory, a.records, pushes)
	applications := application.NewService(db, box, files, residents, pictures, cfg.PublicURL, logger)
	a.fileOwners = []blob.Owner{a.records.StoredFiles(), residents.StoredFiles(), ads.StoredFiles(),
		applications.StoredFiles(), images.StoredFiles()}
	a.apply = applications
	if err := a.startSIP(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.startMedia(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.startCalls(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.startCameras(box); err != nil {
		a.Close()
		return nil, err
	}
	a.audit = audit.NewService(db, logger)
	calls := a.calls
	if calls == nil {
		calls = webcall.Off()
	}
	a.handler, a.api = Handler(Server{Logger: logger, Auth: a.auth, Audit: a.audit, DeviceTokens: devices.Resolve,
		ResidentTokens: a.owners.Resolve, Calls: calls, Metrics: a.metrics, Operations: a.operations()},
		a.audit, a.auth, accounts, staff.NewService(db, accounts, logger), community.NewService(db),
		housing.NewService(db, devices), residents, roster.NewService(db, residents, logger, roster.WithImportTimer(a.metrics.ImportTook)),
		applications, card.NewService(db, a.whitelist), notices, ads, images, devices, a.whitelist, a.records, a.owners, passes,
		household.NewService(db, residents, pushes, logger), calls, a.cameras, a.recovery)
	if err := a.startMetrics(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.startProfiles(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// sources are the features whose entries make up whitelists, in the order
// a delta lists their changes.
func sources(db *store.Store) []whitelist.Source {
	return []whitelist.Source{pass.NewSource(db), ad.NewSource(db), notice.NewSource(db), card.NewSource(db)}
}

// openBroker makes the MQTT broker devices keep a session with: the
// embedded one, listening on LINLI_MQTT_ADDR, or the connection to the
// external one at LINLI_MQTT_URL. It returns nil when devices have none;
// serveBroker lets devices in.
func (a *App) openBroker() (device.Broker, error) {
	if a.cfg.MQTTURL != "" {
		e, err := mqtt.NewExternal(a.cfg.MQTTURL, a.logger)
		if err != nil {
			return nil, err
		}
		a.external = e
		return e, nil
	}
	addr := a.cfg.MQTTAddr
	if addr == "" || addr == "off" {
		a.logger.Info("embedded MQTT broker disabled")
		return nil, nil
	}
	b, err := mqtt.Listen(addr, a.logger)
	if err != nil {
		if addr == ":1883" && errors.Is(err, syscall.EADDRINUSE) {
			// Another broker (often a system Mosquitto) holds the standard
			// port; keep the console running and say how to fix it.
			a.logger.Warn("MQTT port 1883 is in use: devices cannot connect until LINLI_MQTT_ADDR names a free address (for example :1884)", "err", err)
			return nil, nil
		}
		return nil, err
	}
	a.broker = b
	return b, nil
}

// serveBroker connects the broker of openBroker to devices: logins,
// presence and the answers devices send.
func (a *App) serveBroker(ctx context.Context, devices *device.Service) error {
	if a.external != nil {
		// Devices stay connected to the external broker while this instance
		// restarts, so their presence is kept as it was.
		if err := a.external.Connect(ctx, countedDevices{devices, a.metrics}, devices); err != nil {
			a.external = nil // nothing to close
			return err
		}
		return nil
	}
	if a.broker == nil {
		return nil
	}
	if err := devices.ResetPresence(ctx); err != nil {
		return err
	}
	if err := a.broker.Serve(countedDevices{devices, a.metrics}); err != nil {
		return err
	}
	a.logger.Info("MQTT broker listening", "mqtt", a.broker.Addr().String())
	return nil
}

// startSIP starts the SIP server for door calls unless LINLI_SIP_ADDR is
// empty or off. When the standard port is taken the console keeps running
// without calls and the log says how to fix it.
func (a *App) startSIP(ctx context.Context) error {
	addr := a.cfg.SIPAddr
	if addr == "" || addr == "off" {
		a.logger.Info("SIP server disabled")
		return nil
	}
	srv, err := sip.Start(ctx, sip.Config{Addr: addr, Advertise: a.cfg.SIPAdvertise}, a.db, a.directory, countedCalls{a.callLog, a.metrics}, a.logger.With("part", "sip"))
	if err != nil {
		if addr == ":5060" && errors.Is(err, syscall.EADDRINUSE) {
			a.logger.Warn("SIP port 5060 is in use: door calls cannot be made until LINLI_SIP_ADDR names a free address (for example :5070)", "err", err)
			return nil
		}
		return err
	}
	a.sip = srv
	a.logger.Info("SIP server listening", "sip", srv.Addr())
	if a.cfg.SIPAdvertise == "" && strings.HasPrefix(srv.Addr(), "127.0.0.1:") && !strings.HasPrefix(addr, "127.") {
		a.logger.Warn("SIP: devices on other hosts need LINLI_SIP_ADVERTISE (the host:port they reach this server at); calls are routed through " + srv.Addr())
	}
	return nil
}

// SIPAddr returns the SIP server's host:port, or "" when it is off.
func (a *App) SIPAddr() string {
	if a.sip == nil {
		return ""
	}
	return a.sip.Addr()
}

// SIPRegistrations returns the live registrations of the SIP usernames,
// by username; none when the SIP server is off.
func (a *App) SIPRegistrations(ctx context.Context, usernames []string) (map[string][]sip.Registration, error) {
	if a.sip == nil {
		return map[string][]sip.Registration{}, nil
	}
	return a.sip.Registrations(ctx, usernames)
}

// sipPresence is SIPRegistrations for 设备列表: where each device is
// reached; nil when the SIP server is off.
func (a *App) sipPresence(ctx context.Context, usernames []string) (map[string][]device.SIPContact, error) {
	if a.sip == nil {
		return nil, nil
	}
	regs, err := a.SIPRegistrations(ctx, usernames)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]device.SIPContact, len(regs))
	for name, rs := range regs {
		for _, r := range rs {
			addr := r.Received
			if addr == "" {
				addr = r.Contact
			}
			out[name] = append(out[name], device.SIPContact{Address: addr, Transport: r.Transport})
		}
	}
	return out, nil
}

// MQTTAddr returns the embedded broker's address, or nil when it is off.
func (a *App) MQTTAddr() net.Addr {
	if a.broker == nil {
		return nil
	}
	return a.broker.Addr()
}

// Feature is a part of the API: it adds its operations to an API.
type Feature interface {
	Register(api huma.API)
}

// Server is what Handler needs besides the features: the log, the gate's
// sessions and bearer tokens, 操作日志 of every change, and the browsers'
// call socket.
type Server struct {
	Logger *slog.Logger
	// Auth resolves console sessions.
	Auth *auth.Service
	// Audit writes 操作日志.
	Audit *audit.Service
	// DeviceTokens and ResidentTokens resolve the bearer tokens of devices
	// and of residents' apps.
	DeviceTokens, ResidentTokens auth.BearerResolver
	// Calls is the browsers' call socket (/webcall/ws).
	Calls http.Handler
	// Metrics counts API requests; nil counts nothing.
	Metrics *metrics.Metrics
	// Operations answers /healthz, /readyz and /metrics; nil leaves them
	// out.
	Operations http.Handler
}

// Handler builds the HTTP handler: the operations of features, the OpenAPI
// document, the H5 pages and the console.
func Handler(s Server, features ...Feature) (http.Handler, huma.API) {
	mux := http.NewServeMux()
	api := httpapi.NewAPI(mux, Version, s.Logger)
	api.UseMiddleware(s.Metrics.HTTP)
	api.UseMiddleware(audit.Middleware(s.Audit))
	api.UseMiddleware(auth.Gate(api, s.DeviceTokens, s.ResidentTokens))
	for _, f := range features {
		f.Register(api)
	}
	mux.Handle("GET /webcall/ws", s.Calls)
	if s.Operations != nil {
		mux.Handle("GET /healthz", s.Operations)
		mux.Handle("GET /readyz", s.Operations)
		mux.Handle("GET /metrics", s.Operations)
	}
	mux.Handle("GET /h5/", h5.Handler())
	mux.Handle("/api/", apiNotFound())
	mux.Handle("/app/v1/", apiNotFound())
	mux.Handle("/device/v1/", apiNotFound())
	mux.Handle("/", httpapi.SPA(web.Dist()))

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteProblem(w, http.StatusForbidden, "跨站请求被拒绝：请从管理后台页面操作")
	}))
	// Large JSON answers (whitelist snapshots above all) compress tenfold.
	// Device requests queue first, before any of their work is done.
	// Headers is outermost: the queue's and the CSRF check's refusals carry
	// them too.
	return httpapi.Headers(httpapi.DeviceQueue(csrf.Handler(s.Auth.Middleware(httpapi.Gzip(mux))))), api
}

// OpenAPI returns the API document, for generating the console's types.
func OpenAPI() ([]byte, error) {
	var doc []byte
	err := withOfflineAPI(func(api huma.API) error {
		var err error
		doc, err = api.OpenAPI().MarshalJSON()
		return err
	})
	return doc, err
}

// withOfflineAPI runs f on the API of a whole server built on a throwaway
// SQLite database, with neither broker nor SIP server, and removes it
// afterwards.
func withOfflineAPI(f func(api huma.API) error) error {
	dir, err := os.MkdirTemp("", "linli-api-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	a, err := New(context.Background(), config.Config{DataDir: dir, AdminAccount: "admin", MQTTAddr: "off", SIPAddr: "off"},
		slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	return f(a.api)
}

// apiNotFound answers a path under an API prefix that no operation has
// (/api/, /app/v1/, /device/v1/) with a problem document, not the console's
// page: a client of an API must never be handed HTML.
func apiNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteProblem(w, http.StatusNotFound, "接口不存在："+r.Method+" "+r.URL.Path)
	})
}

// Listen binds the HTTP address; with a port of 0 the log says which port.
func (a *App) Listen() (net.Addr, error) {
	l, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", a.cfg.HTTPAddr, err)
	}
	a.listener = l
	return l.Addr(), nil
}

// Serve serves HTTP until ctx is cancelled, then shuts down gracefully.
func (a *App) Serve(ctx context.Context) error {
	if a.listener == nil {
		if _, err := a.Listen(); err != nil {
			return err
		}
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	a.logger.Info("linli listening", "http", "http://"+a.listener.Addr().String(), "version", Version, "db", a.db.Dialect)

	janitorDone := make(chan struct{})
	jctx, stopJanitor := context.WithCancel(ctx)
	go func() {
		defer close(janitorDone)
		a.janitor(jctx)
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.listener) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(shutCtx)
		a.logger.Info("linli stopped")
	}
	stopJanitor()
	<-janitorDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// janitor runs the periodic jobs: every minute it takes expired cards and
// faces off whitelists; every hour it purges expired sessions, old login
// failures, application attempts, whitelist changes older than 30 days, and
// call and unlock records (with their snapshots) older than the retention
// period, and 操作日志 entries older than theirs, then refreshes the
// database's statistics; ten minutes after start and then daily it sweeps orphan files.
func (a *App) janitor(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	sys := actor.AsSystem(ctx)
	for n := 0; ; n++ {
		if _, err := a.whitelist.ExpireDue(sys); err != nil && ctx.Err() == nil {
			a.logger.Error("expire cards", "err", err)
		}
		if n%60 == 0 {
			if err := a.auth.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
				a.logger.Error("purge sessions", "err", err)
			}
			if err := a.recovery.Purge(ctx); err != nil && ctx.Err() == nil {
				a.logger.Error("purge recovery codes", "err", err)
			}
			if err := a.owners.Purge(ctx); err != nil && ctx.Err() == nil {
				a.logger.Error("purge app sessions", "err", err)
			}
			if err := a.devices.PurgeCommands(ctx); err != nil && ctx.Err() == nil {
				a.logger.Error("purge door commands", "err", err)
			}
			if err := a.apply.PurgeAttempts(sys); err != nil && ctx.Err() == nil {
				a.logger.Error("purge application attempts", "err", err)
			}
			if err := a.whitelist.PurgeChanges(sys, 30*24*time.Hour); err != nil && ctx.Err() == nil {
				a.logger.Error("purge whitelist changes", "err", err)
			}
			if n, err := a.records.CloseStaleCalls(sys); err != nil && ctx.Err() == nil {
				a.logger.Error("close stale calls", "err", err)
			} else if n > 0 {
				a.logger.Warn("closed calls that never ended", "calls", n)
			}
			if n, err := a.PurgeAudit(sys); err != nil && ctx.Err() == nil {
				a.logger.Error("purge audit log", "err", err)
			} else if n > 0 {
				a.logger.Info("purged old audit entries", "entries", n, "days", a.cfg.AuditRetentionDays)
			}
			if n, err := a.records.Purge(sys, time.Duration(a.cfg.RetentionDays)*24*time.Hour); err != nil && ctx.Err() == nil {
				a.logger.Error("purge records", "err", err)
			} else if n > 0 {
				a.logger.Info("purged old records", "records", n, "days", a.cfg.RetentionDays)
			}
			a.db.Optimize(ctx)
		}
		if n%(24*60) == 10 {
			if n, err := a.SweepFiles(ctx, time.Now().Add(-blob.OrphanGrace)); err != nil && ctx.Err() == nil {
				a.logger.Error("sweep orphan files", "removed", n, "err", err)
			} else if n > 0 {
				a.logger.Info("swept orphan files", "removed", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ExpireNow runs the janitor's minute job once: the cards, faces and
// notices whose time ended, and the residents whose access ended, leave the
// device whitelists. It says how many entries and residents it handled.
func (a *App) ExpireNow(ctx context.Context) (int, error) {
	return a.whitelist.ExpireDue(actor.AsSystem(ctx))
}

// SweepFiles removes the stored files that no row refers to and that were
// last written before before (what a crash between writing a file and its
// row leaves), and the half-written files of interrupted writes, and says
// how many files it removed.
func (a *App) SweepFiles(ctx context.Context, before time.Time) (int, error) {
	tmp, terr := a.files.RemoveTemporary(ctx, before)
	n, err := blob.Sweep(ctx, a.files, a.fileOwners, before, blob.SweepBatch)
	err = errors.Join(terr, err)
	a.metrics.Swept(tmp+n, err)
	return tmp + n, err
}

// DeviceMessages is how many device status messages this instance handled
// from the external broker (0 on the embedded one).
func (a *App) DeviceMessages() int64 {
	if a.external == nil {
		return 0
	}
	return a.external.Handled()
}

// Handler returns the HTTP handler of a.
func (a *App) Handler() http.Handler { return a.handler }

// Directory returns what the SIP server asks about accounts and numbers.
func (a *App) Directory() *call.Directory { return a.directory }

// CallLog returns where the SIP server reports its calls.
func (a *App) CallLog() *call.Log { return a.callLog }

// Store returns the database of a.
func (a *App) Store() *store.Store { return a.db }

// Close stops the broker and closes the database.
func (a *App) Close() error {
	if a.stopMetrics != nil {
		a.stopMetrics()
	}
	if a.stopProfiles != nil {
		a.stopProfiles()
	}
	if a.calls != nil {
		a.calls.Close()
	}
	if a.cameras != nil {
		a.cameras.Close()
	}
	if a.relay != nil {
		a.relay.Close()
	}
	if a.sip != nil {
		_ = a.sip.Close()
	}
	if a.broker != nil {
		_ = a.broker.Close()
	}
	if a.external != nil {
		_ = a.external.Close()
	}
	if a.recovery != nil {
		a.recovery.Close()
	}
	return a.db.Close()
}

// MediaStats counts what the media relay holds (zero without SIP).
func (a *App) MediaStats() media.RelayStats {
	if a.relay == nil {
		return media.RelayStats{}
	}
	return a.relay.Stats()
}
