package webcall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// gateway is the SIP user agent that stands in for browser pages: every
// page registers a contact sip:w<page id>@<gateway> (see page.register),
// so the proxy rings it like a device; and 监视 from a page leaves here as
// an INVITE through the proxy in the page's name.
type gateway struct {
	s       *Service
	logger  *slog.Logger
	ua      *sipgo.UserAgent
	client  *sipgo.Client
	conn    *net.UDPConn
	addr    netip.AddrPort
	contact sip.ContactHeader
	servers *sipgo.DialogServerCache
	clients *sipgo.DialogClientCache
	done    chan struct{}
}

// startGateway listens for SIP on ip (a loopback address: only the proxy of
// this instance talks to it).
func startGateway(s *Service, ip netip.Addr) (*gateway, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return nil, fmt.Errorf("webcall: SIP gateway: %w", err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	g := &gateway{s: s, logger: s.logger, conn: conn, addr: addr, done: make(chan struct{})}
	quiet := slog.New(slog.DiscardHandler)
	g.ua, err = sipgo.NewUA(sipgo.WithUserAgent("Linli web"), sipgo.WithUserAgentHostname(ip.String()),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)))
	if err != nil {
		conn.Close()
		return nil, err
	}
	g.client, err = sipgo.NewClient(g.ua, sipgo.WithClientHostname(ip.String()), sipgo.WithClientLogger(quiet),
		sipgo.WithClientConnectionAddr(addr.String()), sipgo.WithClientPort(int(addr.Port())))
	if err != nil {
		g.ua.Close()
		conn.Close()
		return nil, err
	}
	srv, err := sipgo.NewServer(g.ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		g.ua.Close()
		conn.Close()
		return nil, err
	}
	g.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "linli", Host: ip.String(), Port: int(addr.Port())}}
	g.servers = sipgo.NewDialogServerCache(g.client, g.contact)
	g.clients = sipgo.NewDialogClientCache(g.client, g.contact)
	srv.OnInvite(g.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = g.servers.ReadAck(req, tx) })
	srv.OnBye(g.onBye)
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) { respond(tx, req, 200, "OK") })
	srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) { respond(tx, req, 200, "OK") })
	go func() {
		defer close(g.done)
		_ = srv.ServeUDP(conn)
	}()
	for i := 0; ; i++ {
		if c, _ := g.ua.TransportLayer().GetConnection("udp", addr.String()); c != nil {
			break
		}
		if i == 400 {
			g.close()
			return nil, errors.New("webcall: the SIP gateway's transport did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return g, nil
}

func (g *gateway) close() {
	_ = g.conn.Close()
	<-g.done
	_ = g.ua.Close()
}

// pageURI is the contact a page registers.
func (g *gateway) pageURI(pageID int) string {
	return "sip:w" + strconv.Itoa(pageID) + "@" + g.addr.String()
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

func (g *gateway) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := g.servers.ReadBye(req, tx); err == nil {
		return
	}
	if err := g.clients.ReadBye(req, tx); err == nil {
		return
	}
	respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

// onInvite rings the page the Request-URI names.
func (g *gateway) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		g.reinvite(req, tx)
		return
	}
	id, err := strconv.Atoi(strings.TrimPrefix(req.Recipient.User, "w"))
	p := g.s.page(id)
	if err != nil || p == nil || !strings.HasPrefix(req.Recipient.User, "w") {
		respond(tx, req, 480, "Temporarily Unavailable", sip.NewHeader("Reason", `SIP;cause=480;text="Page closed"`))
		return
	}
	desc, err := parseDevice(req.Body())
	if err != nil {
		respond(tx, req, 488, "Not Acceptable Here", sip.NewHeader("Warning", `304 linli "PCMU or PCMA audio required"`))
		return
	}
	g.s.ring(p, req, tx, desc)
}

// reinvite answers a session refresh with the session as it is.
func (g *gateway) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	sess, err := g.servers.MatchDialogRequest(req)
	if err != nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", sess.InviteResponse.Body())
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(g.contact.Clone())
	_ = tx.Respond(res)
}

// info sends SIP INFO in a dialog: do is the session's Do.
func info(ctx context.Context, do func(context.Context, *sip.Request) (*sip.Response, error), target sip.Uri, contentType string, body []byte) error {
	req := sip.NewRequest(sip.INFO, *target.Clone())
	req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	req.SetBody(body)
	res, err := do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("SIP %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// sendKeys sends the community's unlock keys, one INFO per key
// (application/dtmf-relay, docs/sip.md §6).
func sendKeys(ctx context.Context, do func(context.Context, *sip.Request) (*sip.Response, error), target sip.Uri, keys string) error {
	for i := range len(keys) {
		body := fmt.Appendf(nil, "Signal=%c\r\nDuration=160\r\n", keys[i])
		if err := info(ctx, do, target, "application/dtmf-relay", body); err != nil {
			return err
		}
	}
	return nil
}

// fastUpdate asks a device for a keyframe the SIP way (RFC 5168).
func fastUpdate(ctx context.Context, do func(context.Context, *sip.Request) (*sip.Response, error), target sip.Uri) error {
	const body = `<?xml version="1.0" encoding="utf-8" ?><media_control><vc_primitive><to_encoder><picture_fast_update/></to_encoder></vc_primitive></media_control>`
	return info(ctx, do, target, "application/media_control+xml", []byte(body))
}
