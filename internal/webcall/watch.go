package webcall

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"linli/internal/actor"
	"linli/internal/ent"
	entdevice "linli/internal/ent/device"
	"linli/internal/ent/unit"
	"linli/internal/housing"
	"linli/internal/media"
)

// watch is one 监视 session of a station: one SIP call from this instance
// to the station (the first viewer's), one relay stream, shared by every
// page of the instance that watches the station meanwhile.
type watch struct {
	s           *Service
	deviceID    int
	communityID int
	number      string // as dialled: M1-1-1-D1, MW1
	label       string
	stream      *media.RTPStream
	ready       chan struct{} // closed when the station answered or refused
	err         error         // set before ready closes when it refused
	stop        chan struct{} // closed to end the session
	stopOnce    sync.Once

	mu      sync.Mutex
	sess    *sipgo.DialogClientSession
	viewers map[*watchLeg]struct{}
	expires time.Time
	ended   bool
}

// watchLeg is one page's view of a watch.
type watchLeg struct {
	id string
	p  *page
	w  *watch

	view
}

// station finds a door or wall station of the page's community and the
// number that watches it.
func (s *Service) station(p *page, deviceID int) (*ent.Device, string, string, error) {
	sys := actor.AsSystem(s.ctx)
	d, err := s.db.Device.Query().Where(entdevice.ID(deviceID), entdevice.CommunityID(p.acc.CommunityID)).Only(sys)
	if ent.IsNotFound(err) {
		return nil, "", "", errText("设备不存在或不在本小区")
	}
	if err != nil {
		return nil, "", "", errText("读取设备失败")
	}
	c, err := s.db.Community.Get(sys, d.CommunityID)
	if err != nil {
		return nil, "", "", errText("读取小区失败")
	}
	switch d.Kind {
	case entdevice.KindWall:
		return d, "MW" + strconv.Itoa(d.Index), housing.Label(c.Name, fmt.Sprintf("围墙机%d", d.Index)), nil
	case entdevice.KindDoor:
		if d.UnitID == nil {
			return nil, "", "", errText("门口机没有安装位置")
		}
		q := s.db.Unit.Query().Where(unit.ID(*d.UnitID))
		housing.WithUnitPath(q)
		u, err := q.Only(sys)
		if err != nil {
			return nil, "", "", errText("读取门口机位置失败")
		}
		b := u.Edges.Building
		number := fmt.Sprintf("M%d-%d-%d-D%d", b.Edges.Area.Number, b.Number, u.Number, d.Index)
		return d, number, housing.Label(c.Name, b.Edges.Area.Name, b.Name, u.Name, fmt.Sprintf("门口机%d", d.Index)), nil
	}
	return nil, "", "", errText("只能监视门口机和围墙机")
}

// allowed asks the dial plan whether the page's account may watch number.
func (s *Service) allowed(p *page, number string) error {
	_, err := s.dir.Route(s.ctx, p.acc, number)
	if err == nil {
		return nil
	}
	var re interface{ Error() string }
	if errors.As(err, &re) {
		msg := err.Error()
		if _, zh, ok := strings.Cut(msg, ": "); ok {
			msg = zh
		}
		return errText("无权监视该设备：" + msg)
	}
	return errText("无权监视该设备")
}

