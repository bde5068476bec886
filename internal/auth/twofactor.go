package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/account"
	"linli/internal/ent/community"
	"linli/internal/ent/loginchallenge"
	"linli/internal/ent/loginfailure"
	"linli/internal/ent/trusteddevice"
	"linli/internal/errs"
	"linli/internal/phone"
)

// Two-factor sign-in (登录验证). An account that turned on 新设备登录验证,
// enrolled an authenticator app, or belongs to a community that requires it
// proves a second factor whenever it signs in from a browser it has not
// been remembered on: a code sent to its bound phone or e-mail, a code of
// its authenticator, or one of its recovery codes. Browsers are known by a
// long-lived device cookie signed with the data key.
const (
	DeviceCookie      = "linli_device"
	deviceCookieAge   = 400 * 24 * time.Hour // the longest a browser keeps a cookie
	ChallengeTTL      = 10 * time.Minute     // from a right password to the second factor
	ChallengeAttempts = 5                    // wrong codes before the sign-in starts over
	TrustFor          = 30 * 24 * time.Hour  // 记住此设备
)

// The second factors a challenge may be answered with.
const (
	MethodTOTP     = "totp"     // a code of the authenticator app
	MethodRecovery = "recovery" // a one-time recovery code
	MethodSMS      = "sms"      // a code sent to the bound phone
	MethodEmail    = "email"    // a code sent to the bound e-mail
)

const (
	msgChallengeGone = "验证已过期或已失效，请重新输入账号密码登录"
	msgWrongCode     = "验证码错误，请重新输入"
	msgNoFactor      = "所在小区要求登录验证，但该账号未绑定手机、邮箱或身份验证器，请联系平台管理员"
)

// Challenge is a sign-in that waits for a second factor.
type Challenge struct {
	Token   string   // given back with the code
	Methods []string // what the account can answer with
	Phone   string   // the bound phone, masked (138****5678); empty when none
	Email   string   // the bound e-mail, masked (wa***@example.com); empty when none
}

// Device returns the device id of a browser's device cookie, or a new id and
// the cookie value to set when the cookie is missing or not signed by this
// server (fresh is then true).
func (s *Service) Device(cookie string) (id, value string, fresh bool) {
	if id, ok := s.box.Verify(cookie); ok && id != "" {
		return id, cookie, false
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	id = base64.RawURLEncoding.EncodeToString(b)
	return id, s.box.Sign(id), true
}

// secondFactorRequired reports whether acc proves a second factor on a
// browser it has not been remembered on, and whether one of its
// communities demands it.
func (s *Service) secondFactorRequired(ctx context.Context, acc *ent.Account) (need, byCommunity bool, err error) {
	if acc.Role != account.RoleOperator {
		byCommunity, err = s.db.Community.Query().
			Where(community.RequireTwoFactor(true), community.HasStaffWith(account.ID(acc.ID))).
			Exist(actor.AsSystem(ctx))
		if err != nil {
			return false, false, fmt.Errorf("auth: community 2fa: %w", err)
		}
	}
	return byCommunity || acc.LoginCheck || hasTOTP(acc), byCommunity, nil
}

// trusted reports whether the browser device is remembered for acc.
func (s *Service) trusted(ctx context.Context, accountID int, device string) (bool, error) {
	if device == "" {
		return false, nil
	}
	return s.db.TrustedDevice.Query().
		Where(trusteddevice.AccountID(accountID), trusteddevice.DeviceHash(hashToken(device)), trusteddevice.ExpiresAtGT(s.now())).
		Exist(actor.AsSystem(ctx))
}

// methodsOf lists what acc can answer a challenge with.
func methodsOf(acc *ent.Account) []string {
	var m []string
	if hasTOTP(acc) {
		m = append(m, MethodTOTP, MethodRecovery)
	}
	if acc.Phone != "" {
		m = append(m, MethodSMS)
	}
	if acc.Email != "" {
		m = append(m, MethodEmail)
	}
	return m
}

// MaskEmail hides most of the local part of an e-mail address ("" stays "").
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at < 0 {
		return strings.Repeat("*", len(e))
	}
	local := []rune(e[:at])
	keep := 2
	if len(local) <= 2 {
		keep = 1
	}
	return string(local[:keep]) + "***" + e[at:]
}

