package sip

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// peer is a raw SIP peer on a UDP socket, for what sipp cannot send.
type peer struct {
	t    *testing.T
	conn net.Conn
	n    int
}

func dialPeer(t *testing.T, network, addr string) *peer {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c}
}

func (p *peer) local() string { return p.conn.LocalAddr().String() }

// request renders a request with the usual headers; extra lines are added
// before Content-Length.
func (p *peer) request(method, ruri, from, to string, extra ...string) string {
	p.n++
	proto := strings.ToUpper(p.conn.LocalAddr().Network())
	return fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bK-raw-%d;rport\r\nFrom: <sip:%s@127.0.0.1>;tag=raw%d\r\n"+
		"To: <sip:%s@127.0.0.1>\r\nCall-ID: raw-%d-%s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\nContact: <sip:%s@%s>\r\n%sContent-Length: 0\r\n\r\n",
		method, ruri, proto, p.local(), p.n, from, p.n, to, p.n, p.local(), p.n, method, from, p.local(), joinLines(extra))
}

func joinLines(ls []string) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l + "\r\n")
	}
	return b.String()
}

// send writes raw and returns the first non-100 response's text, or "" when
// none came within wait.
func (p *peer) send(raw string, wait time.Duration) string {
	p.t.Helper()
	if _, err := p.conn.Write([]byte(raw)); err != nil {
		p.t.Fatal(err)
	}
	return p.read(wait)
}

func (p *peer) read(wait time.Duration) string {
	buf := make([]byte, 65536)
	deadline := time.Now().Add(wait)
	for {
		_ = p.conn.SetReadDeadline(deadline)
		n, err := p.conn.Read(buf)
		if err != nil {
			return ""
		}
		msg := string(buf[:n])
		if strings.HasPrefix(msg, "SIP/2.0 100 ") {
			continue
		}
		return msg
	}
}

func status(msg string) string {
	line, _, _ := strings.Cut(msg, "\r\n")
	return line
}

