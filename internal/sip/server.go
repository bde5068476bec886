package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"linli/internal/store"
)

// Config is how the SIP server listens and behaves. Zero values take the
// defaults noted on each field.
type Config struct {
	Addr       string // UDP and TCP listen address, default ":5060"; port 0 picks a free one
	Realm      string // digest realm, default "linli"
	InstanceID string // names this instance in registrations, default host name + listen port
	// Advertise is the host:port other instances and Record-Route use to
	// reach this one; default: the listen address, 127.0.0.1 when it binds
	// every interface.
	Advertise string

	MinExpires     time.Duration // shortest registration accepted, default 60 s (423 below it)
	MaxExpires     time.Duration // longest registration granted, default 3600 s
	NonceTTL       time.Duration // how long a digest nonce is fresh, default 5 min (then stale=true)
	MaxCallTime    time.Duration // an answered call without BYE is ended after this, default 2 h
	BranchTimeout  time.Duration // how long a branch may stay silent before it counts as unreachable, default 32 s
	FailuresWindow time.Duration // window of the wrong-password throttle, default 10 min
	UserFailures   int           // wrong passwords per username from one address in the window, default 10
	AddrFailures   int           // wrong passwords per source address in the window, default 30
	// FailureFeedInterval is how often the other instances' wrong
	// passwords are read, default 1 s.
	FailureFeedInterval time.Duration
}

func (c *Config) defaults() {
	if c.Addr == "" {
		c.Addr = ":5060"
	}
	if c.Realm == "" {
		c.Realm = "linli"
	}
	if c.MinExpires == 0 {
		c.MinExpires = 60 * time.Second
	}
	if c.MaxExpires == 0 {
		c.MaxExpires = time.Hour
	}
	if c.NonceTTL == 0 {
		c.NonceTTL = 5 * time.Minute
	}
	if c.MaxCallTime == 0 {
		c.MaxCallTime = 2 * time.Hour
	}
	if c.BranchTimeout == 0 {
		c.BranchTimeout = 32 * time.Second
	}
	if c.FailuresWindow == 0 {
		c.FailuresWindow = 10 * time.Minute
	}
	if c.FailureFeedInterval == 0 {
		c.FailureFeedInterval = time.Second
	}
	if c.UserFailures == 0 {
		c.UserFailures = 10
	}
	if c.AddrFailures == 0 {
		c.AddrFailures = 30
	}
}

func init() {
	// Offers with many codecs (a door station listing five video codecs)
	// make INVITEs above 1300 bytes. RFC 3261 §18.1.1 would move them to
	// TCP, but devices registered over UDP listen on UDP only; like other
	// proxies, the server sends them over UDP and lets IP fragment them.
	// The SIP stack keeps this limit in a package variable, set here once
	// before any transport runs.
	sip.UDPMTUSize = 65535
}

// allowed lists the methods the server handles, for Allow headers.
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REGISTER, MESSAGE, NOTIFY"

// Server is a running SIP server: registrar and forking proxy.
type Server struct {
	cfg    Config
	db     *store.Store
	dir    Directory
	calls  CallLog
	logger *slog.Logger

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	udp    net.PacketConn
	tcp    net.Listener
	host   string // advertised host
	port   int    // listen (and advertised) port

	auth      *authenticator
	failures  *failureFeed
	regWrites chan *regOp
	stmts     *regStatements
	dialog    *dialogs

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex // guards closing against wg.Add
	closing bool
	now     func() time.Time
}

// Start listens on cfg.Addr (UDP and TCP on the same port) and serves until
// ctx ends or Close is called. An address already in use is returned as an
// error wrapping the listen error, so errors.Is(err, syscall.EADDRINUSE)
// lets the caller warn and go on without SIP, as it does for MQTT.
//
// Wiring in internal/app: unless config.SIPAddr is "off", call
// Start(ctx, Config{Addr: cfg.SIPAddr}, db, directory, callLog, logger)
// with the Directory and CallLog of the device and record domains, and
// Close it at shutdown; Server.Registrations feeds 设备列表's SIP state.
func Start(ctx context.Context, cfg Config, db *store.Store, dir Directory, calls CallLog, logger *slog.Logger) (*Server, error) {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "sip")
	udp, tcp, err := listen(cfg.Addr)
	if err != nil {
		return nil, err
	}
	port := udp.LocalAddr().(*net.UDPAddr).Port
	host, advPort := advertised(cfg.Advertise, udp.LocalAddr().(*net.UDPAddr))
	if cfg.InstanceID == "" {
		name, _ := os.Hostname()
		cfg.InstanceID = name + ":" + strconv.Itoa(port)
	}
	key, err := sharedKey(ctx, db)
	if err != nil {
		udp.Close()
		tcp.Close()
		return nil, err
	}
	stmts, err := prepareRegStatements(ctx, db.DB)
	if err != nil {
		udp.Close()
		tcp.Close()
		return nil, err
	}
	// sipgo logs every dropped datagram at its own levels; only its warnings
	// and errors reach ours.
	sipLog := slog.New(levelFloor{logger.Handler(), slog.LevelWarn})
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("Linli"),
		sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
	)
	if err != nil {
		udp.Close()
		tcp.Close()
		stmts.close()
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		stmts.close()
		return nil, err
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(advPort), sipgo.WithClientLogger(sipLog))
	if err != nil {
		ua.Close()
		stmts.close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Server{
		cfg: cfg, db: db, dir: dir, calls: calls, logger: logger,
		ua: ua, srv: srv, client: client, udp: udp, tcp: tcp, host: host, port: advPort,
		ctx: sctx, cancel: cancel, now: time.Now,
	}
	s.auth = newAuthenticator(cfg, key, s.now)
	s.failures = newFailureFeed(db, s.auth.limit, s.now)
	if err := s.failures.load(ctx); err != nil {
		cancel()
		ua.Close()
		stmts.close()
		return nil, err
	}
	s.regWrites = make(chan *regOp, 1024)
	s.stmts = stmts
	s.dialog = newDialogs()
	s.routes()
	s.wg.Add(3)
	go func() { defer s.wg.Done(); _ = srv.ServeUDP(udp) }()
	go func() { defer s.wg.Done(); _ = srv.ServeTCP(tcp) }()
	go func() { defer s.wg.Done(); s.sweep() }()
	s.goOwned(s.writeRegistrations)
	s.goOwned(func() {
		s.failures.run(s.ctx, cfg.FailureFeedInterval, func(err error) { s.logger.Warn("reading other instances' SIP login failures", "err", err) })
	})
	if ctx.Done() != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			select {
			case <-ctx.Done():
				s.cancel()
			case <-sctx.Done():
			}
		}()
	}
	logger.Info("SIP server listening", "addr", s.Addr(), "udp", udp.LocalAddr().String(), "tcp", tcp.Addr().String(), "instance", cfg.InstanceID)
	return s, nil
}