// challenge opens a challenge for acc after a right password on a browser
// it has not been remembered on. attempt is the failure reserved for the
// password: the password was right, so it is taken back, but earlier
// failures stay until the second factor is proved.
func (s *Service) challenge(ctx context.Context, acc *ent.Account, remember bool, ip string, attempt int) (*Challenge, error) {
	methods := methodsOf(acc)
	if len(methods) == 0 {
		return nil, errs.New(errs.Forbidden, msgNoFactor)
	}
	token, hash, err := newToken()
	if err != nil {
		return nil, err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *ent.Tx) error {
		if _, err := tx.LoginFailure.Delete().Where(loginfailure.ID(attempt)).Exec(ctx); err != nil {
			return err
		}
		return tx.LoginChallenge.Create().SetTokenHash(hash).SetAccountID(acc.ID).SetRemember(remember).
			SetIP(truncate(ip, 64)).SetCreatedAt(now).SetExpiresAt(now.Add(ChallengeTTL)).Exec(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("auth: open challenge: %w", err)
	}
	c := &Challenge{Token: token, Methods: methods, Email: MaskEmail(acc.Email)}
	if acc.Phone != "" {
		c.Phone = phone.Mask(acc.Phone)
	}
	return c, nil
}

// ChallengeAccount returns the account that a live challenge of account
// name is for.
//
// Errors: errs.Unauthorized when the challenge is unknown, expired, spent
// or not name's.
func (s *Service) ChallengeAccount(ctx context.Context, name, token string) (*ent.Account, error) {
	sys := actor.AsSystem(ctx)
	gone := errs.New(errs.Unauthorized, msgChallengeGone)
	if token == "" || len(token) > 100 {
		return nil, gone
	}
	ch, err := s.db.LoginChallenge.Query().
		Where(loginchallenge.TokenHash(hashToken(token)), loginchallenge.ExpiresAtGT(s.now()),
			loginchallenge.AttemptsLT(ChallengeAttempts)).
		Only(sys)
	if ent.IsNotFound(err) {
		return nil, gone
	}
	if err != nil {
		return nil, fmt.Errorf("auth: find challenge: %w", err)
	}
	acc, err := s.db.Account.Get(sys, ch.AccountID)
	if ent.IsNotFound(err) {
		return nil, gone
	}
	if err != nil {
		return nil, fmt.Errorf("auth: challenge account: %w", err)
	}
	if acc.Account != NormalizeAccount(name) {
		return nil, gone
	}
	if acc.Disabled {
		return nil, errs.New(errs.Unauthorized, msgDisabled)
	}
	return acc, nil
}

// CodeCheck proves a second factor of acc: it reports whether code is
// right (and spends it).
type CodeCheck func(ctx context.Context, acc *ent.Account) (bool, error)

// CompleteSignIn answers the challenge token of account name with check
// and, when it passes, opens the session; with trust the browser device is
// remembered for TrustFor. A wrong code counts as a failed login towards the
// lockout; after ChallengeAttempts the sign-in starts over.
//
// Errors: errs.Unauthorized (challenge gone), errs.Invalid (wrong code),
// errs.TooMany (locked).
func (s *Service) CompleteSignIn(ctx context.Context, name, token string, check CodeCheck, trust bool, device string, ci ClientInfo, previousToken string) (*LoginResult, error) {
	sys := actor.AsSystem(ctx)
	acc, err := s.ChallengeAccount(ctx, name, token)
	if err != nil {
		return nil, err
	}
	now := s.now()
	attempt, err := s.reserveAttempt(sys, acc.Account, ci.IP, now)
	if err != nil {
		return nil, err
	}
	th := hashToken(token)
	n, err := s.db.LoginChallenge.Update().
		Where(loginchallenge.TokenHash(th), loginchallenge.AttemptsLT(ChallengeAttempts)).
		AddAttempts(1).Save(sys)
	if err != nil {
		return nil, fmt.Errorf("auth: count challenge attempt: %w", err)
	}
	if n == 0 {
		return nil, errs.New(errs.Unauthorized, msgChallengeGone)
	}
	ok, err := check(ctx, acc)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.logger.WarnContext(ctx, "second factor wrong", "account", acc.Account, "ip", ci.IP)
		if locked, err := locked(sys, s.db.Client, acc.Account, now); err != nil {
			return nil, err
		} else if locked {
			return nil, errs.New(errs.TooMany, msgLocked)
		}
		return nil, errs.Field("code", msgWrongCode)
	}
	var res LoginResult
	err = s.db.InTx(sys, func(tx *ent.Tx) error {
		c := tx.Client()
		ch, err := c.LoginChallenge.Query().Where(loginchallenge.TokenHash(th)).Only(sys)
		if ent.IsNotFound(err) {
			return errs.New(errs.Unauthorized, msgChallengeGone)
		}
		if err != nil {
			return err
		}
		if n, err := c.LoginChallenge.Delete().Where(loginchallenge.ID(ch.ID)).Exec(sys); err != nil {
			return err
		} else if n == 0 {
			return errs.New(errs.Unauthorized, msgChallengeGone) // another request completed it
		}
		if previousToken != "" {
			if err := deleteToken(sys, c, previousToken); err != nil {
				return err
			}
		}
		if _, err := c.LoginFailure.Delete().Where(loginfailure.Account(acc.Account), loginfailure.IDLTE(attempt)).Exec(sys); err != nil {
			return err
		}
		if trust && device != "" {
			if err := s.trust(sys, c, acc.ID, device, ci); err != nil {
				return err
			}
		}
		token, expires, err := s.createSession(sys, c, acc.ID, ch.Remember, ci)
		if err != nil {
			return err
		}
		res = LoginResult{Token: token, ExpiresAt: expires, Remember: ch.Remember}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res.Principal, err = s.Authenticate(ctx, res.Token); err != nil || res.Principal == nil {
		return nil, fmt.Errorf("auth: new session not found: %w", err)
	}
	s.logger.InfoContext(ctx, "login", "account", acc.Account, "ip", ci.IP, "second_factor", true, "trust_device", trust)
	return &res, nil
}

// trust remembers device for accountID for TrustFor.
func (s *Service) trust(ctx context.Context, c *ent.Client, accountID int, device string, ci ClientInfo) error {
	h := hashToken(device)
	if _, err := c.TrustedDevice.Delete().Where(trusteddevice.AccountID(accountID), trusteddevice.DeviceHash(h)).Exec(ctx); err != nil {
		return err
	}
	now := s.now()
	return c.TrustedDevice.Create().SetAccountID(accountID).SetDeviceHash(h).
		SetIP(truncate(ci.IP, 64)).SetUserAgent(truncate(ci.UserAgent, 256)).
		SetCreatedAt(now).SetExpiresAt(now.Add(TrustFor)).Exec(ctx)
}

// purgeChallenges deletes expired challenges and remembered devices.
func (s *Service) purgeChallenges(ctx context.Context, now time.Time) error {
	if _, err := s.db.LoginChallenge.Delete().Where(loginchallenge.ExpiresAtLT(now)).Exec(ctx); err != nil {
		return fmt.Errorf("auth: purge challenges: %w", err)
	}
	if _, err := s.db.TrustedDevice.Delete().Where(trusteddevice.ExpiresAtLT(now)).Exec(ctx); err != nil {
		return fmt.Errorf("auth: purge devices: %w", err)
	}
	return nil
}