// watchFor starts (or joins) 监视 of a station for page p.
func (s *Service) watchFor(p *page, deviceID int) {
	d, number, label, err := s.station(p, deviceID)
	if err == nil {
		err = s.allowed(p, number)
	}
	if err != nil {
		p.fail("", err.Error())
		return
	}
	l := &watchLeg{id: "m" + strconv.Itoa(s.newID()), p: p}
	s.mu.Lock()
	w := s.watches[d.ID]
	if w != nil {
		w.mu.Lock()
		if w.ended {
			w.mu.Unlock()
			w = nil
		} else {
			w.viewers[l] = struct{}{}
			w.mu.Unlock()
		}
	}
	fresh := w == nil
	if fresh {
		st, err := s.relay.NewRTPStream(d.CommunityID, label)
		if err != nil {
			s.mu.Unlock()
			p.fail("", err.Error())
			return
		}
		w = &watch{s: s, deviceID: d.ID, communityID: d.CommunityID, number: number, label: label, stream: st,
			ready: make(chan struct{}), stop: make(chan struct{}), viewers: map[*watchLeg]struct{}{l: {}}}
		s.watches[d.ID] = w
	}
	if fresh {
		w.expires = time.Now().Add(s.cfg.WatchTime)
	}
	s.mu.Unlock()
	l.w = w
	p.addLeg(l.id, l)
	if fresh {
		s.goOwned(func() { w.run(p) })
	}
	select {
	case <-w.ready:
	case <-p.done:
		return
	}
	if w.err != nil {
		p.dropLeg(l.id)
		p.fail("", w.err.Error())
		return
	}
	w.mu.Lock()
	exp := w.expires
	w.mu.Unlock()
	p.send(msg{Type: "watching", Call: l.id, DeviceID: d.ID, From: label, ExpiresAt: &exp})
}

// run places the 监视 call as page p's account and keeps it until the
// time is up, the last viewer leaves or the station hangs up.
func (w *watch) run(p *page) {
	s := w.s
	reason := "监视已结束"
	defer func() { w.finish(reason) }()
	sess, err := w.call(p)
	if err != nil {
		w.err = err
		close(w.ready)
		return
	}
	w.mu.Lock()
	w.sess = sess
	w.mu.Unlock()
	close(w.ready)
	w.stream.OnKeyframe(func() {
		ctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
		defer cancel()
		_ = fastUpdate(ctx, sess.Do, sess.InviteResponse.Contact().Address)
	})
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-sess.Context().Done():
			reason = "设备已挂断，监视结束"
			return
		case <-w.stop:
		case <-s.ctx.Done():
		case <-tick.C:
			w.mu.Lock()
			over := time.Now().After(w.expires)
			w.mu.Unlock()
			if !over {
				continue
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = sess.Bye(ctx)
		cancel()
		return
	}
}

// call sends the INVITE through the proxy in the page's name.
func (w *watch) call(p *page) (*sipgo.DialogClientSession, error) {
	s := w.s
	host, port, _ := strings.Cut(s.sip.LocalAddr(), ":")
	pn, _ := strconv.Atoi(port)
	uri := sip.Uri{Scheme: "sip", User: w.number, Host: host, Port: pn}
	callID := sip.GenerateTagN(24) + "@" + s.gw.addr.Addr().String()
	req := sip.NewRequest(sip.INVITE, uri)
	from := sip.FromHeader{DisplayName: "", Address: sip.Uri{Scheme: "sip", User: p.acc.Username, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	to := sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: w.number, Host: host}, Params: sip.NewParams()}
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&from)
	req.AppendHeader(&to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	req.AppendHeader(s.gw.contact.Clone())
	req.AppendHeader(sip.NewHeader(sipCallerHeader, s.sip.SignCaller(p.acc.Username, callID)))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(deviceSDP(time.Now().UnixNano()>>20, w.stream, nil))
	ctx, cancel := context.WithTimeout(s.ctx, 15*time.Second)
	defer cancel()
	sess, err := s.gw.clients.WriteInvite(ctx, req)
	if err != nil {
		return nil, errText("监视失败：无法发出呼叫")
	}
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		_ = sess.Close()
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return nil, refusal(de.Res)
		}
		return nil, errText("监视失败：设备没有应答")
	}
	actx, acancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer acancel()
	if err := sess.Ack(actx); err != nil {
		_ = sess.Close()
		return nil, errText("监视失败：" + err.Error())
	}
	desc, err := parseDevice(sess.InviteResponse.Body())
	if err != nil {
		bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = sess.Bye(bctx)
		bcancel()
		_ = sess.Close()
		return nil, errText("监视失败：设备的媒体描述不可用（" + err.Error() + "）")
	}
	w.stream.Start(desc.peer)
	return sess, nil
}

