package webcall

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"linli/internal/sip"
)

// msg is every message of the socket, both ways (docs/webcall.md).
type msg struct {
	Type      string     `json:"type"`
	Call      string     `json:"call,omitempty"`
	SDP       string     `json:"sdp,omitempty"`
	From      string     `json:"from,omitempty"`
	DeviceID  int        `json:"device_id,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Message   string     `json:"message,omitempty"`
	Name      string     `json:"name,omitempty"`
	On        *bool      `json:"on,omitempty"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// quit is not sent: the writer closes the page with this reason once
	// the messages queued before it are out.
	quit string
}

// leg is a page's part in one call or 监视 session.
type leg interface {
	offer(sdp string) (string, error)
	accept() error
	hangup()
	open() error
	extend() error
	talk(on bool) error
}

// page is one open browser page.
type page struct {
	s       *Service
	id      int
	acc     sip.Account
	contact string
	conn    *websocket.Conn
	out     chan msg
	done    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	legs map[string]leg
}

var upgrader = websocket.Upgrader{
	ReadBufferSize: 4096, WriteBufferSize: 4096,
	// The ticket is the credential; still, a page of another site must not
	// use a ticket it got hold of.
	CheckOrigin: func(r *http.Request) bool {
		o := r.Header.Get("Origin")
		if o == "" {
			return true
		}
		u, err := url.Parse(o)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	},
}

// ServeHTTP is GET /webcall/ws?ticket=…: the page's socket.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.off(w) {
		return
	}
	t, err := s.redeem(r.URL.Query().Get("ticket"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	acc, ok, err := s.dir.Account(s.ctx, t.Username)
	if err != nil {
		s.logger.Error("reading a page's account", "err", err)
		http.Error(w, "服务器内部错误", http.StatusInternalServerError)
		return
	}
	if !ok {
		http.Error(w, "账号已失效或没有接听权限", http.StatusForbidden)
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	conn.SetReadLimit(64 << 10)
	p := &page{s: s, id: s.newID(), acc: acc, conn: conn, out: make(chan msg, 64), done: make(chan struct{}), legs: map[string]leg{}}
	p.contact = s.gw.pageURI(p.id)
	if err := p.register(); err != nil {
		s.logger.Error("registering a page", "err", err)
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "注册失败"))
		conn.Close()
		return
	}
	s.mu.Lock()
	s.pages[p.id] = p
	s.mu.Unlock()
	s.logger.Info("page open", "page", p.id, "account", acc.Username)
	s.goOwned(p.write)
	s.goOwned(p.keep)
	p.send(msg{Type: "ready", Name: acc.Label})
	p.read()
}

// register adds or refreshes the page's contact.
func (p *page) register() error {
	ctx, cancel := context.WithTimeout(p.s.ctx, 5*time.Second)
	defer cancel()
	return p.s.sip.AddWebContact(ctx, sip.WebContact{Username: p.acc.Username, CommunityID: p.acc.CommunityID,
		Contact: p.contact, Received: p.s.gw.addr.String(), TTL: p.s.cfg.ContactTTL, UserAgent: "Linli web"})
}

// send queues a message; a page that does not keep up is dropped.
func (p *page) send(m msg) {
	select {
	case p.out <- m:
	case <-p.done:
	default:
		go p.close("连接中断")
	}
}

func (p *page) fail(call, message string) {
	p.send(msg{Type: "error", Call: call, Message: message})
}

// quit tells the page message and then closes it for reason.
func (p *page) quit(message, reason string) {
	p.fail("", message)
	p.send(msg{quit: reason})
}

// read handles the page's messages until the socket ends.
func (p *page) read() {
	defer p.close("连接中断")
	dead := p.s.cfg.Dead
	_ = p.conn.SetReadDeadline(time.Now().Add(dead))
	p.conn.SetPongHandler(func(string) error { return p.conn.SetReadDeadline(time.Now().Add(dead)) })
	for {
		_, data, err := p.conn.ReadMessage()
		if err != nil {
			return
		}
		_ = p.conn.SetReadDeadline(time.Now().Add(dead))
		var m msg
		if err := json.Unmarshal(data, &m); err != nil {
			p.fail("", "消息格式错误")
			continue
		}
		p.handle(m)
	}
}

