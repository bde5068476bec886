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
	"path/filepath"
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
	files      *blob.Dir
	fileOwners []blob.Owner
	listener   net.Listener
	// cameras is 监控设备; its live sessions end on Close.
	cameras *camera.Service
	// recovery is 忘记密码 and 替换手机/替换邮箱; its deliveries end on Close.
	recovery *recovery.Service
	// audit is 操作日志; the janitor purges it.
	audit *audit.Service
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
	a.auth = auth.NewService(db, box, logger)
	files, err := blob.NewDir(filepath.Join(cfg.DataDir, "files"))
	if err != nil {
		db.Close()
		return nil, err
	}
	// One budget for decoding pictures, whichever path they come by.
	pictures := imaging.NewGate(imaging.DefaultBudget, imaging.DefaultDecodes, imaging.DefaultWait)
	residents := resident.NewService(db, box, files, pictures, logger)
	a.whitelist = whitelist.NewService(db, logger, sources(db))
	residents.OnDelete(a.whitelist.ResidentDeleted)
	residents.OnChange(a.whitelist.ResidentChanged)
	notices := notice.NewService(db, a.whitelist)
	ads := ad.NewService(db, a.whitelist, files, pictures)
	devices := device.NewService(db, box, logger)
	a.devices = devices
	a.records = record.NewService(db, files, logger)
	a.directory = call.NewDirectory(db, box, logger)
	sms := ownerapp.LogSender{Logger: logger}
	mailer, err := mail.New(cfg.SMTPURL, cfg.SMTPFrom, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.recovery = recovery.NewService(db, a.auth, sms, mailer, logger)
	a.owners = ownerapp.NewService(db, box, sms, logger,
		ownerapp.WithDoors(devices, cfg.DoorOpenTimeout), ownerapp.WithSnapshots(a.records))
	a.callLog = call.NewLog(a.directory, a.records, a.owners)
	notices.OnNotice(a.owners.NoticeSent)
	applications := application.NewService(db, box, files, residents, pictures, logger)
	images := firmware.NewService(db, files, logger)
	a.files = files
	a.fileOwners = []blob.Owner{a.records.StoredFiles(), residents.StoredFiles(), ads.StoredFiles(),
		applications.StoredFiles(), images.StoredFiles()}
	a.apply = applications
	if err := a.startBroker(ctx, devices); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.startSIP(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if a.sip != nil {
		devices.SetSIPPresence(a.sipPresence)
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
	a.handler, a.api = Handler(Services{
		DB: db, Logger: logger, Auth: a.auth, Accounts: accounts, Residents: residents,
		Applications: applications, PublicURL: cfg.PublicURL,
		Whitelist: a.whitelist, Cards: card.NewService(db, a.whitelist), Notices: notices, Ads: ads,
		Devices: devices, Firmware: images,
		Records: a.records, Owners: a.owners, Passes: pass.NewService(db, a.whitelist, logger), Calls: a.calls,
		Cameras: a.cameras, Recovery: a.recovery, Audit: a.audit,
	})
	return a, nil
}

// sources are the features whose entries make up whitelists, in the order
// a delta lists their changes.
func sources(db *store.Store) []whitelist.Source {
	return []whitelist.Source{pass.NewSource(db), ad.NewSource(db), notice.NewSource(db), card.NewSource(db)}
}

// startBroker starts the embedded MQTT broker, or connects to the external
// one, and connects it to the device service: logins, presence, and the
// nudges sent after whitelist changes.
func (a *App) startBroker(ctx context.Context, devices *device.Service) error {
	if a.cfg.MQTTURL != "" {
		// Devices stay connected to the external broker while this instance
		// restarts, so their presence is kept as it was.
		e, err := mqtt.Connect(ctx, a.cfg.MQTTURL, devices, a.logger)
		if err != nil {
			return err
		}
		a.external = e
		devices.SetPublisher(e.Publish)
		devices.SetBrokerAccounts(e)
		a.whitelist.OnChange(devices.Nudge)
		return nil
	}
	addr := a.cfg.MQTTAddr
	if addr == "" || addr == "off" {
		a.logger.Info("embedded MQTT broker disabled")
		return nil
	}
	if err := devices.ResetPresence(ctx); err != nil {
		return err
	}
	b, err := mqtt.Start(addr, devices, a.logger)
	if err != nil {
		if addr == ":1883" && errors.Is(err, syscall.EADDRINUSE) {
			// Another broker (often a system Mosquitto) holds the standard
			// port; keep the console running and say how to fix it.
			a.logger.Warn("MQTT port 1883 is in use: devices cannot connect until LINLI_MQTT_ADDR names a free address (for example :1884)", "err", err)
			return nil
		}
		return err
	}
	a.broker = b
	devices.SetPublisher(b.Publish)
	devices.SetBrokerAccounts(b)
	a.whitelist.OnChange(devices.Nudge)
	a.logger.Info("MQTT broker listening", "mqtt", b.Addr().String())
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
	srv, err := sip.Start(ctx, sip.Config{Addr: addr, Advertise: a.cfg.SIPAdvertise}, a.db, a.directory, a.callLog, a.logger.With("part", "sip"))
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
// reached.
func (a *App) sipPresence(ctx context.Context, usernames []string) (map[string][]device.SIPContact, error) {
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

// Services are what Handler serves.
type Services struct {
	DB        *store.Store
	Logger    *slog.Logger
	Auth      *auth.Service
	Accounts  *account.Service
	Residents *resident.Service
	// Applications handles 业主申请; PublicURL is the base of its QR links.
	Applications *application.Service
	PublicURL    string
	// Whitelist answers devices' syncs; Cards, Notices and Ads feed it.
	Whitelist *whitelist.Service
	Cards     *card.Service
	Notices   *notice.Service
	Ads       *ad.Service
	// Devices binds and serves devices.
	Devices *device.Service
	// Firmware keeps the operator's firmware images.
	Firmware *firmware.Service
	// Records keeps the calls and unlocks devices report.
	Records *record.Service
	// Owners serves the residents' app.
	Owners *ownerapp.Service
	// Passes keeps residents' visitor passes (访客通行).
	Passes *pass.Service
	// Calls brings browser pages into door calls (门口呼叫, the H5); nil
	// when the SIP server is off.
	Calls *webcall.Service
	// Cameras keeps the communities' IP cameras (监控设备).
	Cameras *camera.Service
	// Recovery is 忘记密码 and 替换手机/替换邮箱 of console accounts.
	Recovery *recovery.Service
	// Audit writes and lists 操作日志.
	Audit *audit.Service
}

// Handler builds the HTTP handler: API, OpenAPI document and console.
func Handler(s Services) (http.Handler, huma.API) {
	mux := http.NewServeMux()
	api := httpapi.NewAPI(mux, Version, s.Logger)
	api.UseMiddleware(audit.Middleware(s.Audit))
	api.UseMiddleware(auth.Gate(api, s.Devices.Resolve, s.Owners.Resolve))
	s.Audit.Register(api)
	s.Auth.Register(api)
	s.Accounts.Register(api)
	staff.NewService(s.DB, s.Accounts, s.Logger).Register(api)
	community.NewService(s.DB).Register(api)
	housing.NewService(s.DB).Register(api)
	s.Residents.Register(api)
	roster.NewService(s.DB, s.Logger).Register(api, s.Residents)
	s.Applications.Register(api, s.PublicURL)
	s.Cards.Register(api)
	s.Notices.Register(api)
	s.Ads.Register(api, auth.DeviceOnly(), func(ctx context.Context) (whitelist.Location, error) {
		return s.Devices.Location(ctx, device.Current(ctx))
	})
	s.Firmware.Register(api)
	s.Devices.Register(api, s.Firmware)
	s.Whitelist.Register(api, s.Devices, device.Current)
	s.Records.Register(api, s.Devices.Place, s.Passes.CountUse)
	s.Owners.Register(api)
	s.Passes.Register(api)
	families := household.NewService(s.DB, s.Residents, s.Logger)
	families.OnDecided(s.Owners.InvitationDecided)
	s.Passes.OnUse(s.Owners.PassUsed)
	families.Register(api)
	families.RegisterApp(api)
	calls := s.Calls
	if calls == nil {
		calls = webcall.Off()
	}
	calls.Register(api)
	mux.Handle("GET /webcall/ws", calls)
	s.Cameras.Register(api)
	s.Recovery.Register(api, s.PublicURL)
	mux.Handle("GET /h5/", h5.Handler())
	mux.Handle("/api/", apiNotFound())
	mux.Handle("/", httpapi.SPA(web.Dist()))

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteProblem(w, http.StatusForbidden, "跨站请求被拒绝：请从管理后台页面操作")
	}))
	// Large JSON answers (whitelist snapshots above all) compress tenfold.
	return csrf.Handler(s.Auth.Middleware(httpapi.Gzip(mux))), api
}

// OpenAPI returns the API document without opening a database, for
// generating the console's types.
func OpenAPI() ([]byte, error) {
	return offlineAPI().OpenAPI().MarshalJSON()
}

// offlineAPI returns the API with every operation registered on services
// without a database.
func offlineAPI() huma.API {
	logger := slog.New(slog.DiscardHandler)
	_, api := Handler(Services{Logger: logger, Auth: auth.NewService(nil, nil, logger), Accounts: account.NewService(nil, logger),
		Residents: resident.NewService(nil, nil, nil, nil, logger), Applications: application.NewService(nil, nil, nil, nil, nil, logger),
		Whitelist: whitelist.NewService(nil, logger, nil), Cards: card.NewService(nil, nil), Notices: notice.NewService(nil, nil),
		Ads: ad.NewService(nil, nil, nil, nil), Devices: device.NewService(nil, nil, logger),
		Firmware: firmware.NewService(nil, nil, logger), Records: record.NewService(nil, nil, logger),
		Owners: ownerapp.NewService(nil, nil, nil, logger), Passes: pass.NewService(nil, nil, logger),
		Cameras: camera.NewService(nil, nil, logger), Recovery: recovery.NewService(nil, nil, nil, nil, logger), Audit: audit.NewService(nil, logger)})
	return api
}

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
// period, and 操作日志 entries older than theirs; ten minutes after start and then daily it sweeps orphan files.
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
	return tmp + n, errors.Join(terr, err)
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
