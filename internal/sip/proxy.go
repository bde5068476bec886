package sip

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"linli/internal/phone"
)

// flow is where requests to one side of a call go: the address and
// transport a registration or request came from (the NAT binding), so the
// same UDP source or TCP connection is reused.
type flow struct {
	addr      string // host:port
	transport string // UDP or TCP
}

// target is one contact a fork rings.
type target struct {
	uri        sip.Uri
	flow       flow
	who        string
	answererID int
	relay      string // set when another instance holds the flow: the registration id signed for it
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onInDialog(req, tx) // re-INVITE
		return
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		s.respond(tx, req, 483, "Too Many Hops")
		return
	}
	if h := req.GetHeader(relayHeader); h != nil {
		s.relayed(req, tx, h.Value())
		return
	}
	var caller Account
	var ok bool
	if h := req.GetHeader(CallerHeader); h != nil {
		caller, ok = s.webCaller(req, tx, h.Value())
	} else {
		caller, ok = s.authenticate(req, tx)
	}
	if !ok {
		return
	}
	if from := req.From(); from == nil || from.Address.User != caller.Username || !from.Params.Has("tag") {
		s.respond(tx, req, 403, "Forbidden", reasonHeader(403, "From does not match the authenticated account"))
		return
	}
	callID := req.CallID().Value()
	if s.dialog.get(callID) != nil {
		s.respond(tx, req, 482, "Loop Detected")
		return
	}
	route, err := s.dir.Route(s.ctx, caller, req.Recipient.User)
	var rerr *RouteError
	if errors.As(err, &rerr) {
		s.respond(tx, req, rerr.Code, reasonPhrase(rerr.Code), reasonHeader(rerr.Code, rerr.Reason))
		if caller.DeviceID != 0 {
			// A station's refused call (a room number that does not exist)
			// is in 呼叫记录 as 失败 with its code, not left 呼叫中 by the
			// station's own report of it.
			now := s.now()
			rec := Call{CallID: callID, Caller: caller, Route: Route{Number: req.Recipient.User, Target: req.Recipient.User},
				StartedAt: now, EndedAt: now, Result: ResultFailed, Code: rerr.Code}
			s.calls.CallStarted(s.ctx, rec)
			s.calls.CallEnded(s.ctx, rec)
		}
		return
	}
	if err != nil {
		s.internalError(tx, req, "routing call", err)
		return
	}
	s.respond(tx, req, 100, "Trying")
	targets, err := s.targets(route, callID)
	if err != nil {
		s.internalError(tx, req, "looking up contacts", err)
		return
	}
	stages := [][]target{}
	if len(targets) > 0 {
		stages = append(stages, targets)
	}
	forwardFrom := len(stages)
	if route.Gateway != "" {
		var gw sip.Uri
		if err := sip.ParseUri(route.Gateway, &gw); err == nil && gw.Host != "" {
			for _, f := range route.Forwards {
				stages = append(stages, []target{forwardTarget(gw, f)})
			}
		} else {
			s.logger.Warn("community phone gateway is not a SIP URI", "gateway", route.Gateway)
		}
	}
	rec := Call{CallID: callID, Caller: caller, Route: route, StartedAt: s.now()}
	if len(stages) == 0 {
		s.respond(tx, req, 480, "Temporarily Unavailable", reasonHeader(480, "Nobody is registered"))
		rec.EndedAt, rec.Result, rec.Code = s.now(), ResultMissed, 480
		s.calls.CallStarted(s.ctx, rec)
		s.calls.CallEnded(s.ctx, rec)
		return
	}
	s.calls.CallStarted(s.ctx, rec)
	d := s.dialog.open(s, req, &rec)
	ring := route.RingTime
	if ring <= 0 {
		ring = 30 * time.Second
	}
	f := &fork{s: s, req: req, tx: tx, d: d, ring: ring}
	f.run(stages, forwardFrom)
}

func forwardTarget(gw sip.Uri, f Forward) target {
	u := sip.Uri{Scheme: "sip", User: f.Phone, Host: gw.Host, Port: gw.Port}
	port := gw.Port
	if port == 0 {
		port = 5060
	}
	tp := "UDP"
	if v, ok := gw.UriParams.Get("transport"); ok && strings.EqualFold(v, "tcp") {
		tp = "TCP"
	}
	return target{uri: u, flow: flow{addr: hostPort(gw.Host, port), transport: tp}, who: "电话转移 " + phone.Mask(f.Phone)}
}

