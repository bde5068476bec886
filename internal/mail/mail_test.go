package mail_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"linli/internal/mail"
	"linli/internal/mail/mailtest"
)

func TestSendOverSMTP(t *testing.T) {
	for _, tc := range []struct {
		name     string
		startTLS bool
		user     string
	}{
		{"plain", false, ""},
		{"STARTTLS with AUTH", true, "wuye"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.Start(t, tc.startTLS)
			s, err := mail.New(srv.URL(tc.user, "s3cret"), "物业平台 <noreply@wuye.example>", slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if tc.startTLS {
				smtp := s.(*mail.SMTP)
				smtp.TLS = tlsTrusting(srv)
			}
			m := mail.Message{To: "王经理 <wang@example.com>", Subject: "重置密码：邻里物业", Text: "请打开链接重置密码。\n第二行", HTML: "<p>请打开<a href=\"http://x/\">链接</a>重置密码。</p>"}
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := srv.Wait(t, 1)
			if got.From != "noreply@wuye.example" || got.To != "wang@example.com" {
				t.Errorf("envelope %q → %q", got.From, got.To)
			}
			if got.Subject != m.Subject || got.Text != m.Text || got.HTML != m.HTML {
				t.Errorf("message decoded as subject %q text %q html %q", got.Subject, got.Text, got.HTML)
			}
			if got.TLS != tc.startTLS {
				t.Errorf("TLS = %v, want %v", got.TLS, tc.startTLS)
			}
			wantAuth := ""
			if tc.user != "" {
				wantAuth = tc.user + ":s3cret"
			}
			if got.Auth != wantAuth {
				t.Errorf("AUTH %q, want %q", got.Auth, wantAuth)
			}
			if !strings.Contains(string(got.Raw), "From: =?utf-8?") {
				t.Errorf("From header not encoded:\n%s", got.Raw)
			}
		})
	}
}

func TestSendFailsWhenServerRefusesTLS(t *testing.T) {
	srv := mailtest.Start(t, true)
	s, err := mail.New(srv.URL("", ""), "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// The server's own certificate is not trusted by default: no message
	// may go out unencrypted after a failed STARTTLS.
	if err := s.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "x", Text: "x", HTML: "x"}); err == nil {
		t.Fatal("send succeeded with an untrusted certificate")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages received", n)
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"http://mail.example.com", "smtp://", "smtps:///x"} {
		if _, err := mail.New(u, "", slog.Default()); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if _, err := mail.New("", "not an address", slog.Default()); err == nil {
		t.Error("bad From accepted")
	}
}
