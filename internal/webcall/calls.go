package webcall

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"linli/internal/actor"
	"linli/internal/media"
)

// incoming is a door station's call as it reaches the pages of this
// instance: one relay stream towards the device, shared by every page it
// rings (each page is its own branch of the fork).
type incoming struct {
	s           *Service
	callID      string
	from        string
	deviceID    int
	communityID int
	started     time.Time
	stream      *media.RTPStream
	desc        deviceDesc

	mu   sync.Mutex
	legs int
}

// ringLeg is one page's branch of a call.
type ringLeg struct {
	id     string
	p      *page
	in     *incoming
	sess   *sipgo.DialogServerSession
	decide chan string // "accept" or "hangup"

	view
	answered bool // guarded by view.mu
}

// ring answers a branch INVITE for page p: 183 with the relay's SDP at
// once (the door station's video reaches the page before anyone answers),
// then 200 when the page answers.
func (s *Service) ring(p *page, req *sip.Request, tx sip.ServerTransaction, desc deviceDesc) {
	in, err := s.incomingFor(req, desc)
	if err != nil {
		var le *media.LimitError
		if errors.As(err, &le) {
			respond(tx, req, 486, "Busy Here", sip.NewHeader("Reason", `SIP;cause=486;text="Media sessions exhausted"`))
			p.fail("", err.Error())
			return
		}
		s.logger.Error("relay for a call", "err", err)
		respond(tx, req, 500, "Server Internal Error")
		return
	}
	sess, err := s.gw.servers.ReadInvite(req, tx)
	if err != nil {
		in.release()
		respond(tx, req, 400, "Bad Request")
		return
	}
	cancelReason := make(chan string, 1)
	tx.OnCancel(func(r *sip.Request) {
		why := "对方已挂断"
		if h := r.GetHeader("Reason"); h != nil && strings.Contains(h.Value(), "cause=200") {
			why = "已在其他设备接听"
		}
		select {
		case cancelReason <- why:
		default:
		}
	})
	l := &ringLeg{id: "c" + strconv.Itoa(s.newID()), p: p, in: in, sess: sess, decide: make(chan string, 1)}
	answer := deviceSDP(time.Now().UnixNano()>>20, in.stream, &in.desc)
	ct := sip.NewHeader("Content-Type", "application/sdp")
	if err := sess.Respond(183, "Session Progress", answer, ct); err != nil {
		in.release()
		return
	}
	p.addLeg(l.id, l)
	started := in.started
	p.send(msg{Type: "ring", Call: l.id, From: in.from, DeviceID: in.deviceID, StartedAt: &started})
	s.logger.Info("page ringing", "page", p.id, "call_id", in.callID)
	reason := "对方已挂断"
	defer func() { l.end(reason) }()

	var d string
	select {
	case d = <-l.decide:
	case <-sess.Context().Done():
		select {
		case reason = <-cancelReason:
		default:
		}
		return
	case <-p.done:
		d = "gone"
	case <-s.ctx.Done():
		d = "gone"
	}
	switch d {
	case "hangup":
		// 挂断 while it rings refuses this branch only; the others ring on.
		_ = sess.Respond(603, "Decline", nil)
		reason = "已挂断"
		return
	case "gone":
		_ = sess.Respond(480, "Temporarily Unavailable", nil, sip.NewHeader("Reason", `SIP;cause=480;text="Page closed"`))
		reason = "连接中断"
		return
	}
	res := sip.NewResponseFromRequest(sess.InviteRequest, 200, "OK", answer)
	res.AppendHeader(ct)
	// WriteResponse returns at the ACK.
	if err := sess.WriteResponse(res); err != nil {
		select {
		case reason = <-cancelReason:
		default:
			reason = "接听失败：门口机没有确认"
		}
		return
	}
	l.mu.Lock()
	l.answered = true
	l.mu.Unlock()
	l.setTalk(true)
	p.send(msg{Type: "accepted", Call: l.id})
	s.logger.Info("page answered", "page", p.id, "call_id", in.callID)
	in.stream.OnKeyframe(func() {
		ctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
		defer cancel()
		_ = fastUpdate(ctx, sess.Do, sess.InviteRequest.Contact().Address)
	})
	select {
	case <-sess.Context().Done():
		reason = "对方已挂断"
	case <-l.decide:
		reason = "已挂断"
	case <-p.done:
		reason = "连接中断"
	case <-s.ctx.Done():
		reason = "服务器关闭"
	}
	if sess.Context().Err() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := sess.Bye(ctx); err != nil {
			s.logger.Warn("hanging up the door station's call", "call_id", in.callID, "err", err)
		}
		cancel()
	}
}

