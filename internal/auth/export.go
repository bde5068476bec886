package auth

import (
	"context"

	"linli/internal/ent"
	"linli/internal/password"
)

// PasswordPersonal returns what acc's new password must not be built on: its
// own details and the names of its communities (for password.Check).
func (s *Service) PasswordPersonal(ctx context.Context, acc *ent.Account) (password.Personal, error) {
	return s.personal(ctx, acc)
}

// MeOf returns the account of p as the console sees it (GET /api/v1/me).
func MeOf(p *Principal) *Me { return meOf(p) }
