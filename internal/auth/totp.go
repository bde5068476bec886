package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/account"
	"linli/internal/ent/backupcode"
	"linli/internal/ent/trusteddevice"
	"linli/internal/errs"
)

// Authenticator apps (身份验证器): RFC 6238 codes of 6 digits every 30 s,
// SHA-1, as every common app (Google Authenticator, Microsoft
// Authenticator, 腾讯身份验证器) reads them from the QR code.
const (
	totpIssuer      = "邻里物业"
	totpPeriod      = 30
	BackupCodeCount = 10
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Enrolment is an authenticator being enrolled: what the app scans.
type Enrolment struct {
	Secret string // base32, for typing in by hand
	URI    string // otpauth://totp/…
	QRCode string // the URI as a PNG data URL
}

// StartTOTP makes a new authenticator secret for p and keeps it, sealed,
// until ConfirmTOTP proves the app has it.
//
// Errors: errs.Conflict when an authenticator is already enrolled.
func (s *Service) StartTOTP(ctx context.Context, p *Principal) (*Enrolment, error) {
	sys := actor.AsSystem(ctx)
	acc, err := s.db.Account.Get(sys, p.Account.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: load account: %w", err)
	}
	if hasTOTP(acc) {
		return nil, errs.New(errs.Conflict, "已绑定身份验证器；如需更换手机，请先解除绑定再重新绑定")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: acc.Account,
		Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("auth: totp key: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("auth: totp qr: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("auth: totp qr: %w", err)
	}
	if err := s.db.Account.UpdateOneID(acc.ID).SetTotpPending(s.box.Seal(key.Secret())).Exec(sys); err != nil {
		return nil, fmt.Errorf("auth: keep totp secret: %w", err)
	}
	return &Enrolment{Secret: key.Secret(), URI: key.URL(),
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// ConfirmTOTP enrols the pending authenticator of p when code is one of its
// current codes, and returns the account's new recovery codes (shown once).
//
// Errors: errs.Invalid (wrong code, nothing pending).
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string) ([]string, error) {
	sys := actor.AsSystem(ctx)
	acc, err := s.db.Account.Get(sys, p.Account.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: load account: %w", err)
	}
	if acc.TotpPending == nil || len(*acc.TotpPending) == 0 {
		return nil, errs.Field("code", "请先点击“绑定身份验证器”并扫描二维码")
	}
	secret, err := s.box.Open(*acc.TotpPending)
	if err != nil {
		return nil, fmt.Errorf("auth: open totp secret: %w", err)
	}
	step, ok := matchTOTP(secret, code, s.now())
	if !ok {
		return nil, errs.Field("code", "验证码不正确：请输入身份验证器中显示的 6 位数字，并确认手机时间准确")
	}
	codes := newBackupCodes()
	err = s.db.InTx(sys, func(tx *ent.Tx) error {
		n, err := tx.Account.Update().Where(account.ID(acc.ID), account.TotpSecretIsNil()).
			SetTotpSecret(*acc.TotpPending).ClearTotpPending().SetTotpLastStep(step).Save(sys)
		if err != nil {
			return err
		}
		if n == 0 {
			return errs.New(errs.Conflict, "已绑定身份验证器")
		}
		return s.replaceBackupCodes(sys, tx.Client(), acc.ID, codes)
	})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "audit", "action", "totp_enrolled", "account", acc.Account)
	return codes, nil
}

// RemoveTOTP unenrols p's authenticator after checking p's password.
//
// Errors: errs.Invalid (wrong password, none enrolled), errs.Conflict when
// the account would be left unable to sign in to a community that requires
// a second factor.
func (s *Service) RemoveTOTP(ctx context.Context, p *Principal, pw string) error {
	acc, err := s.checkedAccount(ctx, p, pw)
	if err != nil {
		return err
	}
	if !hasTOTP(acc) {
		return errs.New(errs.Invalid, "尚未绑定身份验证器")
	}
	if _, byCommunity, err := s.secondFactorRequired(ctx, acc); err != nil {
		return err
	} else if byCommunity && acc.Phone == "" && acc.Email == "" {
		return errs.New(errs.Conflict, "所在小区要求登录验证：请先绑定手机或邮箱，再解除身份验证器")
	}
	return s.clearTOTP(ctx, acc.ID)
}

// NewBackupCodes replaces p's recovery codes after checking p's password.
//
// Errors: errs.Invalid (wrong password, no authenticator).
func (s *Service) NewBackupCodes(ctx context.Context, p *Principal, pw string) ([]string, error) {
	acc, err := s.checkedAccount(ctx, p, pw)
	if err != nil {
		return nil, err
	}
	if !hasTOTP(acc) {
		return nil, errs.New(errs.Invalid, "恢复码随身份验证器使用：请先绑定身份验证器")
	}
	codes := newBackupCodes()
	sys := actor.AsSystem(ctx)
	err = s.db.InTx(sys, func(tx *ent.Tx) error { return s.replaceBackupCodes(sys, tx.Client(), acc.ID, codes) })
	return codes, err
}

// SetLoginCheck turns 新设备登录验证 on or off for p after checking p's
// password.
//
// Errors: errs.Invalid (wrong password, nowhere to send a code),
// errs.Conflict (an authenticator or the community keeps it on).
func (s *Service) SetLoginCheck(ctx context.Context, p *Principal, on bool, pw string) (*ent.Account, error) {
	acc, err := s.checkedAccount(ctx, p, pw)
	if err != nil {
		return nil, err
	}
	if on && len(methodsOf(acc)) == 0 {
		return nil, errs.New(errs.Invalid, "请先绑定手机、邮箱或身份验证器，才能开启新设备登录验证")
	}
	if !on {
		if hasTOTP(acc) {
			return nil, errs.New(errs.Conflict, "已绑定身份验证器，新设备登录总需验证；如需关闭请先解除绑定")
		}
		if _, byCommunity, err := s.secondFactorRequired(ctx, acc); err != nil {
			return nil, err
		} else if byCommunity {
			return nil, errs.New(errs.Conflict, "所在小区要求登录验证，不能关闭")
		}
	}
	return s.db.Account.UpdateOneID(acc.ID).SetLoginCheck(on).Save(actor.AsSystem(ctx))
}

// ResetSecondFactor is the operator's help for a staff member who lost the
// phone with the authenticator: it removes the authenticator, the recovery
// codes, every remembered browser and 新设备登录验证 of account id. A
// community that requires a second factor still asks for a code by SMS or
// e-mail.
//
// Errors: errs.NotFound.
func (s *Service) ResetSecondFactor(ctx context.Context, id int) error {
	sys := actor.AsSystem(ctx)
	if _, err := s.db.Account.Get(sys, id); ent.IsNotFound(err) {
		return errs.New(errs.NotFound, "账号不存在")
	} else if err != nil {
		return err
	}
	if err := s.clearTOTP(ctx, id); err != nil {
		return err
	}
	err := s.db.Account.UpdateOneID(id).SetLoginCheck(false).Exec(sys)
	if err != nil {
		return fmt.Errorf("auth: reset login check: %w", err)
	}
	_, err = s.db.TrustedDevice.Delete().Where(trusteddevice.AccountID(id)).Exec(sys)
	return err
}

// TwoFactorStatus is what 个人信息中心 shows of an account's 登录验证.
type TwoFactorStatus struct {
	TOTP            bool // an authenticator is enrolled
	LoginCheck      bool // a new browser needs a second factor
	Required        bool // …because a community of the account requires it
	BackupCodesLeft int
	TrustedDevices  int // browsers remembered now
}

// TwoFactor returns the 登录验证 status of p.
func (s *Service) TwoFactor(ctx context.Context, p *Principal) (*TwoFactorStatus, error) {
	sys := actor.AsSystem(ctx)
	acc, err := s.db.Account.Get(sys, p.Account.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: load account: %w", err)
	}
	need, byCommunity, err := s.secondFactorRequired(ctx, acc)
	if err != nil {
		return nil, err
	}
	st := &TwoFactorStatus{TOTP: hasTOTP(acc), LoginCheck: need, Required: byCommunity}
	if st.BackupCodesLeft, err = s.db.BackupCode.Query().Where(backupcode.AccountID(acc.ID), backupcode.Used(false)).Count(sys); err != nil {
		return nil, err
	}
	st.TrustedDevices, err = s.db.TrustedDevice.Query().Where(trusteddevice.AccountID(acc.ID), trusteddevice.ExpiresAtGT(s.now())).Count(sys)
	return st, err
}

// ForgetDevices ends 记住此设备 on every browser of p.
func (s *Service) ForgetDevices(ctx context.Context, p *Principal) error {
	_, err := s.db.TrustedDevice.Delete().Where(trusteddevice.AccountID(p.Account.ID)).Exec(actor.AsSystem(ctx))
	return err
}

// CheckTOTP returns a CodeCheck that accepts a current code of acc's
// authenticator, each time step at most once.
func (s *Service) CheckTOTP(code string) CodeCheck {
	return func(ctx context.Context, acc *ent.Account) (bool, error) {
		if !hasTOTP(acc) {
			return false, nil
		}
		secret, err := s.box.Open(*acc.TotpSecret)
		if err != nil {
			return false, fmt.Errorf("auth: open totp secret: %w", err)
		}
		step, ok := matchTOTP(secret, code, s.now())
		if !ok {
			return false, nil
		}
		// A code is accepted once: a newer step moves the mark in one
		// statement, so two requests with one code cannot both pass.
		n, err := s.db.Account.Update().Where(account.ID(acc.ID), account.TotpLastStepLT(step)).
			SetTotpLastStep(step).Save(actor.AsSystem(ctx))
		return n == 1, err
	}
}

// CheckBackupCode returns a CodeCheck that accepts and spends one of acc's
// unused recovery codes.
func (s *Service) CheckBackupCode(code string) CodeCheck {
	return func(ctx context.Context, acc *ent.Account) (bool, error) {
		c := normalizeBackupCode(code)
		if len(c) != 10 {
			return false, nil
		}
		n, err := s.db.BackupCode.Update().
			Where(backupcode.AccountID(acc.ID), backupcode.CodeHash(backupHash(acc.ID, c)), backupcode.Used(false)).
			SetUsed(true).Save(actor.AsSystem(ctx))
		return n == 1, err
	}
}

// matchTOTP finds the time step, within one step of now, whose code is code.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	for _, skew := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(skew*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

func (s *Service) checkedAccount(ctx context.Context, p *Principal, pw string) (*ent.Account, error) {
	acc, err := s.db.Account.Get(actor.AsSystem(ctx), p.Account.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: load account: %w", err)
	}
	if err := s.VerifyPassword(ctx, acc, pw, ClientIP(ctx)); err != nil {
		return nil, err
	}
	return acc, nil
}

func (s *Service) clearTOTP(ctx context.Context, id int) error {
	sys := actor.AsSystem(ctx)
	return s.db.InTx(sys, func(tx *ent.Tx) error {
		if err := tx.Account.UpdateOneID(id).ClearTotpSecret().ClearTotpPending().SetTotpLastStep(0).Exec(sys); err != nil {
			return err
		}
		_, err := tx.BackupCode.Delete().Where(backupcode.AccountID(id)).Exec(sys)
		return err
	})
}

func (s *Service) replaceBackupCodes(ctx context.Context, c *ent.Client, accountID int, codes []string) error {
	if _, err := c.BackupCode.Delete().Where(backupcode.AccountID(accountID)).Exec(ctx); err != nil {
		return err
	}
	now := s.now()
	for _, code := range codes {
		err := c.BackupCode.Create().SetAccountID(accountID).SetCodeHash(backupHash(accountID, normalizeBackupCode(code))).
			SetCreatedAt(now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("auth: store recovery code: %w", err)
		}
	}
	return nil
}

// backupAlphabet leaves out letters and digits that are read alike (0/O, 1/I/L).
const backupAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// newBackupCodes returns BackupCodeCount codes like 7KQ4M-XR29P.
func newBackupCodes() []string {
	codes := make([]string, BackupCodeCount)
	limit := byte(256 / len(backupAlphabet) * len(backupAlphabet)) // no bias towards the first letters
	one := make([]byte, 1)
	for i := range codes {
		var sb strings.Builder
		for sb.Len() < 11 {
			if sb.Len() == 5 {
				sb.WriteByte('-')
			}
			for {
				_, _ = rand.Read(one)
				if one[0] < limit {
					break
				}
			}
			sb.WriteByte(backupAlphabet[int(one[0])%len(backupAlphabet)])
		}
		codes[i] = sb.String()
	}
	return codes
}

func normalizeBackupCode(c string) string {
	c = strings.ToUpper(c)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, c)
}

func backupHash(accountID int, code string) string {
	return hashToken(fmt.Sprintf("%d:%s", accountID, code))
}

// hasTOTP reports whether acc has enrolled an authenticator.
func hasTOTP(acc *ent.Account) bool { return acc.TotpSecret != nil && len(*acc.TotpSecret) > 0 }
