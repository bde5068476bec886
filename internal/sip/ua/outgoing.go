package ua

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Call dials target: a number, through the server (0502, 1-1-1-0502), or a
// SIP URI for a peer-to-peer call (sip:0502@127.0.0.1:5070). It returns once
// the INVITE is sent; the call then rings, is answered or refused on its
// own (see Info, Answered and Done).
func (u *UA) Call(ctx context.Context, target string) (*Call, error) {
	var uri sip.Uri
	if strings.HasPrefix(target, "sip:") {
		if err := sip.ParseUri(target, &uri); err != nil {
			return nil, fmt.Errorf("ua: %q: %w", target, err)
		}
		if u.cfg.Transport == "tcp" && !uri.UriParams.Has("transport") {
			if uri.UriParams == nil {
				uri.UriParams = sip.NewParams()
			}
			uri.UriParams.Add("transport", "tcp")
		}
	} else {
		var err error
		if uri, err = u.serverURI(target); err != nil {
			return nil, err
		}
	}
	if !u.enter() {
		return nil, errors.New("ua: closed")
	}
	defer u.wg.Done()
	callID := sip.GenerateTagN(24) + "@" + u.ip.String()
	c := newCall(u, callID, true, uri.String())
	m, err := newMedia(u.mediaIP(), u.logger, func(k string) { c.key(k, "rtp") })
	if err != nil {
		return nil, err
	}
	c.media = m
	var videoAddr netip.AddrPort
	if u.cfg.Video {
		if c.video, err = newVideo(u.mediaIP()); err != nil {
			m.Close()
			return nil, err
		}
		videoAddr = c.video.LocalAddr()
	}
	req := sip.NewRequest(sip.INVITE, uri)
	from := sip.FromHeader{DisplayName: u.cfg.DisplayName, Address: u.aor(), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	to := sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: uri.User, Host: uri.Host, Port: uri.Port}, Params: sip.NewParams()}
	if tr, ok := uri.UriParams.Get("transport"); ok {
		req.SetTransport(sip.NetworkToUpper(tr))
	}
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&from)
	req.AppendHeader(&to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	req.AppendHeader(u.dialog.ContactHDR.Clone())
	req.AppendHeader(sip.NewHeader("Allow", allow))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(buildSDP(randSessionID(), m.LocalAddr(), nil, 0, videoAddr, ptH264))
	u.track(c)
	sess, err := u.dialog.WriteInvite(ctx, req)
	if err != nil {
		c.end(503, "INVITE 发送失败："+err.Error())
		return nil, err
	}
	c.mu.Lock()
	c.client = sess
	c.mu.Unlock()
	if f := u.cfg.OnCall; f != nil {
		f(c)
	}
	u.logger.Info("sip call placed", "call_id", callID, "to", uri.String())
	u.goOwned(func() { c.runOutgoing(sess, req) })
	return c, nil
}

// runOutgoing follows an outgoing call from INVITE to its end.
func (c *Call) runOutgoing(sess *sipgo.DialogClientSession, req *sip.Request) {
	u := c.ua
	// Hanging up cancels the ringing call (a CANCEL once a provisional
	// answer came, RFC 3261 §9.1); the agent closing gives up at once even
	// when the peer never answered at all.
	ring, cancelRing := context.WithCancelCause(context.Background())
	defer cancelRing(nil)
	go func() {
		select {
		case <-c.hangup:
			cancelRing(nil)
		case <-u.ctx.Done():
			cancelRing(sipgo.WaitAnswerForceCancelErr)
		case <-ring.Done():
		}
	}()
	// Early media: the door's camera and microphone go to the first 180/183
	// with SDP at once (the callee shows the visitor before answering), and
	// follow each later one: a forked call's branches answer in turn, and
	// the 200 may come from yet another branch.
	onResponse := func(res *sip.Response) error {
		if res.StatusCode == 180 || res.StatusCode == 183 {
			c.setState(StateRinging)
			if len(res.Body()) > 0 {
				d, err := parseSDP(res.Body())
				if err == nil {
					err = c.startMedia(d)
				}
				if err != nil {
					u.logger.Info("sip early media refused", "call_id", c.id, "err", err)
					return nil
				}
				c.mu.Lock()
				c.early = true
				c.mu.Unlock()
			}
		}
		return nil
	}
	for attempt := 0; ; attempt++ {
		err := sess.WaitAnswer(ring, sipgo.AnswerOptions{OnResponse: onResponse})
		if err == nil {
			break
		}
		if res := sess.InviteResponse; res != nil && res.IsSuccess() {
			// Answered just as the caller hung up: confirm and end it.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if sess.Ack(ctx) == nil {
				_ = sess.Bye(ctx)
			}
			cancel()
			c.end(487, "本方取消")
			return
		}
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			code := de.Res.StatusCode
			if (code == 401 || code == 407) && attempt < 2 && u.cfg.Username != "" {
				req.RemoveHeader("Via")
				req.CSeq().SeqNo++
				if err := u.auth.challenged(req, de.Res); err != nil {
					c.end(code, "鉴权失败："+err.Error())
					return
				}
				if sess, err = u.dialog.WriteInvite(ring, req); err != nil {
					c.end(503, "INVITE 发送失败："+err.Error())
					return
				}
				c.mu.Lock()
				c.client = sess
				c.mu.Unlock()
				continue
			}
			c.end(code, reasonOf(de.Res))
			return
		}
		if ring.Err() != nil {
			c.end(487, "本方取消")
			return
		}
		c.end(408, "无应答："+err.Error())
		return
	}
	res := sess.InviteResponse
	to, from := res.To(), req.From()
	remoteTag, _ := to.Params.Get("tag")
	localTag, _ := from.Params.Get("tag")
	dialog := sip.DialogIDMake(c.id, localTag, remoteTag)
	// The call is known before the ACK leaves: the other side may hang up
	// the moment it has the ACK, and that BYE must find the call.
	u.mu.Lock()
	u.calls[dialog] = c
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	ackErr := sess.Ack(ctx)
	cancel()
	if ackErr != nil {
		u.mu.Lock()
		delete(u.calls, dialog)
		u.mu.Unlock()
		c.end(500, "ACK 发送失败："+ackErr.Error())
		return
	}
	u.logger.Debug("sip answer", "call_id", c.id, "sdp", string(res.Body()))
	d, err := parseSDP(res.Body())
	if err == nil {
		err = c.startMedia(d)
	}
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = sess.Bye(ctx)
		cancel()
		c.end(488, "应答的 SDP 不可用："+err.Error())
		return
	}
	c.setState(StateAnswered)
	u.logger.Info("sip call answered", "call_id", c.id)
	c.talk(sess.Context().Done(), sess.Bye)
}

// reasonOf is a response's reason phrase, with its Reason header if any.
func reasonOf(res *sip.Response) string {
	s := res.Reason
	if h := res.GetHeader("Reason"); h != nil {
		s += " (" + h.Value() + ")"
	}
	return s
}