// listen opens UDP and TCP on one port; with port 0 it retries until both
// halves get the same free port.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	for range 20 {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("sip: listen udp %s: %w", addr, err)
		}
		host, _, _ := net.SplitHostPort(addr)
		port := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			growBuffers(udp)
			return udp, tcp, nil
		}
		udp.Close()
		if _, p, _ := net.SplitHostPort(addr); p != "0" {
			return nil, nil, fmt.Errorf("sip: listen tcp %s: %w", addr, err)
		}
	}
	return nil, nil, errors.New("sip: no port free on both UDP and TCP")
}

// udpBuffer is the socket buffer the server asks for. Every device's
// REGISTER refresh and every call's retransmissions land on one socket; with
// the kernel's default (about 200 KiB) a burst of thousands a second
// overflows it while the server is busy, and each dropped request costs its
// sender a 500 ms retransmission. The kernel caps the size at
// net.core.rmem_max / wmem_max.
const udpBuffer = 8 << 20

func growBuffers(c net.PacketConn) {
	if u, ok := c.(*net.UDPConn); ok {
		_ = u.SetReadBuffer(udpBuffer)
		_ = u.SetWriteBuffer(udpBuffer)
	}
}

func advertised(adv string, local *net.UDPAddr) (string, int) {
	if adv != "" {
		if h, p, err := net.SplitHostPort(adv); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				return h, n
			}
		}
	}
	if local.IP == nil || local.IP.IsUnspecified() {
		return "127.0.0.1", local.Port
	}
	return local.IP.String(), local.Port
}

// Addr is the advertised host:port of the server (the listen port, on
// 127.0.0.1 when it listens on every interface).
func (s *Server) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Close stops the server: listeners, transactions, timers and the sweeper.
// Calls in progress are ended without signalling.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel()
	s.udp.Close()
	s.tcp.Close()
	s.dialog.closeAll()
	err := s.ua.Close()
	s.wg.Wait()
	s.stmts.close()
	return err
}

// goOwned runs fn as a goroutine owned by the server: Close waits for it.
// Once the server is closing nothing new starts.
func (s *Server) goOwned(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

func (s *Server) routes() {
	s.srv.OnRegister(s.onRegister)
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnCancel(s.onCancel)
	s.srv.OnOptions(s.onOptions)
	for _, m := range []sip.RequestMethod{sip.BYE, sip.INFO, sip.UPDATE, sip.PRACK, sip.MESSAGE, sip.NOTIFY} {
		s.srv.OnRequest(m, s.onInDialog)
	}
	s.srv.OnNoRoute(s.onUnknown)
}

// sweep removes expired registrations once a minute and forgets old nonces.
func (s *Server) sweep() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			if err := s.sweepRegistrations(s.ctx); err != nil && s.ctx.Err() == nil {
				s.logger.Warn("sweeping expired registrations", "err", err)
			}
			s.auth.sweep()
		}
	}
}

// respond answers req on tx; a failed write is only logged (the peer
// retransmits or gives up).
func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		s.logger.Debug("responding", "code", code, "method", req.Method, "err", err)
	}
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onInDialog(req, tx)
		return
	}
	// A keep-alive or a capability query addressed to us.
	s.respond(tx, req, 200, "OK", sip.NewHeader("Allow", allowed), sip.NewHeader("Accept", "application/sdp"))
}

// onUnknown answers methods the server does not handle: 405 for SIP
// methods it knows but does not serve, 501 for unknown ones (RFC 3261
// §21.4.6, §21.5.2), both with Allow.
func (s *Server) onUnknown(req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case sip.SUBSCRIBE, sip.PUBLISH, sip.REFER:
		s.respond(tx, req, 405, "Method Not Allowed", sip.NewHeader("Allow", allowed))
	default:
		s.respond(tx, req, 501, "Not Implemented", sip.NewHeader("Allow", allowed))
	}
}

// levelFloor drops records below min.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(as), h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(name), h.min}
}
