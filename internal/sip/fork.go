package sip

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// fork rings the targets of one call, stage by stage: first every contact
// of every branch at once for the ring time, then each phone forward in
// turn with the same ring time. The first 2xx wins and is relayed to the
// caller; the other branches are cancelled; a 2xx arriving late on another
// branch is acknowledged and hung up.
type fork struct {
	s    *Server
	req  *sip.Request // the caller's INVITE
	tx   sip.ServerTransaction
	d    *dialog
	ring time.Duration // 0: no ring time (a relayed branch; the first instance keeps time)

	mu       sync.Mutex
	answered bool
}

type branch struct {
	f       *fork
	t       target
	out     *sip.Request
	tx      sip.ClientTransaction
	mu      sync.Mutex
	ringing bool // a provisional arrived, so CANCEL may be sent
	cancel  bool // cancelled before it rang: CANCEL when it does
	sentCxl bool
}

type branchEvent struct {
	b     *branch
	res   *sip.Response // nil when the transaction ended without a final answer
	final bool
}

var completedElsewhere = sip.NewHeader("Reason", `SIP;cause=200;text="Call completed elsewhere"`)

// run works through the stages and gives the caller its final answer.
// Stages from forwardFrom on are phone forwards.
func (f *fork) run(stages [][]target, forwardFrom int) {
	s := f.s
	cancelled := make(chan struct{})
	var once sync.Once
	f.tx.OnCancel(func(*sip.Request) { once.Do(func() { close(cancelled) }) })
	var best *sip.Response
	busyOnly, timedOut := true, false
stages:
	for i, stage := range stages {
		res, outcome := f.stage(stage, cancelled)
		switch outcome {
		case outcomeAnswered:
			f.d.answered(i >= forwardFrom)
			return
		case outcomeCancelled:
			f.d.end(ResultCancelled, 487)
			return
		case outcomeClosed:
			return
		case outcomeTimeout:
			timedOut = true
		case outcomeRefused:
			busy := res.StatusCode == 486 || res.StatusCode == 600 || res.StatusCode == 603
			busyOnly = busyOnly && busy
			best = better(best, res)
			if busy && i < forwardFrom {
				// The room refused the call: it does not go on to phones.
				break stages
			}
		}
	}
	if best == nil || timedOut {
		s.respond(f.tx, f.req, 480, "Temporarily Unavailable", reasonHeader(480, "No answer"))
		f.d.end(ResultMissed, 480)
		return
	}
	if err := f.tx.Respond(relayResponse(best, f.req)); err != nil {
		s.logger.Debug("relaying final answer", "err", err)
	}
	result := ResultFailed
	if busyOnly {
		result = ResultBusy
	}
	f.d.end(result, best.StatusCode)
}

type outcome int

const (
	outcomeAnswered outcome = iota
	outcomeRefused
	outcomeTimeout
	outcomeCancelled
	outcomeClosed
)

// stage rings targets at once until one answers, all refuse, the ring time
// passes or the caller cancels.
func (f *fork) stage(targets []target, cancelled <-chan struct{}) (*sip.Response, outcome) {
	s := f.s
	events := make(chan branchEvent, 4*len(targets)+4)
	done := make(chan struct{})
	defer close(done)
	var branches []*branch
	for _, t := range targets {
		b := &branch{f: f, t: t, out: s.branchRequest(f.req, t)}
		tx, err := s.client.TransactionRequest(s.ctx, b.out, sipgo.ClientRequestAddVia)
		if err != nil {
			s.logger.Warn("ringing a contact", "contact", t.uri.String(), "err", err)
			continue
		}
		b.tx = tx
		branches = append(branches, b)
		s.goOwned(func() { b.watch(events, done) })
	}
	if len(branches) == 0 {
		return sip.NewResponseFromRequest(f.req, 480, "Temporarily Unavailable", nil), outcomeRefused
	}
	var timer <-chan time.Time
	if f.ring > 0 {
		t := time.NewTimer(f.ring)
		defer t.Stop()
		timer = t.C
	}
	pending := len(branches)
	var best *sip.Response
	for {
		select {
		case ev := <-events:
			if ev.res != nil && ev.res.IsSuccess() {
				f.mu.Lock()
				won := !f.answered
				f.answered = true
				f.mu.Unlock()
				if !won {
					continue
				}
				f.d.won(ev.b, ev.res)
				if err := f.tx.Respond(relayResponse(ev.res, f.req)); err != nil {
					s.logger.Debug("relaying 2xx", "err", err)
				}
				for _, o := range branches {
					if o != ev.b {
						o.cancelBranch(completedElsewhere)
					}
				}
				return ev.res, outcomeAnswered
			}
			if !ev.final {
				continue
			}
			pending--
			r := ev.res
			if r == nil {
				r = sip.NewResponseFromRequest(f.req, 408, "Request Timeout", nil)
			}
			best = better(best, r)
			if pending == 0 {
				if best.StatusCode == 408 && f.ring > 0 {
					return best, outcomeTimeout
				}
				return best, outcomeRefused
			}
		case <-timer:
			for _, b := range branches {
				b.cancelBranch(sip.NewHeader("Reason", `SIP;cause=480;text="No answer within the ring time"`))
			}
			return nil, outcomeTimeout
		case <-cancelled:
			for _, b := range branches {
				b.cancelBranch(sip.NewHeader("Reason", `SIP;cause=487;text="Caller hung up"`))
			}
			return nil, outcomeCancelled
		case <-f.tx.Done():
			for _, b := range branches {
				b.cancelBranch(nil)
			}
			if f.tx.Err() == sip.ErrTransactionCanceled {
				return nil, outcomeCancelled
			}
			return nil, outcomeClosed
		case <-s.ctx.Done():
			return nil, outcomeClosed
		}
	}
}