// incomingFor finds or opens the relay of the call req belongs to.
func (s *Service) incomingFor(req *sip.Request, desc deviceDesc) (*incoming, error) {
	callID := req.CallID().Value()
	s.mu.Lock()
	in := s.calls[callID]
	if in != nil {
		in.mu.Lock()
		in.legs++
		in.mu.Unlock()
		s.mu.Unlock()
		return in, nil
	}
	s.mu.Unlock()
	from := ""
	if f := req.From(); f != nil {
		from = f.Address.User
	}
	acc, ok, err := s.dir.Account(s.ctx, from)
	if err != nil {
		return nil, err
	}
	label := from
	if ok {
		label = acc.Label
	}
	st, err := s.relay.NewRTPStream(acc.CommunityID, label)
	if err != nil {
		return nil, err
	}
	st.Start(desc.peer)
	in = &incoming{s: s, callID: callID, from: label, deviceID: acc.DeviceID, communityID: acc.CommunityID,
		started: time.Now(), stream: st, desc: desc, legs: 1}
	s.mu.Lock()
	if other := s.calls[callID]; other != nil {
		// Two branches of one call arrived at once: keep the first relay.
		other.mu.Lock()
		other.legs++
		other.mu.Unlock()
		s.mu.Unlock()
		st.Close()
		return other, nil
	}
	s.calls[callID] = in
	s.mu.Unlock()
	return in, nil
}

// release drops one branch; the relay closes with the last.
func (in *incoming) release() {
	s := in.s
	s.mu.Lock()
	in.mu.Lock()
	in.legs--
	last := in.legs == 0
	in.mu.Unlock()
	if last && s.calls[in.callID] == in {
		delete(s.calls, in.callID)
	}
	s.mu.Unlock()
	if last {
		in.stream.Close()
	}
}

func (l *ringLeg) end(reason string) {
	if !l.finish() {
		return
	}
	l.p.dropLeg(l.id)
	l.p.send(msg{Type: "ended", Call: l.id, Reason: reason})
	l.in.release()
	_ = l.sess.Close()
}

func (l *ringLeg) offer(sdp string) (string, error) {
	return l.attach(l.in.stream.Stream(), l.p.acc.Label, sdp, "通话已结束")
}

func (l *ringLeg) accept() error {
	select {
	case l.decide <- "accept":
		return nil
	default:
		return errText("通话已接听或已结束")
	}
}

func (l *ringLeg) hangup() {
	select {
	case l.decide <- "hangup":
	default:
	}
}

func (l *ringLeg) open() error {
	l.mu.Lock()
	answered := l.answered && !l.ended
	l.mu.Unlock()
	if !answered {
		return errText("接听后才能开门")
	}
	keys, err := l.p.s.unlockKeys(l.in.communityID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(l.p.s.ctx, 5*time.Second)
	defer cancel()
	if err := sendKeys(ctx, l.sess.Do, l.sess.InviteRequest.Contact().Address, keys); err != nil {
		return errText("门口机没有响应（" + err.Error() + "）")
	}
	return nil
}

func (l *ringLeg) extend() error   { return errText("只有监视可以延长") }
func (l *ringLeg) talk(bool) error { return errText("接听后即可对讲") }
func (s *Service) unlockKeys(cid int) (string, error) {
	c, err := s.db.Community.Get(actor.AsSystem(s.ctx), cid)
	if err != nil {
		return "", errText("读取小区配置失败")
	}
	if c.UnlockDtmf == "" {
		return "#", nil
	}
	return c.UnlockDtmf, nil
}