// targets lists every live contact of the route's branches.
func (s *Server) targets(route Route, callID string) ([]target, error) {
	names := make([]string, 0, len(route.Branches))
	who := map[string]Branch{}
	for _, b := range route.Branches {
		names = append(names, b.Username)
		who[b.Username] = b
	}
	rows, err := s.liveRegistrations(s.ctx, names)
	if err != nil {
		return nil, err
	}
	var ts []target
	for _, r := range rows {
		var u sip.Uri
		if err := sip.ParseUri(r.Contact, &u); err != nil {
			continue
		}
		t := target{uri: u, flow: flow{addr: r.Received, transport: strings.ToUpper(r.Transport)}, who: who[r.Username].Who}
		if a, ok, err := s.dir.Account(s.ctx, r.Username); err == nil && ok && a.Kind == KindApp {
			t.answererID = a.ResidentID
		}
		if r.Instance != s.cfg.InstanceID {
			t.flow = flow{addr: r.InstanceAddr, transport: "UDP"}
			t.relay = s.relayToken(r.ID, callID)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// branchRequest builds the INVITE for one target from the caller's.
func (s *Server) branchRequest(req *sip.Request, t target) *sip.Request {
	out := req.Clone()
	out.Recipient = *t.uri.Clone()
	out.RemoveHeader("Proxy-Authorization")
	out.RemoveHeader("Authorization")
	for s.isOurRoute(out) {
		out.RemoveHeader("Route")
	}
	for out.RemoveHeader(relayHeader) {
	}
	for out.RemoveHeader(CallerHeader) {
	}
	if mf := out.MaxForwards(); mf != nil {
		mf.Dec()
	} else {
		m := sip.MaxForwardsHeader(70)
		out.AppendHeader(&m)
	}
	// Two Record-Routes when the sides use different transports (RFC
	// 5658): the caller uses the bottom one, the callee the top one.
	callerTP := strings.ToLower(req.Transport())
	calleeTP := strings.ToLower(t.flow.transport)
	out.PrependHeader(s.recordRoute(callerTP))
	if calleeTP != callerTP {
		out.PrependHeader(s.recordRoute(calleeTP))
	}
	if t.relay != "" {
		out.AppendHeader(sip.NewHeader(relayHeader, t.relay))
	}
	out.SetTransport(t.flow.transport)
	out.SetDestination(t.flow.addr)
	return out
}

func (s *Server) recordRoute(transport string) *sip.RecordRouteHeader {
	return &sip.RecordRouteHeader{Address: sip.Uri{Scheme: "sip", Host: s.host, Port: s.port,
		UriParams: sip.HeaderParams{{K: "transport", V: transport}, {K: "lr", V: ""}}}}
}

// isOurRoute says whether the top Route header names this server.
func (s *Server) isOurRoute(req *sip.Request) bool {
	r := req.Route()
	if r == nil {
		return false
	}
	port := r.Address.Port
	if port == 0 {
		port = 5060
	}
	return port == s.port && (r.Address.Host == s.host || isLocalHost(r.Address.Host))
}

func isLocalHost(h string) bool {
	return h == "127.0.0.1" || h == "localhost" || h == "::1"
}

func hostPort(h string, p int) string {
	if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
		h = "[" + h + "]"
	}
	return h + ":" + strconv.Itoa(p)
}

// relayResponse is a response to our request as the sender of req gets
// it: our Via taken off, addressed to where req came from.
func relayResponse(r *sip.Response, req *sip.Request) *sip.Response {
	res := sip.CopyResponse(r)
	// A stand-in made from the caller's own request (no branch could be
	// sent, or none answered) already carries the caller's Via on top.
	if top, mine := res.Via(), req.Via(); top == nil || mine == nil || top.Params.String() != mine.Params.String() || top.Host != mine.Host {
		res.RemoveHeader("Via")
	}
	res.SetTransport(req.Transport())
	res.SetDestination(req.Source())
	return res
}

// cancelRequest builds the CANCEL for a branch INVITE (RFC 3261 §9.1).
func cancelRequest(inv *sip.Request, reason sip.Header) *sip.Request {
	c := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	c.AppendHeader(sip.HeaderClone(inv.Via()))
	for _, h := range inv.GetHeaders("Route") {
		c.AppendHeader(sip.HeaderClone(h))
	}
	c.AppendHeader(sip.HeaderClone(inv.From()))
	c.AppendHeader(sip.HeaderClone(inv.To()))
	c.AppendHeader(sip.HeaderClone(inv.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	if reason != nil {
		c.AppendHeader(reason)
	}
	c.SetBody(nil)
	c.SetTransport(inv.Transport())
	c.SetDestination(inv.Destination())
	return c
}

// keep tells sipgo the request is complete as built.
func keep(*sipgo.Client, *sip.Request) error { return nil }

// send starts a client transaction for a request built completely here.
func (s *Server) send(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	return s.client.TransactionRequest(ctx, req, keep)
}

func reasonPhrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 603:
		return "Decline"
	}
	if code >= 200 && code < 300 {
		return "OK"
	}
	return "Call Failed"
}
