// Package ua is a small SIP user agent: it registers with digest
// authentication, places and answers G.711 calls, sends a tone over RTP,
// counts what it receives and exchanges key presses as RFC 4733 telephone
// events or SIP INFO. The simulator's devices are built on it, and tests use
// it as a door station, an indoor monitor or an app against real peers.
package ua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Answer modes of incoming calls.
const (
	AnswerAuto   = "auto"   // answer at once
	AnswerAfter  = "after"  // ring for AnswerPolicy.Delay, then answer
	AnswerReject = "reject" // refuse with AnswerPolicy.Code (486 by default)
	AnswerNever  = "never"  // ring until the caller gives up
)

// AnswerPolicy says what the agent does with an incoming call.
type AnswerPolicy struct {
	Mode  string
	Delay time.Duration // AnswerAfter
	Code  int           // AnswerReject: 486 (busy) or 603 (decline)
}

// Config describes an agent.
type Config struct {
	// Username and Password are the digest credentials (and the user part
	// of the agent's address); empty for an agent that never registers.
	Username, Password string
	DisplayName        string
	// Server is the registrar and outbound proxy, host:port; empty for
	// peer-to-peer calls only.
	Server string
	// Listen is the local address for SIP over UDP; "127.0.0.1:0" when
	// empty. Its IP is also the address announced in Contact and SDP.
	Listen string
	// Transport is how the agent sends its requests: "udp" (the default)
	// or "tcp". Over TCP it also listens on TCP (the UDP port number when
	// free), announces transport=tcp in its Contact and keeps the
	// connection it opened to the server for everything the server sends.
	Transport string
	// Expires is the registration lifetime asked for (300 s when zero).
	Expires time.Duration
	// Answer is the initial policy for incoming calls.
	Answer AnswerPolicy
	// EarlyMedia makes incoming calls answer 183 with SDP and send the
	// tone while ringing.
	EarlyMedia bool
	// Video offers (and accepts) H.264 video and sends the door camera
	// clip (internal/clip), looped, with a key frame at once when the peer
	// asks (RTCP PLI or FIR on the RTP port + 1, SIP INFO
	// picture_fast_update).
	Video bool
	// OnCall is told of every new call (both directions) before it rings;
	// OnDTMF of every key the peer presses ("rtp" or "info"). Both are
	// called from the agent's goroutines and must not block.
	OnCall func(*Call)
	OnDTMF func(c *Call, key string, via string)
	Logger *slog.Logger
}

// UA is a running agent. Close ends its calls and its registration.
type UA struct {
	cfg    Config
	logger *slog.Logger
	sip    *sipgo.UserAgent
	client *sipgo.Client
	dialog sipgo.DialogUA
	conn   *net.UDPConn
	tcp    *net.TCPListener // nil unless Transport is tcp
	ip     netip.Addr
	port   int // of the Contact: UDP, or TCP with Transport tcp
	auth   *authenticator

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	policy AnswerPolicy
	calls  map[string]*Call // by dialog: Call-ID, local tag, remote tag
	all    []*Call          // every call, oldest first
	closed bool
	reg    registration
}