func header(msg, name string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// authorize answers a challenge in msg for req as username/password.
func authorize(t *testing.T, challenge, method, ruri, username, password string, nc int) string {
	t.Helper()
	c, ok := parseCredentials(strings.Replace(challenge, "Digest ", "Digest username=\"x\", response=\"x\", ", 1))
	if !ok {
		t.Fatalf("challenge %q", challenge)
	}
	c.username, c.uri, c.qop, c.cnonce, c.nc = username, ruri, "auth", "abc", fmt.Sprintf("%08x", nc)
	c.algorithm = "MD5"
	resp, _ := digestResponse(c, method, password)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="abc"`,
		username, c.realm, c.nonce, ruri, resp, c.nc)
}

func TestBadInput(t *testing.T) {
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RingTime: time.Second, Branches: []Branch{{Username: "i1", Who: "室内分机"}}})
	s := startServer(t, openStore(t), dir, newMemCallLog(), nil)
	p := dialPeer(t, "udp", s.Addr())
	server := "sip:" + s.Addr()
	alive := func(what string) {
		t.Helper()
		if got := status(p.send(p.request("OPTIONS", server, "d1", "d1"), 2*time.Second)); got != "SIP/2.0 200 OK" {
			t.Fatalf("after %s: OPTIONS answered %q", what, got)
		}
	}
	alive("start")

	// Garbage, truncated and oversized datagrams: silence, and the server
	// keeps serving.
	for name, raw := range map[string]string{
		"garbage":   "\x00\xff\xfehello there\r\n\r\n",
		"truncated": "INVITE sip:0502@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5;bra",
		"no CSeq":   "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + p.local() + ";branch=z9hG4bK-x\r\n\r\n",
		"oversized": "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nX-Pad: " + strings.Repeat("a", 65000) + "\r\n\r\n",
		"long body": strings.Replace(p.request("OPTIONS", server, "d1", "d1"), "Content-Length: 0", "Content-Length: 500", 1),
	} {
		got := p.send(raw, 300*time.Millisecond)
		if got != "" && !strings.HasPrefix(got, "SIP/2.0 400") {
			t.Errorf("%s: answered %q", name, status(got))
		}
		alive(name)
	}

	for _, tc := range []struct {
		name, raw, want, allow string
	}{
		{"unknown method", p.request("FOO", server, "d1", "d1"), "SIP/2.0 501", "INVITE"},
		{"unsupported method", p.request("SUBSCRIBE", server, "d1", "d1"), "SIP/2.0 405", "REGISTER"},
		{"loop", strings.Replace(p.request("INVITE", "sip:0502@"+s.Addr(), "d1", "0502"), "Max-Forwards: 70", "Max-Forwards: 0", 1), "SIP/2.0 483", ""},
		{"unauthenticated INVITE", p.request("INVITE", "sip:0502@"+s.Addr(), "d1", "0502"), "SIP/2.0 407", ""},
		{"BYE outside a dialog", p.request("BYE", "sip:0502@"+s.Addr(), "d1", "0502"), "SIP/2.0 481", ""},
		{"stray CANCEL", p.request("CANCEL", "sip:0502@"+s.Addr(), "d1", "0502"), "SIP/2.0 481", ""},
		{"forged relay", p.request("INVITE", "sip:i1@127.0.0.1:9", "d1", "i1", relayHeader+": 1;sig=00"), "SIP/2.0 403", ""},
	} {
		got := p.send(tc.raw, 2*time.Second)
		if !strings.HasPrefix(status(got), tc.want) {
			t.Errorf("%s: got %q, want %s", tc.name, status(got), tc.want)
		}
		if tc.allow != "" && !strings.Contains(header(got, "Allow"), tc.allow) {
			t.Errorf("%s: Allow %q", tc.name, header(got, "Allow"))
		}
	}

	// A spoofed From: d1's credentials, d2's name.
	inv := p.request("INVITE", "sip:0502@"+s.Addr(), "d2", "0502")
	ch := p.send(inv, 2*time.Second)
	authz := authorize(t, header(ch, "Proxy-Authenticate"), "INVITE", "sip:0502@"+s.Addr(), "d1", "door-secret", 1)
	inv = p.request("INVITE", "sip:0502@"+s.Addr(), "d2", "0502", "Proxy-Authorization: "+authz)
	if got := status(p.send(inv, 2*time.Second)); !strings.HasPrefix(got, "SIP/2.0 403") {
		t.Errorf("spoofed From: %q", got)
	}

	// A digest uri that is not the Request-URI.
	authz = authorize(t, header(ch, "Proxy-Authenticate"), "INVITE", "sip:0601@"+s.Addr(), "d1", "door-secret", 2)
	inv = p.request("INVITE", "sip:0502@"+s.Addr(), "d1", "0502", "Proxy-Authorization: "+authz)
	if got := status(p.send(inv, 2*time.Second)); !strings.HasPrefix(got, "SIP/2.0 400") {
		t.Errorf("digest uri of another number: %q", got)
	}

	// A replayed nonce count is challenged again (stale), not accepted.
	reg := p.request("REGISTER", server, "d1", "d1", "Expires: 120")
	ch = p.send(reg, 2*time.Second)
	authz = authorize(t, header(ch, "WWW-Authenticate"), "REGISTER", server, "d1", "door-secret", 1)
	if got := status(p.send(p.request("REGISTER", server, "d1", "d1", "Expires: 120", "Authorization: "+authz), 2*time.Second)); got != "SIP/2.0 200 OK" {
		t.Fatalf("REGISTER: %q", got)
	}
	replay := p.send(p.request("REGISTER", server, "d1", "d1", "Expires: 120", "Authorization: "+authz), 2*time.Second)
	if status(replay) != "SIP/2.0 401 Unauthorized" || !strings.Contains(replay, "stale=true") {
		t.Errorf("replayed nonce count: %q", status(replay))
	}
	// The next nonce count of the same nonce is fine.
	authz = authorize(t, header(ch, "WWW-Authenticate"), "REGISTER", server, "d1", "door-secret", 2)
	if got := status(p.send(p.request("REGISTER", server, "d1", "d1", "Expires: 0", "Authorization: "+authz), 2*time.Second)); got != "SIP/2.0 200 OK" {
		t.Errorf("next nonce count: %q", got)
	}
	// SHA-256 (RFC 8760) is accepted as well.
	c, _ := parseCredentials(strings.Replace(header(ch, "WWW-Authenticate"), "Digest ", "Digest username=\"x\", response=\"x\", ", 1))
	c.username, c.uri, c.qop, c.cnonce, c.nc, c.algorithm = "d1", server, "auth", "xyz", "00000003", "SHA-256"
	resp, _ := digestResponse(c, "REGISTER", "door-secret")
	authz = fmt.Sprintf(`Digest username="d1", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=SHA-256, qop=auth, nc=00000003, cnonce="xyz"`, c.realm, c.nonce, server, resp)
	if got := status(p.send(p.request("REGISTER", server, "d1", "d1", "Expires: 0", "Authorization: "+authz), 2*time.Second)); got != "SIP/2.0 200 OK" {
		t.Errorf("SHA-256: %q", got)
	}
}

func TestTCPKeepAliveAndOversized(t *testing.T) {
	s := startServer(t, openStore(t), estate(), newMemCallLog(), nil)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "\r\n" {
		t.Fatalf("CRLF keep-alive answered %q, %v", line, err)
	}
	// Over 64 KB without an end: the connection is dropped, the server
	// lives on.
	big, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	_, _ = big.Write([]byte("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nX-Pad: " + strings.Repeat("a", 70000)))
	_ = big.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := big.Read(make([]byte, 10)); err == nil {
		t.Errorf("oversized message: connection still answers")
	}
	p := dialPeer(t, "tcp", s.Addr())
	if got := status(p.send(p.request("OPTIONS", "sip:"+s.Addr(), "d1", "d1"), 2*time.Second)); got != "SIP/2.0 200 OK" {
		t.Fatalf("after an oversized message: %q", got)
	}
}

// Close leaves no goroutine behind, calls in progress included.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	db := openStore(t)
	before := runtime.NumGoroutine()
	dir := estate()
	s, err := Start(context.Background(), Config{Addr: "127.0.0.1:0"}, db, dir, newMemCallLog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := dialPeer(t, "udp", s.Addr())
	for range 20 {
		p.send(p.request("OPTIONS", "sip:"+s.Addr(), "d1", "d1"), 200*time.Millisecond)
		p.send(p.request("INVITE", "sip:0502@"+s.Addr(), "d1", "0502"), 200*time.Millisecond)
	}
	s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+1 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A contact registered over TCP is called over the very connection it
// registered on, whatever its Contact says (NAT: the flow is reused).
func TestTCPFlowReused(t *testing.T) {
	dir := estate()
	dir.route("0502", Route{Target: "1-1-1-0502", RingTime: 5 * time.Second, Branches: []Branch{{Username: "i1", Who: "室内分机"}}})
	s := startServer(t, openStore(t), dir, newMemCallLog(), nil)
	mon := dialPeer(t, "tcp", s.Addr())
	server := "sip:" + s.Addr()
	// The Contact names an unreachable private address, as behind NAT.
	reg := func(extra ...string) string {
		r := mon.request("REGISTER", server, "i1", "i1", append([]string{"Expires: 300"}, extra...)...)
		return strings.Replace(r, "Contact: <sip:i1@"+mon.local()+">", "Contact: <sip:i1@192.0.2.10:5060;transport=tcp>", 1)
	}
	ch := mon.send(reg(), 2*time.Second)
	authz := authorize(t, header(ch, "WWW-Authenticate"), "REGISTER", server, "i1", "monitor-secret", 1)
	if got := status(mon.send(reg("Authorization: "+authz), 2*time.Second)); got != "SIP/2.0 200 OK" {
		t.Fatalf("REGISTER over TCP: %q", got)
	}
	regs, _ := s.Registrations(context.Background(), []string{"i1"})
	if len(regs["i1"]) != 1 || regs["i1"][0].Transport != "tcp" || regs["i1"][0].Received != mon.local() {
		t.Fatalf("registration: %+v", regs)
	}
	door := dialPeer(t, "udp", s.Addr())
	ruri := "sip:0502@" + s.Addr()
	ch = door.send(door.request("INVITE", ruri, "d1", "0502"), 2*time.Second)
	authz = authorize(t, header(ch, "Proxy-Authenticate"), "INVITE", ruri, "d1", "door-secret", 1)
	door.send(door.request("INVITE", ruri, "d1", "0502", "Proxy-Authorization: "+authz), 0)
	inv := mon.read(3 * time.Second)
	if !strings.HasPrefix(inv, "INVITE sip:i1@192.0.2.10:5060;transport=tcp SIP/2.0") {
		t.Fatalf("the monitor's TCP connection got %q", status(inv))
	}
	if !strings.Contains(inv, "Record-Route: <sip:"+s.Addr()+";transport=tcp;lr>") {
		t.Errorf("no Record-Route for the TCP side:\n%s", inv)
	}
}
