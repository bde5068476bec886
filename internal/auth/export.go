package auth

import (
	"context"
	"fmt"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/loginfailure"
	"linli/internal/errs"
	"linli/internal/password"
)

// PasswordPersonal returns what acc's new password must not be built on: its
// own details and the names of its communities (for password.Check).
func (s *Service) PasswordPersonal(ctx context.Context, acc *ent.Account) (password.Personal, error) {
	return s.personal(ctx, acc)
}

// MeOf returns the account of p as the console sees it (GET /api/v1/me).
func MeOf(p *Principal) *Me { return meOf(p) }

// VerifyPassword checks pw, the current password of acc given to confirm a
// change from ip, as a login attempt: a wrong one counts towards the
// account's lockout, and none is checked while the account is locked.
//
// Errors: errs.Invalid on field "password" when wrong, errs.TooMany when the
// account is locked or the address throttled.
func (s *Service) VerifyPassword(ctx context.Context, acc *ent.Account, pw, ip string) error {
	ok, err := s.checkCurrent(ctx, acc, pw, ip)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Field("password", "当前密码不正确")
	}
	return nil
}

// checkCurrent is VerifyPassword's check: ok is false when pw is wrong,
// which has then counted as a failed login.
func (s *Service) checkCurrent(ctx context.Context, acc *ent.Account, pw, ip string) (bool, error) {
	sys := actor.AsSystem(ctx)
	attempt, err := s.reserveAttempt(sys, acc.Account, ip, s.now())
	if err != nil {
		return false, err
	}
	ok, err := password.Verify(pw, acc.PasswordHash)
	if err != nil {
		return false, fmt.Errorf("auth: verify: %w", err)
	}
	if !ok {
		s.logger.WarnContext(ctx, "current password wrong", "account", acc.Account, "ip", ip)
		return false, nil
	}
	_, err = s.db.LoginFailure.Delete().Where(loginfailure.Account(acc.Account), loginfailure.IDLTE(attempt)).Exec(sys)
	return true, err
}

// ForgiveFailures removes the failed logins of account name inside tx, so
// that a password reset also lifts a lockout.
func ForgiveFailures(ctx context.Context, c *ent.Client, name string) error {
	_, err := c.LoginFailure.Delete().Where(loginfailure.Account(name)).Exec(actor.AsSystem(ctx))
	return err
}
