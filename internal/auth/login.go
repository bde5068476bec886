package auth

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/account"
	"linli/internal/ent/loginfailure"
	"linli/internal/errs"
	"linli/internal/password"
)

// Messages shown at login. The same message answers an unknown account and a
// wrong password, and a locked account whether it exists or not.
const (
	msgBadCredentials = "账号或密码错误"
	msgLocked         = "登录失败次数过多，该账号已被锁定 10 分钟，请稍后再试"
	msgIPLimited      = "登录尝试过于频繁，请稍后再试"
	msgDisabled       = "账号已停用，请联系平台管理员"
)

// dummyHash is verified against when the account does not exist, so that the
// answer takes as long as for a real account. It is made on first use.
var dummyHash = sync.OnceValue(func() string {
	h, err := password.Hash("linli-timing-equaliser")
	if err != nil {
		panic(err) // only crypto/rand can fail here
	}
	return h
})

// LoginResult is a successful login.
type LoginResult struct {
	Token     string
	ExpiresAt time.Time
	Remember  bool
	Principal *Principal
	// Challenge is set instead of the rest when the password was right but
	// the browser must prove a second factor first (see CompleteSignIn).
	Challenge *Challenge
}

// Login checks account and pw and opens a new session. previousToken, if any,
// is the session cookie the browser already had; it is removed so that a
// login always rotates the session. device is the browser's device id (see
// Device): when the account needs a second factor and the browser is not
// remembered for it, the result holds a Challenge instead of a session.
//
// Errors: errs.Forbidden when a second factor is required and the account
// has none; errs.Unauthorized for wrong credentials or a disabled account,
// errs.TooMany when the account is locked or the IP is throttled.
func (s *Service) Login(ctx context.Context, name, pw string, remember bool, ci ClientInfo, previousToken, device string) (*LoginResult, error) {
	sys := actor.AsSystem(ctx)
	name = NormalizeAccount(name)
	now := s.now()

	// The attempt is counted before the password is checked, so that however
	// many arrive at once, at most the allowed number are ever checked.
	attempt, err := s.reserveAttempt(sys, name, ci.IP, now)
	if err != nil {
		return nil, err
	}

	acc, err := s.db.Account.Query().Where(account.Account(name)).Only(sys)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("auth: find account: %w", err)
	}
	hash := ""
	if acc != nil {
		hash = acc.PasswordHash
	} else {
		hash = dummyHash()
	}
	ok, verr := password.Verify(pw, hash)
	if verr != nil {
		return nil, fmt.Errorf("auth: verify: %w", verr)
	}
	if acc == nil || !ok {
		return nil, s.failed(sys, name, ci.IP, now)
	}
	if acc.Disabled {
		return nil, errs.New(errs.Unauthorized, msgDisabled)
	}
	if need, _, err := s.secondFactorRequired(sys, acc); err != nil {
		return nil, err
	} else if need {
		if ok, err := s.trusted(sys, acc.ID, device); err != nil {
			return nil, fmt.Errorf("auth: trusted device: %w", err)
		} else if !ok {
			c, err := s.challenge(sys, acc, remember, ci.IP, attempt)
			if err != nil {
				return nil, err
			}
			s.logger.InfoContext(ctx, "login needs second factor", "account", name, "ip", ci.IP)
			return &LoginResult{Challenge: c}, nil
		}
	}

	var res LoginResult
	err = s.db.InTx(sys, func(tx *ent.Tx) error {
		c := tx.Client()
		if previousToken != "" {
			if err := deleteToken(sys, c, previousToken); err != nil {
				return err
			}
		}
		// The failures up to this attempt are forgiven; guesses that
		// reserved their attempt after it still count.
		if _, err := c.LoginFailure.Delete().Where(loginfailure.Account(name), loginfailure.IDLTE(attempt)).Exec(sys); err != nil {
			return err
		}
		token, expires, err := s.createSession(sys, c, acc.ID, remember, ci)
		if err != nil {
			return err
		}
		res = LoginResult{Token: token, ExpiresAt: expires, Remember: remember}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Principal, err = s.Authenticate(ctx, res.Token)
	if err != nil || res.Principal == nil {
		return nil, fmt.Errorf("auth: new session not found: %w", err)
	}
	s.logger.InfoContext(ctx, "login", "account", name, "ip", ci.IP, "remember", remember)
	return &res, nil
}

// NormalizeAccount returns the canonical form of an account name.
func NormalizeAccount(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// locked reports whether name is locked: some run of LockThreshold failures
// within LockWindow ended less than LockFor ago.
func locked(ctx context.Context, db *ent.Client, name string, now time.Time) (bool, error) {
	fs, err := db.LoginFailure.Query().
		Where(loginfailure.Account(name), loginfailure.CreatedAtGT(now.Add(-LockWindow-LockFor))).
		All(ctx)
	if err != nil {
		return false, fmt.Errorf("auth: failures: %w", err)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].CreatedAt.Before(fs[j].CreatedAt) })
	for i := LockThreshold - 1; i < len(fs); i++ {
		first, last := fs[i-LockThreshold+1].CreatedAt, fs[i].CreatedAt
		if last.Sub(first) <= LockWindow && now.Before(last.Add(LockFor)) {
			return true, nil
		}
	}
	return false, nil
}

// reserveAttempt records an attempt at name from ip as a failure before its
// password is checked (a successful login removes it again), unless the
// address is throttled or the account locked. Counting and recording happen
// under one lock of the account and the address, on every instance.
func (s *Service) reserveAttempt(ctx context.Context, name, ip string, now time.Time) (int, error) {
	var id int
	err := s.db.InTx(ctx, func(tx *ent.Tx) error {
		if err := s.db.Lock(ctx, tx, "login-account:"+name, "login-ip:"+ip); err != nil {
			return err
		}
		n, err := tx.LoginFailure.Query().Where(loginfailure.IP(ip), loginfailure.CreatedAtGT(now.Add(-LockWindow))).Count(ctx)
		if err != nil {
			return fmt.Errorf("auth: count ip failures: %w", err)
		}
		if n >= IPThreshold {
			return errs.New(errs.TooMany, msgIPLimited)
		}
		locked, err := locked(ctx, tx.Client(), name, now)
		if err != nil {
			return err
		}
		if locked {
			return errs.New(errs.TooMany, msgLocked)
		}
		f, err := tx.LoginFailure.Create().SetAccount(truncate(name, 64)).SetIP(truncate(ip, 64)).SetCreatedAt(now).Save(ctx)
		if err != nil {
			return fmt.Errorf("auth: record attempt: %w", err)
		}
		id = f.ID
		return nil
	})
	return id, err
}

// failed returns the error to answer a wrong password with; the attempt is
// already recorded.
func (s *Service) failed(ctx context.Context, name, ip string, now time.Time) error {
	s.logger.WarnContext(ctx, "login failed", "account", name, "ip", ip)
	locked, err := locked(ctx, s.db.Client, name, now)
	if err != nil {
		return err
	}
	if locked {
		return errs.New(errs.TooMany, msgLocked)
	}
	return errs.New(errs.Unauthorized, msgBadCredentials)
}

func (s *Service) purgeFailures(ctx context.Context, now time.Time) error {
	_, err := s.db.LoginFailure.Delete().Where(loginfailure.CreatedAtLT(now.Add(-24 * time.Hour))).Exec(ctx)
	if err != nil {
		return fmt.Errorf("auth: purge failures: %w", err)
	}
	return nil
}
