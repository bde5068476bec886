package ua

import (
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"
)

// onInvite rings, then answers or refuses as the policy (or a later
// Answer/Reject/Hangup) says.
func (u *UA) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if !u.enter() {
		respond(tx, req, 503, "Service Unavailable")
		return
	}
	defer u.wg.Done()
	if to := req.To(); to != nil && to.Params.Has("tag") {
		u.reinvite(req, tx)
		return
	}
	offer, err := parseSDP(req.Body())
	codec, ok := offer.audioCodec()
	if err != nil || !ok {
		res := sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
		res.AppendHeader(sip.NewHeader("Warning", `304 linli "PCMU or PCMA audio required"`))
		_ = tx.Respond(res)
		return
	}
	sess, err := u.dialog.ReadInvite(req, tx)
	if err != nil {
		respond(tx, req, 400, "Bad Request")
		return
	}
	peer := ""
	if f := req.From(); f != nil {
		peer = f.Address.String()
	}
	c := newCall(u, req.CallID().Value(), false, peer)
	c.server = sess
	m, err := newMedia(u.mediaIP(), u.logger, func(k string) { c.key(k, "rtp") })
	if err != nil {
		_ = sess.Respond(500, "Server Internal Error", nil)
		return
	}
	c.media = m
	var videoAddr netip.AddrPort
	if u.cfg.Video && offer.VideoPT != 0 {
		if c.video, err = newVideo(u.mediaIP()); err == nil {
			videoAddr = c.video.LocalAddr()
		}
	}
	u.track(c)
	u.mu.Lock()
	u.calls[sess.ID] = c
	policy := u.policy
	u.mu.Unlock()
	if f := u.cfg.OnCall; f != nil {
		f(c)
	}
	answer := buildSDP(randSessionID(), m.LocalAddr(), []uint8{codec}, offer.Event, videoAddr, offer.VideoPT)
	sdpType := sip.NewHeader("Content-Type", "application/sdp")
	if u.cfg.EarlyMedia {
		err = sess.Respond(183, "Session Progress", answer, sdpType)
		c.mu.Lock()
		c.early = true
		c.mu.Unlock()
		_ = c.startMedia(offer)
	} else {
		err = sess.Respond(180, "Ringing", nil)
	}
	if err != nil {
		c.end(500, "振铃应答发送失败："+err.Error())
		return
	}
	c.setState(StateRinging)
	u.logger.Info("sip call ringing", "call_id", c.id, "from", peer, "answer", policy.Mode)

	var timer <-chan time.Time
	switch policy.Mode {
	case AnswerAuto:
		_ = c.decideOnce(200)
	case AnswerAfter:
		t := time.NewTimer(policy.Delay)
		defer t.Stop()
		timer = t.C
	case AnswerReject:
		code := policy.Code
		if code == 0 {
			code = 486
		}
		_ = c.decideOnce(code)
	}
	var code int
	select {
	case code = <-c.decide:
	case <-timer:
		code = 200
	case <-sess.Context().Done():
		c.end(487, "对方取消")
		return
	case <-c.hangup:
		code = 603
	}
	if code != 200 {
		_ = sess.Respond(code, refusal(code), nil)
		c.end(code, "本方拒接")
		return
	}
	// The tone starts with the 200: the caller may play it before its ACK.
	_ = c.startMedia(offer)
	res := sip.NewResponseFromRequest(sess.InviteRequest, 200, "OK", answer)
	res.AppendHeader(sdpType)
	// WriteResponse returns at the ACK; the call counts as answered from
	// then on (in-dialog requests need the 200 it records).
	if err := sess.WriteResponse(res); err != nil {
		c.end(408, "未收到 ACK："+err.Error())
		return
	}
	c.setState(StateAnswered)
	u.logger.Info("sip call answered", "call_id", c.id)
	u.goOwned(func() { c.talk(sess.Context().Done(), sess.Bye) })
}

// reinvite answers a re-INVITE (a session refresh, hold) with the call's
// unchanged session.
func (u *UA) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	c := u.lookup(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.media.mu.Lock()
	codec, event := c.media.codec, c.media.event
	c.media.mu.Unlock()
	var videoAddr netip.AddrPort
	if c.video != nil {
		videoAddr = c.video.LocalAddr()
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", buildSDP(randSessionID(), c.media.LocalAddr(), []uint8{codec}, event, videoAddr, ptH264))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(u.dialog.ContactHDR.Clone())
	_ = tx.Respond(res)
}

func refusal(code int) string {
	switch code {
	case 486:
		return "Busy Here"
	case 603:
		return "Decline"
	case 480:
		return "Temporarily Unavailable"
	}
	return "Refused"
}