func (p *page) handle(m msg) {
	if m.Type == "watch" {
		p.s.goOwned(func() { p.s.watchFor(p, m.DeviceID) })
		return
	}
	p.mu.Lock()
	l := p.legs[m.Call]
	p.mu.Unlock()
	if l == nil {
		p.fail(m.Call, "通话已结束")
		return
	}
	var err error
	switch m.Type {
	case "offer":
		var answer string
		if answer, err = l.offer(m.SDP); err == nil {
			p.send(msg{Type: "answer", Call: m.Call, SDP: answer})
		}
	case "accept":
		err = l.accept()
	case "hangup":
		l.hangup()
	case "open":
		p.s.goOwned(func() {
			if err := l.open(); err != nil {
				p.fail(m.Call, "开门失败："+err.Error())
				return
			}
			p.send(msg{Type: "opened", Call: m.Call})
		})
	case "extend":
		err = l.extend()
	case "talk":
		err = l.talk(m.On != nil && *m.On)
	default:
		err = errText("不认识的消息类型：" + m.Type)
	}
	if err != nil {
		p.fail(m.Call, err.Error())
	}
}

type errText string

func (e errText) Error() string { return string(e) }

// write sends queued messages and pings.
func (p *page) write() {
	t := time.NewTicker(p.s.cfg.PingEvery)
	defer t.Stop()
	for {
		select {
		case m := <-p.out:
			if m.quit != "" {
				p.close(m.quit)
				return
			}
			_ = p.conn.SetWriteDeadline(time.Now().Add(p.s.cfg.Dead))
			if err := p.conn.WriteJSON(m); err != nil {
				p.close("连接中断")
				return
			}
		case <-t.C:
			if err := p.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(p.s.cfg.Dead)); err != nil {
				p.close("连接中断")
				return
			}
		case <-p.done:
			return
		}
	}
}

// keep refreshes the registration and checks again that the account may
// still take calls (a resident whose APP呼叫 was withdrawn, a disabled
// staff account) and watch what it watches.
func (p *page) keep() {
	refresh := time.NewTicker(p.s.cfg.ContactTTL / 3)
	defer refresh.Stop()
	check := time.NewTicker(p.s.cfg.Recheck)
	defer check.Stop()
	for {
		select {
		case <-refresh.C:
			if err := p.register(); err != nil {
				p.s.logger.Warn("refreshing a page's registration", "err", err)
			}
		case <-check.C:
			_, ok, err := p.s.dir.Account(p.s.ctx, p.acc.Username)
			if err != nil {
				continue
			}
			if !ok {
				p.quit("账号已失效或已失去接听权限", "已失去接听权限")
				return
			}
			p.s.recheckWatches(p)
		case <-p.done:
			return
		case <-p.s.ctx.Done():
			return
		}
	}
}

// close ends the page: its contact, its calls, its socket.
func (p *page) close(reason string) {
	p.once.Do(func() {
		close(p.done)
		p.s.mu.Lock()
		delete(p.s.pages, p.id)
		p.s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := p.s.sip.RemoveWebContact(ctx, p.acc.Username, p.contact); err != nil {
			p.s.logger.Warn("removing a page's registration", "err", err)
		}
		cancel()
		p.mu.Lock()
		legs := make([]leg, 0, len(p.legs))
		for _, l := range p.legs {
			legs = append(legs, l)
		}
		p.mu.Unlock()
		for _, l := range legs {
			l.hangup()
		}
		_ = p.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = p.conn.Close()
		p.s.logger.Info("page closed", "page", p.id, "reason", reason)
	})
}

func (p *page) addLeg(id string, l leg) {
	p.mu.Lock()
	p.legs[id] = l
	p.mu.Unlock()
}

func (p *page) dropLeg(id string) {
	p.mu.Lock()
	delete(p.legs, id)
	p.mu.Unlock()
}
