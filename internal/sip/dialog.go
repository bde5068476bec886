package sip

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// dialog is the server's memory of one call it Record-Routed: where each
// side's flow is, so that in-dialog requests (ACK, BYE, INFO, re-INVITE)
// reach the other side through the NAT binding it registered or called
// from, and the record the CallLog gets.
//
// An answered call that is never hung up (a peer lost power) is ended by
// the server after Config.MaxCallTime (2 h by default, far longer than any
// door call): it sends BYE both ways and records the call as ended then.
type dialog struct {
	s         *Server
	callID    string
	callerTag string
	caller    flow
	invite    *sip.Request // the caller's INVITE

	mu         sync.Mutex
	callees    map[string]flow // by the callee's To tag
	win        *branch
	winRes     *sip.Response
	rec        *Call // nil on a leg relayed from another instance
	result     string
	legs       int // forks using this dialog (several when branches are relayed here)
	isAnswered bool
	ended      bool
	timer      *time.Timer
}

type dialogs struct {
	mu sync.Mutex
	m  map[string]*dialog
}

func newDialogs() *dialogs { return &dialogs{m: map[string]*dialog{}} }

func (ds *dialogs) get(callID string) *dialog {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.m[callID]
}

func (ds *dialogs) remove(d *dialog) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.m[d.callID] == d {
		delete(ds.m, d.callID)
	}
}

func (ds *dialogs) closeAll() {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for k, d := range ds.m {
		d.mu.Lock()
		if d.timer != nil {
			d.timer.Stop()
		}
		d.mu.Unlock()
		delete(ds.m, k)
	}
}

// open starts the dialog of a call, or joins it for another relayed leg.
func (ds *dialogs) open(s *Server, req *sip.Request, rec *Call) *dialog {
	callID := req.CallID().Value()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if d, ok := ds.m[callID]; ok && rec == nil && d.rec == nil {
		d.mu.Lock()
		d.legs++
		d.mu.Unlock()
		return d
	}
	tag, _ := req.From().Params.Get("tag")
	d := &dialog{s: s, callID: callID, callerTag: tag, invite: req, rec: rec, legs: 1,
		caller:  flow{addr: req.Source(), transport: req.Transport()},
		callees: map[string]flow{}}
	ds.m[callID] = d
	return d
}

func toTag(m interface{ To() *sip.ToHeader }) string {
	if to := m.To(); to != nil {
		t, _ := to.Params.Get("tag")
		return t
	}
	return ""
}

// early notes the flow of a branch that answered provisionally.
func (d *dialog) early(b *branch, r *sip.Response) {
	if tag := toTag(r); tag != "" {
		d.mu.Lock()
		d.callees[tag] = b.t.flow
		d.mu.Unlock()
	}
}

// won makes b the answering branch.
func (d *dialog) won(b *branch, r *sip.Response) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.win, d.winRes = b, r
	d.callees[toTag(r)] = b.t.flow
}

func (d *dialog) winner() *branch {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.win
}

// answered records the answer and arms the longest-call timer.
func (d *dialog) answered(forwarded bool) {
	d.mu.Lock()
	d.isAnswered = true
	d.result = ResultAnswered
	if forwarded {
		d.result = ResultForwarded
	}
	var rec Call
	if d.rec != nil {
		d.rec.AnsweredAt = d.s.now()
		d.rec.Answerer = d.win.t.who
		d.rec.AnswererID = d.win.t.answererID
		d.rec.Code = 200
		rec = *d.rec
	}
	d.timer = time.AfterFunc(d.s.cfg.MaxCallTime, d.expire)
	d.mu.Unlock()
	if d.rec != nil {
		d.s.calls.CallAnswered(d.s.ctx, rec)
	}
}

// end records how the call ended and forgets the dialog. result "" keeps
// the result set at answer time.
func (d *dialog) end(result string, code int) {
	d.mu.Lock()
	d.legs--
	if d.ended || (d.rec == nil && d.legs > 0 && result != "") || (d.isAnswered && result != "") {
		// Another relayed leg still rings, or this is a losing leg of an
		// answered call.
		d.mu.Unlock()
		return
	}
	d.ended = true
	if d.timer != nil {
		d.timer.Stop()
	}
	if result == "" {
		result = d.result
	}
	var rec Call
	if d.rec != nil {
		d.rec.EndedAt = d.s.now()
		d.rec.Result = result
		if code != 0 {
			d.rec.Code = code
		}
		rec = *d.rec
	}
	d.mu.Unlock()
	d.s.dialog.remove(d)
	if d.rec != nil {
		d.s.calls.CallEnded(d.s.ctx, rec)
	}
}

