// Package webcall lets browser pages take part in door calls: the console's
// 门口呼叫 page (property staff, reached by dialling 管理中心 9900) and the
// residents' H5 (one of the resident's app contacts). A page keeps one
// WebSocket open (docs/webcall.md); the package registers it with the SIP
// server as a contact of an in-process SIP gateway, answers the door
// station's INVITE on the page's behalf, places 监视 calls in its name, and
// hands the media to internal/media, which relays it between the device's
// RTP and the browser's WebRTC.
package webcall

import (
	"context"
	"net/http"

	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"linli/internal/errs"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"linli/internal/call"
	"linli/internal/media"
	"linli/internal/secret"
	"linli/internal/sip"
	"linli/internal/store"
)

// sipCallerHeader names the account a 监视 INVITE is placed for.
const sipCallerHeader = sip.CallerHeader

// Config tunes the service; zero values take the defaults noted.
type Config struct {
	TicketTTL  time.Duration // how long a socket ticket is good for, default 30 s
	ContactTTL time.Duration // a page's registration lifetime, refreshed at a third of it, default 90 s
	PingEvery  time.Duration // WebSocket ping interval, default 5 s
	Dead       time.Duration // a page silent this long is dropped, default 10 s
	WatchTime  time.Duration // a 监视 session's length, and what 延长 adds, default 60 s
	Recheck    time.Duration // how often a page's right to its calls is checked again, default 10 s
}

func (c *Config) defaults() {
	if c.TicketTTL == 0 {
		c.TicketTTL = 30 * time.Second
	}
	if c.ContactTTL == 0 {
		c.ContactTTL = 90 * time.Second
	}
	if c.PingEvery == 0 {
		c.PingEvery = 5 * time.Second
	}
	if c.Dead == 0 {
		c.Dead = 10 * time.Second
	}
	if c.WatchTime == 0 {
		c.WatchTime = 60 * time.Second
	}
	if c.Recheck == 0 {
		c.Recheck = 10 * time.Second
	}
}

// Service is the browser side of door calls on one instance.
type Service struct {
	cfg    Config
	db     *store.Store
	box    *secret.Box
	dir    *call.Directory
	sip    *sip.Server
	relay  *media.Relay
	appSIP AppSIP
	logger *slog.Logger
	gw     *gateway

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	nextID  int
	pages   map[int]*page
	calls   map[string]*incoming // by SIP Call-ID
	watches map[int]*watch       // by device id
	spent   map[string]time.Time // ticket nonces used, until they expire
}

// AppSIP returns the SIP username of the app session behind a bearer
// token, creating its SIP account when it has none (ownerapp's SIP); its
// errors are the API's.
type AppSIP func(ctx context.Context, authorization string) (username string, err error)

// New starts the service's SIP gateway on loopback. srv is the instance's
// SIP server; relay carries the media.
func New(cfg Config, db *store.Store, box *secret.Box, dir *call.Directory, srv *sip.Server, relay *media.Relay, appSIP AppSIP, logger *slog.Logger) (*Service, error) {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{cfg: cfg, db: db, box: box, dir: dir, sip: srv, relay: relay, appSIP: appSIP,
		logger: logger.With("component", "webcall"), ctx: ctx, cancel: cancel,
		pages: map[int]*page{}, calls: map[string]*incoming{}, watches: map[int]*watch{}, spent: map[string]time.Time{}}
	gw, err := startGateway(s, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		cancel()
		return nil, err
	}
	s.gw = gw
	return s, nil
}

// Close drops every page (ending their calls) and stops the gateway.
func (s *Service) Close() {
	s.mu.Lock()
	pages := make([]*page, 0, len(s.pages))
	for _, p := range s.pages {
		pages = append(pages, p)
	}
	s.mu.Unlock()
	for _, p := range pages {
		p.close("服务器关闭")
	}
	s.cancel()
	s.wg.Wait()
	s.gw.close()
}

// Stats counts what the service holds, for tests and metrics.
type Stats struct {
	Pages, Calls, Watches int
}

func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Pages: len(s.pages), Calls: len(s.calls), Watches: len(s.watches)}
}

func (s *Service) page(id int) *page {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pages[id]
}

func (s *Service) newID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	return s.nextID
}

func (s *Service) goOwned(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// ticket is what a socket ticket seals: the SIP account the page will be.
type ticket struct {
	Username string `json:"u"`
	Expires  int64  `json:"e"`
	Nonce    string `json:"n"`
}

// issue seals a ticket for username.
func (s *Service) issue(username string) (string, time.Duration) {
	n := make([]byte, 12)
	_, _ = rand.Read(n)
	t := ticket{Username: username, Expires: time.Now().Add(s.cfg.TicketTTL).Unix(), Nonce: base64.RawURLEncoding.EncodeToString(n)}
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(s.box.Seal(string(b))), s.cfg.TicketTTL
}

var errTicket = errors.New("连接凭证无效或已过期，请刷新页面")

// redeem opens a ticket once.
func (s *Service) redeem(v string) (ticket, error) {
	var t ticket
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(v) > 1024 {
		return t, errTicket
	}
	plain, err := s.box.Open(raw)
	if err != nil || json.Unmarshal([]byte(plain), &t) != nil || t.Username == "" {
		return t, errTicket
	}
	now := time.Now()
	if now.Unix() > t.Expires {
		return t, errTicket
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, exp := range s.spent {
		if now.After(exp) {
			delete(s.spent, n)
		}
	}
	if _, used := s.spent[t.Nonce]; used {
		return t, errTicket
	}
	s.spent[t.Nonce] = time.Unix(t.Expires+1, 0)
	return t, nil
}

// Off is the service of a server without SIP: its operations answer that
// calls in the browser are not available.
func Off() *Service { return &Service{} }

var errOff = errs.New(errs.Unavailable, "本服务器未启用 SIP 呼叫，不能在网页接听门口呼叫")

// ServeHTTP of an Off service refuses every socket.
func (s *Service) off(w http.ResponseWriter) bool {
	if s.sip != nil {
		return false
	}
	http.Error(w, errOff.Message, http.StatusServiceUnavailable)
	return true
}
