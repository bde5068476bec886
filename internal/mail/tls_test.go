package mail_test

import (
	"crypto/tls"

	"linli/internal/mail/mailtest"
)

func tlsTrusting(srv *mailtest.Server) *tls.Config {
	return &tls.Config{RootCAs: srv.Roots, MinVersion: tls.VersionTLS12}
}