// watch follows one branch's transaction until it ends.
func (b *branch) watch(events chan<- branchEvent, stageDone <-chan struct{}) {
	f, s := b.f, b.f.s
	post := func(ev branchEvent) {
		select {
		case events <- ev:
		case <-stageDone:
		}
	}
	b.tx.OnRetransmission(func(r *sip.Response) {
		// The callee repeats its 2xx until the caller's ACK arrives.
		if r.IsSuccess() && f.d.winner() == b {
			f.d.toCaller(relayResponse(r, f.req))
		}
	})
	for {
		select {
		case r := <-b.tx.Responses():
			switch {
			case r.StatusCode == 100:
			case r.IsProvisional():
				b.mu.Lock()
				b.ringing = true
				late := b.cancel && !b.sentCxl
				b.mu.Unlock()
				if late {
					b.cancelBranch(completedElsewhere)
					continue
				}
				f.d.early(b, r)
				f.mu.Lock()
				answered := f.answered
				f.mu.Unlock()
				if !answered {
					if err := f.tx.Respond(relayResponse(r, f.req)); err != nil {
						s.logger.Debug("relaying provisional", "err", err)
					}
				}
			case r.IsSuccess():
				f.mu.Lock()
				answered := f.answered
				f.mu.Unlock()
				if answered && f.d.winner() != b {
					s.hangUpLate(b, r)
					continue
				}
				post(branchEvent{b: b, res: r, final: true})
			default:
				post(branchEvent{b: b, res: r, final: true})
			}
		case <-b.tx.Done():
			post(branchEvent{b: b, final: true})
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// cancelBranch sends CANCEL once the branch has rung; before that it
// remembers to (RFC 3261 §9.1).
func (b *branch) cancelBranch(reason sip.Header) {
	b.mu.Lock()
	if b.sentCxl {
		b.mu.Unlock()
		return
	}
	b.cancel = true
	if !b.ringing {
		b.mu.Unlock()
		return
	}
	b.sentCxl = true
	b.mu.Unlock()
	s := b.f.s
	c := cancelRequest(b.out, reason)
	s.goOwned(func() {
		ctx, stop := context.WithTimeout(s.ctx, 32*time.Second)
		defer stop()
		tx, err := s.send(ctx, c)
		if err != nil {
			s.logger.Debug("sending CANCEL", "err", err)
			return
		}
		awaitFinal(ctx, tx)
	})
}

// better picks the response to give the caller when every branch failed
// (RFC 3261 §16.7): a 6xx wins, otherwise the lowest class, the first of
// its class.
func better(cur, r *sip.Response) *sip.Response {
	if cur == nil {
		return r
	}
	if cur.StatusCode >= 600 {
		return cur
	}
	if r.StatusCode >= 600 {
		return r
	}
	if r.StatusCode/100 < cur.StatusCode/100 {
		return r
	}
	// Within 4xx, a real answer beats our own timeout stand-in.
	if cur.StatusCode == 408 && r.StatusCode != 408 && r.StatusCode/100 == 4 {
		return r
	}
	return cur
}
