// Package mail sends e-mail: through an SMTP server (LINLI_SMTP_URL) with
// STARTTLS when the server offers it, or implicit TLS for smtps://, or to the
// log when no server is configured. It is the only package that speaks SMTP.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Message is one e-mail with a plain-text and an HTML body.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// New returns the sender for rawURL: SMTP when set, else one that writes
// each message to logger.
//
// Errors: a URL that is not smtp:// or smtps:// with a host, or a bad from.
func New(rawURL, from string, logger *slog.Logger) (Sender, error) {
	if from == "" {
		from = "Linli <no-reply@localhost>"
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: From address %q: %w", from, err)
	}
	if rawURL == "" {
		return Log{Logger: logger}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("mail: LINLI_SMTP_URL: %w", err)
	}
	s := &SMTP{From: addr, Host: u.Hostname(), logger: logger}
	switch u.Scheme {
	case "smtp":
		s.Port = "587"
	case "smtps":
		s.Port, s.ImplicitTLS = "465", true
	default:
		return nil, fmt.Errorf("mail: LINLI_SMTP_URL scheme %q: want smtp or smtps", u.Scheme)
	}
	if s.Host == "" {
		return nil, errors.New("mail: LINLI_SMTP_URL has no host")
	}
	if p := u.Port(); p != "" {
		s.Port = p
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}

// Log writes messages to the log instead of sending them, for installations
// without a mail server.
type Log struct{ Logger *slog.Logger }

// Send logs m.
func (l Log) Send(ctx context.Context, m Message) error {
	l.Logger.InfoContext(ctx, "mail (no SMTP server configured)", "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}

// SMTP sends through one SMTP server.
type SMTP struct {
	From        *mail.Address
	Host, Port  string
	Username    string
	Password    string
	ImplicitTLS bool // smtps://: TLS from the first byte
	// TLS, when set, replaces the default client TLS configuration (tests
	// trust their own certificate with it).
	TLS    *tls.Config
	logger *slog.Logger
}

// Timeout bounds one delivery.
const Timeout = 30 * time.Second

// Send delivers m.
//
// Errors: any failure to connect, authenticate or have the message accepted.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("mail: recipient %q: %w", m.To, err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	addr := net.JoinHostPort(s.Host, s.Port)
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mail: connect %s: %w", addr, err)
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	tlsConf := s.tlsConfig()
	if s.ImplicitTLS {
		conn = tls.Client(conn, tlsConf)
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return fmt.Errorf("mail: greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("mail: EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.ImplicitTLS {
		if err := c.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("mail: STARTTLS: %w", err)
		}
	}
	if s.Username != "" {
		// PlainAuth refuses to send the password unencrypted except to
		// localhost.
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("mail: AUTH: %w", err)
		}
	}
	if err := c.Mail(s.From.Address); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("mail: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(Compose(s.From, to, m, time.Now())); err != nil {
		return fmt.Errorf("mail: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: message refused: %w", err)
	}
	if err := c.Quit(); err != nil {
		s.logger.WarnContext(ctx, "mail: QUIT", "err", err)
	}
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	if s.TLS != nil {
		c := s.TLS.Clone()
		if c.ServerName == "" {
			c.ServerName = s.Host
		}
		return c
	}
	return &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

// Compose renders m as a MIME message: multipart/alternative with the plain
// text first and the HTML second, both UTF-8 in base64, and the subject
// encoded for non-ASCII text.
func Compose(from, to *mail.Address, m Message, now time.Time) []byte {
	var b bytes.Buffer
	boundary := randomHex(12)
	host := "localhost"
	if i := strings.LastIndexByte(from.Address, '@'); i >= 0 {
		host = from.Address[i+1:]
	}
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.BEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+randomHex(16)+"@"+host+">")
	header("MIME-Version", "1.0")
	header("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	part := func(contentType, body string) {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n", boundary, contentType)
		enc := base64.StdEncoding.EncodeToString([]byte(body))
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	part("text/plain", m.Text)
	part("text/html", m.HTML)
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