// toCaller sends a response to the caller outside the INVITE transaction
// (2xx retransmissions).
func (d *dialog) toCaller(res *sip.Response) {
	if err := d.s.ua.TransportLayer().WriteMsgTo(res, d.caller.addr, d.caller.transport); err != nil {
		d.s.logger.Debug("relaying 2xx retransmission", "err", err)
	}
}

// expire ends an answered call that ran past MaxCallTime.
func (d *dialog) expire() {
	s := d.s
	d.mu.Lock()
	win, res := d.win, d.winRes
	d.mu.Unlock()
	if win != nil && res != nil {
		s.goOwned(func() { s.bye(win.out, res, false, "Call exceeded the longest call time") })
		if d.rec != nil {
			s.goOwned(func() { s.byeCaller(d, res, "Call exceeded the longest call time") })
		}
	}
	d.mu.Lock()
	d.legs = 1
	d.mu.Unlock()
	d.end("", 0)
}

// onInDialog relays a request inside a dialog the server Record-Routed to
// the other side's flow.
func (s *Server) onInDialog(req *sip.Request, tx sip.ServerTransaction) {
	callID := req.CallID()
	d := (*dialog)(nil)
	if callID != nil {
		d = s.dialog.get(callID.Value())
	}
	if d == nil || toTag(req) == "" {
		if req.Method == sip.ACK {
			return
		}
		if toTag(req) == "" && req.Method != sip.BYE {
			s.respond(tx, req, 403, "Forbidden", reasonHeader(403, "Out-of-dialog requests are not served"))
			return
		}
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		if req.Method != sip.ACK {
			s.respond(tx, req, 483, "Too Many Hops")
		}
		return
	}
	fromTag, _ := req.From().Params.Get("tag")
	d.mu.Lock()
	var to flow
	var ok bool
	toCallee := fromTag == d.callerTag
	if toCallee {
		to, ok = d.callees[toTag(req)]
	} else {
		to, ok = d.caller, true
	}
	d.mu.Unlock()
	if !ok {
		if req.Method != sip.ACK {
			s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		}
		return
	}
	out := req.Clone()
	for s.isOurRoute(out) {
		out.RemoveHeader("Route")
	}
	if mf := out.MaxForwards(); mf != nil {
		mf.Dec()
	}
	out.SetTransport(to.transport)
	out.SetDestination(to.addr)
	if req.Method == sip.ACK {
		if err := s.client.WriteRequest(out, sipgo.ClientRequestAddVia); err != nil {
			s.logger.Debug("relaying ACK", "err", err)
		}
		return
	}
	ctx, stop := context.WithTimeout(s.ctx, 32*time.Second)
	defer stop()
	s.relayInDialog(ctx, d, req, tx, out)
}

// relayInDialog sends out as a transaction and relays its answers back on
// tx; a BYE's final answer ends the call.
func (s *Server) relayInDialog(ctx context.Context, d *dialog, req *sip.Request, tx sip.ServerTransaction, out *sip.Request) {
	ftx, err := s.client.TransactionRequest(ctx, out, sipgo.ClientRequestAddVia)
	if err != nil {
		s.respond(tx, req, 503, "Service Unavailable", reasonHeader(503, "The other side cannot be reached"))
		if req.Method == sip.BYE {
			d.end("", 0)
		}
		return
	}
	defer ftx.Terminate()
	for {
		select {
		case r := <-ftx.Responses():
			if r.StatusCode == 100 {
				continue
			}
			if err := tx.Respond(relayResponse(r, req)); err != nil {
				s.logger.Debug("relaying in-dialog answer", "err", err)
			}
			if r.IsProvisional() {
				continue
			}
			if req.Method == sip.BYE {
				d.end("", 0)
			}
			return
		case <-ftx.Done():
			s.respond(tx, req, 408, "Request Timeout")
			if req.Method == sip.BYE {
				d.end("", 0)
			}
			return
		case <-ctx.Done():
			return
		}
	}
}
