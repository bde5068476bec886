// Package recovery lets console accounts recover and prove their contact
// details: 忘记密码 from the login page by an SMS code to the bound phone or a
// one-time link to the bound e-mail, and 替换手机 / 替换邮箱, which take effect
// only with the current password and a code sent to the new phone or
// address. Every request answers the same whether or not the account exists
// or has somewhere to send to.
package recovery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/ent/recoverycode"
	"linli/internal/errs"
	"linli/internal/mail"
	"linli/internal/store"
)

// Limits of codes and links. They are part of the product's behaviour.
const (
	CodeTTL         = 5 * time.Minute  // an SMS or e-mail code
	LinkTTL         = 30 * time.Minute // a password-reset link
	CodeAttempts    = 5                // wrong tries before a code is spent
	CodeGap         = time.Minute      // between two requests for one account
	CodesPerDay     = 10               // per account
	CodesPerHourIP  = 20               // per client address
	CodesPerHourTo  = 20               // per phone or e-mail address sent to
	sendTimeout     = mail.Timeout + 5*time.Second
	maxAccountInput = 64
)

// SMSSender delivers a code to a mobile phone: the same pluggable sender the
// residents' app signs in with.
type SMSSender interface {
	Send(ctx context.Context, phone, code string) error
}

// MailSender delivers an e-mail.
type MailSender interface {
	Send(ctx context.Context, m mail.Message) error
}

// Service sends codes and links and applies them.
type Service struct {
	db     *store.Store
	auth   *auth.Service
	sms    SMSSender
	mail   MailSender
	logger *slog.Logger
	now    func() time.Time
	// publicURL is where reset links lead; the address a request came to
	// when it is empty.
	publicURL string
	// sending tracks deliveries, which run after the answer so that it
	// takes as long whether or not anything is sent.
	sending sync.WaitGroup
}

// NewService returns a Service that sends with sms and mailer; reset links
// lead to publicURL, or to the address the request came to when it is
// empty.
func NewService(db *store.Store, authn *auth.Service, sms SMSSender, mailer MailSender, publicURL string, logger *slog.Logger) *Service {
	return &Service{db: db, auth: authn, sms: sms, mail: mailer, publicURL: publicURL, logger: logger, now: time.Now}
}

// Close waits for deliveries under way (each is bounded by a timeout).
func (s *Service) Close() { s.sending.Wait() }

// deliver runs send in the background, owned by s, and logs its failure.
func (s *Service) deliver(ctx context.Context, what string, send func(ctx context.Context) error) {
	ctx = context.WithoutCancel(ctx)
	s.sending.Add(1)
	go func() {
		defer s.sending.Done()
		ctx, cancel := context.WithTimeout(ctx, sendTimeout)
		defer cancel()
		if err := send(ctx); err != nil {
			s.logger.ErrorContext(ctx, "recovery: delivery failed", "what", what, "err", err)
		}
	}()
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// codeHash binds a code to the account and purpose it was sent for.
func codeHash(account string, purpose recoverycode.Purpose, code string) string {
	return hash(account + ":" + string(purpose) + ":" + code)
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func newLinkToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// reserve checks the limits of account name and address ip under a lock of
// both, inside tx, before a code is recorded there.
func (s *Service) reserve(ctx context.Context, tx *ent.Tx, name, ip string, now time.Time) error {
	if err := s.db.Lock(ctx, tx, "recovery-account:"+name, "recovery-ip:"+ip); err != nil {
		return err
	}
	if n, err := tx.RecoveryCode.Query().Where(recoverycode.IP(ip), recoverycode.CreatedAtGT(now.Add(-time.Hour))).Count(ctx); err != nil {
		return err
	} else if n >= CodesPerHourIP {
		return errs.New(errs.TooMany, "获取验证码过于频繁，请一小时后再试")
	}
	recent, err := tx.RecoveryCode.Query().Where(recoverycode.Account(name), recoverycode.CreatedAtGT(now.Add(-24*time.Hour))).
		Order(ent.Desc(recoverycode.FieldCreatedAt)).All(ctx)
	if err != nil {
		return err
	}
	if len(recent) >= CodesPerDay {
		return errs.New(errs.TooMany, "该账号今天获取验证码的次数已用完，请明天再试")
	}
	if len(recent) > 0 && now.Sub(recent[0].CreatedAt) < CodeGap {
		return errs.Newf(errs.TooMany, "该账号 1 分钟内只能获取一次验证码，请 %d 秒后再试", int((CodeGap-now.Sub(recent[0].CreatedAt)).Seconds())+1)
	}
	return nil
}

// busyTarget reports whether CodesPerHourTo codes or links already went to
// target (a phone or e-mail address) within the hour. It runs in tx under a
// lock of target.
func (s *Service) busyTarget(ctx context.Context, tx *ent.Tx, target string, now time.Time) (bool, error) {
	if err := s.db.Lock(ctx, tx, "recovery-target:"+target); err != nil {
		return false, err
	}
	n, err := tx.RecoveryCode.Query().Where(recoverycode.Target(target), recoverycode.SecretHashNEQ(""),
		recoverycode.CreatedAtGT(now.Add(-time.Hour))).Count(ctx)
	return n >= CodesPerHourTo, err
}

// checkCode counts an attempt at the newest live code of purpose matching
// where, then compares it. It returns the code's row when it matches.
func (s *Service) checkCode(ctx context.Context, name string, purpose recoverycode.Purpose, code string, wrong error, where ...func(*ent.RecoveryCodeQuery)) (*ent.RecoveryCode, error) {
	sys := actor.AsSystem(ctx)
	q := s.db.RecoveryCode.Query().Where(recoverycode.Account(name), recoverycode.PurposeEQ(purpose),
		recoverycode.Used(false), recoverycode.ExpiresAtGT(s.now()), recoverycode.SecretHashNEQ(""))
	for _, w := range where {
		w(q)
	}
	c, err := q.Order(ent.Desc(recoverycode.FieldCreatedAt)).First(sys)
	if ent.IsNotFound(err) {
		return nil, wrong
	}
	if err != nil {
		return nil, err
	}
	// The attempt is counted before the code is compared, in one statement,
	// so that concurrent guesses cannot pass the limit.
	n, err := s.db.RecoveryCode.Update().Where(recoverycode.ID(c.ID), recoverycode.AttemptsLT(CodeAttempts)).AddAttempts(1).Save(sys)
	if err != nil {
		return nil, err
	}
	if n == 0 || !equalHash(c.SecretHash, codeHash(name, purpose, code)) {
		return nil, wrong
	}
	return c, nil
}

// use spends code c inside tx; it fails when another request spent it first.
func use(ctx context.Context, tx *ent.Tx, c *ent.RecoveryCode, spent error) error {
	n, err := tx.RecoveryCode.Update().Where(recoverycode.ID(c.ID), recoverycode.Used(false)).SetUsed(true).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return spent
	}
	return nil
}

// Purge deletes codes older than a day (the limits look back one day).
func (s *Service) Purge(ctx context.Context) error {
	_, err := s.db.RecoveryCode.Delete().Where(recoverycode.CreatedAtLT(s.now().Add(-25 * time.Hour))).Exec(actor.AsSystem(ctx))
	return err
}