// New starts an agent listening on cfg.Listen. It does not register: call
// Register.
func New(cfg Config) (*UA, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Expires == 0 {
		cfg.Expires = 300 * time.Second
	}
	if cfg.Answer.Mode == "" {
		cfg.Answer.Mode = AnswerAuto
	}
	switch cfg.Transport {
	case "":
		cfg.Transport = "udp"
	case "udp", "tcp":
	default:
		return nil, fmt.Errorf("ua: transport %q: udp or tcp", cfg.Transport)
	}
	laddr, err := net.ResolveUDPAddr("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("ua: listen address %q: %w", cfg.Listen, err)
	}
	if laddr.IP == nil || laddr.IP.IsUnspecified() {
		return nil, fmt.Errorf("ua: listen address %q needs the IP peers reach this agent at", cfg.Listen)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("ua: %w", err)
	}
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	u := &UA{cfg: cfg, logger: cfg.Logger, conn: conn, ip: local.Addr().Unmap(), port: int(local.Port()),
		auth: &authenticator{username: cfg.Username, password: cfg.Password}, policy: cfg.Answer, calls: map[string]*Call{}}
	clientOpts := []sipgo.ClientOption{sipgo.WithClientLogger(cfg.Logger), sipgo.WithClientHostname(u.ip.String()), sipgo.WithClientNAT()}
	contact := sip.Uri{Scheme: "sip", User: cfg.Username, Host: u.ip.String(), Port: u.port}
	if contact.User == "" {
		contact.User = "linli"
	}
	if cfg.Transport == "tcp" {
		if u.tcp, err = net.ListenTCP("tcp", &net.TCPAddr{IP: laddr.IP, Port: u.port}); err != nil {
			u.tcp, err = net.ListenTCP("tcp", &net.TCPAddr{IP: laddr.IP})
		}
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("ua: %w", err)
		}
		u.port = u.tcp.Addr().(*net.TCPAddr).Port
		contact.Port = u.port
		contact.UriParams = sip.NewParams()
		contact.UriParams.Add("transport", "tcp")
		clientOpts = append(clientOpts, sipgo.WithClientPort(u.port))
	} else {
		// Every request leaves from the listening socket, so that the
		// address a registrar sees is the one calls come back to (the
		// registered flow).
		clientOpts = append(clientOpts, sipgo.WithClientConnectionAddr(local.String()), sipgo.WithClientPort(u.port))
	}
	u.sip, err = sipgo.NewUA(sipgo.WithUserAgent("Linli"), sipgo.WithUserAgentHostname(u.ip.String()),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(cfg.Logger)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(cfg.Logger)))
	if err != nil {
		u.closeListeners()
		return nil, err
	}
	u.client, err = sipgo.NewClient(u.sip, clientOpts...)
	if err != nil {
		u.sip.Close()
		u.closeListeners()
		return nil, err
	}
	srv, err := sipgo.NewServer(u.sip, sipgo.WithServerLogger(cfg.Logger))
	if err != nil {
		u.sip.Close()
		u.closeListeners()
		return nil, err
	}
	u.dialog = sipgo.DialogUA{Client: u.client, ContactHDR: sip.ContactHeader{Address: contact}}
	srv.OnInvite(u.onInvite)
	srv.OnAck(u.onAck)
	srv.OnBye(u.onBye)
	srv.OnInfo(u.onInfo)
	srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", allow))
		_ = tx.Respond(res)
	})
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		_ = srv.ServeUDP(conn)
	}()
	if u.tcp != nil {
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			_ = srv.ServeTCP(u.tcp)
		}()
	}
	// Requests leave from the listening socket once the transport knows it.
	for i := 0; ; i++ {
		if c, _ := u.sip.TransportLayer().GetConnection("udp", local.String()); c != nil {
			break
		}
		if i == 200 {
			_ = u.Close()
			return nil, errors.New("ua: the SIP transport did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return u, nil
}

const allow = "INVITE, ACK, CANCEL, BYE, INFO, OPTIONS"

// Addr is the agent's SIP address (host:port, over its Transport).
func (u *UA) Addr() string { return netip.AddrPortFrom(u.ip, uint16(u.port)).String() }

// URI is the agent's own SIP URI, which peers call directly.
func (u *UA) URI() string { return u.dialog.ContactHDR.Address.String() }

// SetAnswer changes the policy for incoming calls from now on.
func (u *UA) SetAnswer(p AnswerPolicy) {
	u.mu.Lock()
	u.policy = p
	u.mu.Unlock()
}

// Calls returns the agent's calls, oldest first, ended ones included.
func (u *UA) Calls() []*Call {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.all)
}

// track adds a new call to the list.
func (u *UA) track(c *Call) {
	u.mu.Lock()
	u.all = append(u.all, c)
	u.mu.Unlock()
}

// enter counts a handler or call set-up among the agent's goroutines; it
// is false once Close has begun. The caller calls u.wg.Done when true.
func (u *UA) enter() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return false
	}
	u.wg.Add(1)
	return true
}

// Close hangs up every call, unregisters, and stops the agent. It returns
// when every goroutine of the agent has ended.
func (u *UA) Close() error {
	u.mu.Lock()
	calls := slices.Clone(u.all)
	u.mu.Unlock()
	for _, c := range calls {
		c.Hangup()
	}
	for _, c := range calls {
		select {
		case <-c.done:
		case <-time.After(3 * time.Second):
		}
	}
	u.unregister()
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	u.cancel()
	u.closeListeners()
	u.wg.Wait()
	return u.sip.Close()
}

func (u *UA) closeListeners() {
	_ = u.conn.Close()
	if u.tcp != nil {
		_ = u.tcp.Close()
	}
}

// goOwned runs f on a goroutine the agent waits for at Close.
func (u *UA) goOwned(f func()) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		f()
	}()
}

// serverURI is sip:user@server, the Request-URI of a number dialled
// through the server (or of REGISTER when user is empty).
func (u *UA) serverURI(user string) (sip.Uri, error) {
	if u.cfg.Server == "" {
		return sip.Uri{}, errors.New("ua: no server configured")
	}
	host, port, err := net.SplitHostPort(u.cfg.Server)
	if err != nil {
		return sip.Uri{}, fmt.Errorf("ua: server %q: %w", u.cfg.Server, err)
	}
	p, _ := strconv.Atoi(port)
	uri := sip.Uri{Scheme: "sip", User: user, Host: host, Port: p}
	if u.cfg.Transport == "tcp" {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", "tcp")
	}
	return uri, nil
}

// aor is the agent's address of record, sip:user@server-host.
func (u *UA) aor() sip.Uri {
	host := u.ip.String()
	if h, _, err := net.SplitHostPort(u.cfg.Server); err == nil {
		host = h
	}
	user := u.cfg.Username
	if user == "" {
		user = "linli"
	}
	return sip.Uri{Scheme: "sip", User: user, Host: host}
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}

// lookup finds the call an in-dialog request belongs to.
func (u *UA) lookup(req *sip.Request) *Call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[id]
}

func (u *UA) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := u.lookup(req); c != nil && c.server != nil {
		_ = c.server.ReadAck(req, tx)
	}
}

func (u *UA) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := u.lookup(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.remoteBye()
	var err error
	if c.server != nil {
		err = c.server.ReadBye(req, tx)
	} else if cs := c.clientSession(); cs != nil {
		err = cs.ReadBye(req, tx)
	}
	if err != nil {
		respond(tx, req, 200, "OK")
	}
}

func (u *UA) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := u.lookup(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if isFastUpdate(ct, req.Body()) {
		if c.video != nil {
			c.video.RequestKeyframe()
		}
		respond(tx, req, 200, "OK")
		return
	}
	d, ok := parseDTMFInfo(ct, req.Body())
	if !ok && len(req.Body()) > 0 {
		respond(tx, req, 415, "Unsupported Media Type")
		return
	}
	respond(tx, req, 200, "OK")
	if ok {
		c.key(string(d), "info")
	}
}