// refusal turns the proxy's or the station's answer into a message.
func refusal(res *sip.Response) error {
	text := ""
	if h := res.GetHeader("Reason"); h != nil {
		if _, t, ok := strings.Cut(h.Value(), `text="`); ok {
			text = strings.TrimSuffix(t, `"`)
			if _, zh, ok := strings.Cut(text, ": "); ok {
				text = zh
			}
		}
	}
	switch res.StatusCode {
	case 403:
		return errText("无权监视该设备" + suffix(text))
	case 404:
		return errText("设备不存在" + suffix(text))
	case 480, 408:
		return errText("设备不在线，无法监视")
	case 486, 600, 603:
		return errText("设备忙，请稍后再试")
	}
	return errText(fmt.Sprintf("监视失败（SIP %d）", res.StatusCode))
}

func suffix(t string) string {
	if t == "" {
		return ""
	}
	return "：" + t
}

// finish ends the session for every viewer.
func (w *watch) finish(reason string) {
	s := w.s
	s.mu.Lock()
	if s.watches[w.deviceID] == w {
		delete(s.watches, w.deviceID)
	}
	w.mu.Lock()
	w.ended = true
	legs := make([]*watchLeg, 0, len(w.viewers))
	for l := range w.viewers {
		legs = append(legs, l)
	}
	sess := w.sess
	w.mu.Unlock()
	s.mu.Unlock()
	for _, l := range legs {
		l.end(reason)
	}
	w.stream.Close()
	if sess != nil {
		_ = sess.Close()
	}
}

// leave drops a viewer; the session ends with the last.
func (w *watch) leave(l *watchLeg) {
	w.mu.Lock()
	delete(w.viewers, l)
	empty := len(w.viewers) == 0
	w.mu.Unlock()
	if empty {
		w.stopOnce.Do(func() { close(w.stop) })
	}
}

func (l *watchLeg) end(reason string) {
	if !l.finish() {
		return
	}
	l.p.dropLeg(l.id)
	l.p.send(msg{Type: "ended", Call: l.id, Reason: reason})
	l.w.leave(l)
}

func (l *watchLeg) offer(sdp string) (string, error) {
	select {
	case <-l.w.ready:
	default:
		return "", errText("监视尚未建立")
	}
	return l.attach(l.w.stream.Stream(), l.p.acc.Label, sdp, "监视已结束")
}

func (l *watchLeg) accept() error { return errText("监视无需接听") }
func (l *watchLeg) hangup()       { l.end("已结束监视") }

func (l *watchLeg) open() error {
	w := l.w
	w.mu.Lock()
	sess := w.sess
	w.mu.Unlock()
	if sess == nil {
		return errText("监视尚未建立")
	}
	keys, err := w.s.unlockKeys(w.communityID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(w.s.ctx, 5*time.Second)
	defer cancel()
	if err := sendKeys(ctx, sess.Do, sess.InviteResponse.Contact().Address, keys); err != nil {
		return errText("设备没有响应（" + err.Error() + "）")
	}
	return nil
}

func (l *watchLeg) extend() error {
	w := l.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return errText("监视已结束")
	}
	w.expires = time.Now().Add(w.s.cfg.WatchTime)
	exp := w.expires
	for v := range w.viewers {
		v.p.send(msg{Type: "watching", Call: v.id, DeviceID: w.deviceID, From: w.label, ExpiresAt: &exp})
	}
	return nil
}

func (l *watchLeg) talk(on bool) error {
	l.setTalk(on)
	return nil
}

// recheckWatches ends the views of page p it may no longer have.
func (s *Service) recheckWatches(p *page) {
	p.mu.Lock()
	var views []*watchLeg
	for _, l := range p.legs {
		if v, ok := l.(*watchLeg); ok {
			views = append(views, v)
		}
	}
	p.mu.Unlock()
	for _, v := range views {
		if err := s.allowed(p, v.w.number); err != nil {
			p.fail(v.id, err.Error())
			v.end("无权监视该设备")
		}
	}
}
