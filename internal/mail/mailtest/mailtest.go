// Package mailtest is a small real SMTP server for tests: it listens on
// loopback, serves one connection at a time, optionally offers STARTTLS with
// a certificate of its own and AUTH PLAIN, and records every message it
// accepts.
package mailtest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// Received is one accepted message.
type Received struct {
	From, To string // envelope
	Auth     string // "user:password" given with AUTH PLAIN, if any
	TLS      bool   // the DATA came over TLS
	Raw      []byte
	Subject  string
	Text     string
	HTML     string
}

// Server is a running SMTP server.
type Server struct {
	Addr string
	// Roots trusts the server's certificate (STARTTLS).
	Roots *x509.CertPool
	ln    net.Listener
	tls   *tls.Config
	mu    sync.Mutex
	msgs  []Received
	ch    chan struct{}
	done  chan struct{}
}

// Start starts a server on 127.0.0.1; with startTLS it offers STARTTLS. It
// stops at the end of the test.
func Start(tb testing.TB, startTLS bool) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, ch: make(chan struct{}, 100), done: make(chan struct{})}
	if startTLS {
		s.tls, s.Roots = selfSigned(tb)
	}
	go s.serve()
	tb.Cleanup(func() {
		ln.Close()
		<-s.done
	})
	return s
}

// URL returns an smtp:// URL of the server with user:pass when user is set.
func (s *Server) URL(user, pass string) string {
	if user == "" {
		return "smtp://" + s.Addr
	}
	return "smtp://" + user + ":" + pass + "@" + s.Addr
}

// Messages returns what has been received so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Wait returns the n-th message (from 1), waiting up to a generous deadline.
func (s *Server) Wait(tb testing.TB, n int) Received {
	tb.Helper()
	deadline := time.After(60 * time.Second)
	for {
		if m := s.Messages(); len(m) >= n {
			return m[n-1]
		}
		select {
		case <-s.ch:
		case <-deadline:
			tb.Fatalf("mailtest: message %d did not arrive (have %d)", n, len(s.Messages()))
		}
	}
}

func (s *Server) serve() {
	defer close(s.done)
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.session(c) // one connection at a time
	}
}

func (s *Server) session(conn net.Conn) {
	defer func() { conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	r := bufio.NewReader(conn)
	w := conn
	reply := func(line string) { _, _ = io.WriteString(w, line+"\r\n") }
	var cur Received
	secure := false
	reply("220 mailtest ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"250-mailtest", "250-8BITMIME"}
			if s.tls != nil && !secure {
				lines = append(lines, "250-STARTTLS")
			}
			lines = append(lines, "250 AUTH PLAIN")
			reply(strings.Join(lines, "\r\n"))
		case "STARTTLS":
			if s.tls == nil || secure {
				reply("502 not offered")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, w, r, secure = tc, tc, bufio.NewReader(tc), true
			cur = Received{}
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			if strings.ToUpper(mech) != "PLAIN" || ir == "" {
				reply("504 only AUTH PLAIN with an initial response")
				continue
			}
			b, err := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(b), "\x00")
			if err != nil || len(parts) != 3 {
				reply("501 bad AUTH PLAIN")
				continue
			}
			cur.Auth = parts[1] + ":" + parts[2]
			reply("235 ok")
		case "MAIL":
			cur.From = addrOf(arg)
			reply("250 ok")
		case "RCPT":
			cur.To = addrOf(arg)
			reply("250 ok")
		case "DATA":
			reply("354 end with .")
			var data bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				l = strings.TrimPrefix(l, ".")
				data.WriteString(l)
			}
			cur.Raw = data.Bytes()
			cur.TLS = secure
			parse(&cur)
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			select {
			case s.ch <- struct{}{}:
			default:
			}
			cur = Received{Auth: cur.Auth}
			reply("250 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("500 unknown command")
		}
	}
}

func addrOf(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return ""
	}
	return arg[i+1 : j]
}

// parse fills the subject and the decoded bodies of a multipart/alternative
// message.
func parse(m *Received) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return
	}
	dec := new(mime.WordDecoder)
	m.Subject, _ = dec.DecodeHeader(msg.Header.Get("Subject"))
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return
		}
		body, _ := io.ReadAll(p)
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			body, _ = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), ""))
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			m.Text = string(body)
		case "text/html":
			m.HTML = string(body)
		}
	}
}

func selfSigned(tb testing.TB) (*tls.Config, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}
