package sip

import (
	"context"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	// ACKs for non-2xx answers are absorbed by their INVITE transaction;
	// what reaches here is the ACK for a 2xx, inside the dialog.
	s.onInDialog(req, tx)
}

func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	// A CANCEL matching a ringing INVITE is handled by its transaction;
	// one that matches nothing is answered 481 (RFC 3261 §9.2).
	s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

// hangUpLate acknowledges a 2xx that arrived on a branch after another
// branch had already answered, then hangs that branch up.
func (s *Server) hangUpLate(b *branch, r *sip.Response) {
	s.goOwned(func() { s.bye(b.out, r, true, "Call completed elsewhere") })
}

// bye sends ACK (when ack) and BYE into the dialog that 2xx res to inv
// created, as the caller's side of it.
func (s *Server) bye(inv *sip.Request, res *sip.Response, ack bool, text string) {
	target := inv.Recipient
	if c := res.Contact(); c != nil {
		target = c.Address
	}
	build := func(m sip.RequestMethod, seq uint32) *sip.Request {
		r := sip.NewRequest(m, *target.Clone())
		// The route set is the 2xx's Record-Route, less this server.
		rrs := res.GetHeaders("Record-Route")
		for i := len(rrs) - 1; i >= 0; i-- {
			rr, ok := rrs[i].(*sip.RecordRouteHeader)
			if !ok {
				continue
			}
			route := &sip.RouteHeader{Address: *rr.Address.Clone()}
			r.AppendHeader(route)
		}
		for s.isOurRoute(r) {
			r.RemoveHeader("Route")
		}
		r.AppendHeader(sip.HeaderClone(inv.From()))
		r.AppendHeader(sip.HeaderClone(res.To()))
		r.AppendHeader(sip.HeaderClone(inv.CallID()))
		r.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: m})
		mf := sip.MaxForwardsHeader(70)
		r.AppendHeader(&mf)
		if m == sip.BYE {
			r.AppendHeader(sip.NewHeader("Reason", `SIP;cause=200;text="`+text+`"`))
		}
		r.SetBody(nil)
		r.SetTransport(inv.Transport())
		r.SetDestination(inv.Destination())
		return r
	}
	seq := inv.CSeq().SeqNo
	if ack {
		if err := s.client.WriteRequest(build(sip.ACK, seq), sipgo.ClientRequestAddVia); err != nil {
			s.logger.Debug("acknowledging a late answer", "err", err)
		}
	} else {
		// Well above whatever the caller has used in this dialog.
		seq += 1 << 20
	}
	s.request(build(sip.BYE, seq+1))
}

// byeCaller hangs up the caller's side of an answered call: the server
// speaks as the callee (2xx res) towards the caller's Contact and flow.
func (s *Server) byeCaller(d *dialog, res *sip.Response, text string) {
	inv := d.invite
	target := inv.Recipient
	if c := inv.Contact(); c != nil {
		target = c.Address
	}
	r := sip.NewRequest(sip.BYE, *target.Clone())
	from := res.To().AsFrom()
	to := inv.From().AsTo()
	r.AppendHeader(&from)
	r.AppendHeader(&to)
	r.AppendHeader(sip.HeaderClone(inv.CallID()))
	r.AppendHeader(&sip.CSeqHeader{SeqNo: 1 << 20, MethodName: sip.BYE})
	mf := sip.MaxForwardsHeader(70)
	r.AppendHeader(&mf)
	r.AppendHeader(sip.NewHeader("Reason", `SIP;cause=200;text="`+text+`"`))
	r.SetBody(nil)
	r.SetTransport(d.caller.transport)
	r.SetDestination(d.caller.addr)
	s.request(r)
}

// request sends req as a transaction and waits for its final answer.
func (s *Server) request(req *sip.Request) {
	ctx, stop := context.WithTimeout(s.ctx, 32*time.Second)
	defer stop()
	tx, err := s.client.TransactionRequest(ctx, req, sipgo.ClientRequestAddVia)
	if err != nil {
		s.logger.Debug("sending", "method", req.Method, "err", err)
		return
	}
	awaitFinal(ctx, tx)
}

// awaitFinal waits for the final answer of tx (or its end, or ctx's), then
// ends the transaction.
func awaitFinal(ctx context.Context, tx sip.ClientTransaction) {
	defer tx.Terminate()
	for {
		select {
		case r := <-tx.Responses():
			if !r.IsProvisional() {
				return
			}
		case <-tx.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}
