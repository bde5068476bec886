// Package auth authenticates console users: argon2id passwords, sessions kept
// in the database (so several server instances share them), login throttling
// and lockout, the forced change of an initial password, and the gate that
// decides which operations a request may reach.
package auth

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/perm"
	"linli/internal/secret"
	"linli/internal/store"
)

// Policy numbers. They are part of the product's behaviour, documented in the README.
const (
	IdleTimeout       = 2 * time.Hour       // a browser session ends after this long unused
	MaxBrowserSession = 24 * time.Hour      // …and at the latest this long after login
	RememberFor       = 30 * 24 * time.Hour // "自动登录" keeps a session this long
	LockThreshold     = 10                  // failed logins for one account …
	LockWindow        = 10 * time.Minute    // … within this window lock it …
	LockFor           = 10 * time.Minute    // … for this long
	IPThreshold       = 50                  // failed logins from one IP within LockWindow
	CookieName        = "linli_session"
)

// Service is the authentication service.
type Service struct {
	db     *store.Store
	box    *secret.Box // seals authenticator secrets, signs device cookies
	logger *slog.Logger
	now    func() time.Time
	// proxies are the addresses whose X-Forwarded-For is believed.
	proxies []netip.Prefix
}

// NewService returns a Service on db that seals and signs with box. Requests
// from proxies are taken to come from the client their X-Forwarded-For names.
func NewService(db *store.Store, box *secret.Box, proxies []netip.Prefix, logger *slog.Logger) *Service {
	return &Service{db: db, box: box, proxies: proxies, logger: logger, now: time.Now}
}

// Principal is the signed-in account behind a request.
type Principal struct {
	Account     *ent.Account
	SessionID   int
	Communities []int
	// Permissions of a staff account's role; operators hold every one.
	Permissions []perm.Perm
	// RoleName is the 角色 shown to people, e.g. 保安.
	RoleName string
}

// Actor returns the data-layer actor of p.
func (p *Principal) Actor() actor.Actor {
	if p.Account.Role == "operator" {
		return actor.Actor{Kind: actor.Operator, AccountID: p.Account.ID}
	}
	return actor.Actor{Kind: actor.Staff, AccountID: p.Account.ID, Communities: p.Communities}
}

// IsOperator reports whether p is a platform operator.
func (p *Principal) IsOperator() bool { return p.Account.Role == "operator" }

type principalKey struct{}

// WithPrincipal returns ctx carrying p and its actor.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	ctx = context.WithValue(ctx, principalKey{}, p)
	return actor.With(ctx, p.Actor())
}

// Current returns the principal of ctx, or nil for an anonymous request.
func Current(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
