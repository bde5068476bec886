package blobtest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy stands between the server and its clients and can hold their
// requests unanswered, as a store that hangs would.
type Proxy struct {
	Endpoint string // http://127.0.0.1:port

	s  *Server
	l  net.Listener
	mu sync.Mutex
	// stalled: new connections are accepted and held, unanswered.
	stalled bool
	held    []net.Conn
	live    map[net.Conn]bool // both ends of forwarded connections
	wg      sync.WaitGroup
}

// Proxy starts a proxy to s; it stops on cleanup.
func (s *Server) Proxy(tb testing.TB) *Proxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Endpoint: "http://" + l.Addr().String(), s: s, l: l, live: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.close)
	return p
}

// URL is the LINLI_BLOB_URL of the bucket through the proxy.
func (p *Proxy) URL(prefix string) string {
	u, _ := url.Parse(p.s.URL(prefix))
	q := u.Query()
	q.Set("endpoint", p.Endpoint)
	u.RawQuery = q.Encode()
	return u.String()
}

// Stall cuts the connections in use and holds every new one unanswered
// until Resume.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
	for c := range p.live {
		c.Close()
	}
}

// Held says how many connections wait unanswered.
func (p *Proxy) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.held)
}

// Resume closes the held connections (their requests fail) and forwards
// new ones again.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = false
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.stalled {
			p.held = append(p.held, c)
			p.mu.Unlock()
			continue
		}
		p.mu.Unlock()
		p.wg.Add(1)
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	up, err := net.Dial("tcp", p.s.addr)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.stalled { // stalled while dialling
		up.Close()
		p.held = append(p.held, c)
		p.mu.Unlock()
		return
	}
	p.live[c], p.live[up] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
	p.mu.Lock()
	delete(p.live, c)
	delete(p.live, up)
	p.mu.Unlock()
}

func (p *Proxy) close() {
	p.l.Close()
	p.mu.Lock()
	for c := range p.live {
		c.Close()
	}
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
	p.mu.Unlock()
	p.wg.Wait()
}
