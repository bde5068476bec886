// Package ownerapp is the residents' app API (/app/v1): residents sign in
// with their phone number and a code sent by SMS, then read the notices of
// their communities and rooms and mark them read. A phone registered in
// several rooms is one app account.
package ownerapp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/appcode"
	"linli/internal/ent/appsession"
	"linli/internal/ent/resident"
	"linli/internal/errs"
	"linli/internal/household"
	"linli/internal/phone"
	"linli/internal/secret"
	"linli/internal/store"
	"linli/internal/validate"
)

// Limits of sign-in codes.
const (
	CodeTTL         = 5 * time.Minute
	CodeAttempts    = 5
	CodeGap         = time.Minute // between two codes to one phone
	CodesPerDay     = 10          // per phone
	CodesPerHourIP  = 20
	SessionLifetime = 30 * 24 * time.Hour
)

// Sender delivers a sign-in code to a phone (an SMS gateway).
type Sender interface {
	Send(ctx context.Context, phone, code string) error
}

// LogSender writes codes to the server log instead of sending them, for
// installations without an SMS gateway.
type LogSender struct{ Logger *slog.Logger }

// Send logs the code.
func (l LogSender) Send(ctx context.Context, p, code string) error {
	l.Logger.InfoContext(ctx, "app sign-in code (no SMS gateway configured)", "phone", phone.Mask(p), "code", code)
	return nil
}

// Service signs residents in and serves their app.
type Service struct {
	db     *store.Store
	box    *secret.Box
	sender Sender
	logger *slog.Logger
	now    func() time.Time
	// doors opens doors remotely; openTimeout bounds the wait for a device.
	doors       Doors
	openTimeout time.Duration
	snapshots   Snapshots
}

// NewService returns a Service that sends codes with sender; box seals the
// SIP passwords of app installations. Options give it what remote opening
// and call records need.
func NewService(db *store.Store, box *secret.Box, sender Sender, logger *slog.Logger, opts ...Option) *Service {
	s := &Service{db: db, box: box, sender: sender, logger: logger, now: time.Now, openTimeout: DefaultOpenTimeout}
	for _, o := range opts {
		o(s)
	}
	return s
}

// randomToken returns n random bytes as URL-safe text.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// communities returns the communities where phone p is a registered resident
// whose access has not ended.
func (s *Service) communities(ctx context.Context, p string) ([]int, error) {
	return s.db.Resident.Query().Where(resident.Phone(p), household.Current(s.now())).Unique(true).Select(resident.FieldCommunityID).Ints(actor.AsSystem(ctx))
}

// SendCode sends a sign-in code to phone raw, requested from ip.
//
// Errors: errs.Invalid (not a mobile number), errs.Forbidden (not a
// registered resident), errs.TooMany.
func (s *Service) SendCode(ctx context.Context, raw, ip string) error {
	p, err := phone.Parse(raw)
	if err != nil {
		return errs.Field("phone", err.Error())
	}
	sys := actor.AsSystem(ctx)
	now := s.now()
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	unknown := false
	// The limits are checked and the code recorded under one lock of the
	// phone and the address, so that concurrent requests cannot pass them.
	err = s.db.InTx(sys, func(tx *ent.Tx) error {
		if err := s.db.Lock(sys, tx, "sms-phone:"+p, "sms-ip:"+ip); err != nil {
			return err
		}
		if n, err := tx.AppCode.Query().Where(appcode.IP(ip), appcode.CreatedAtGT(now.Add(-time.Hour))).Count(sys); err != nil {
			return err
		} else if n >= CodesPerHourIP {
			return errs.New(errs.TooMany, "获取验证码过于频繁，请一小时后再试")
		}
		recent, err := tx.AppCode.Query().Where(appcode.Phone(p), appcode.CreatedAtGT(now.Add(-24*time.Hour))).
			Order(ent.Desc(appcode.FieldCreatedAt)).All(sys)
		if err != nil {
			return err
		}
		if len(recent) >= CodesPerDay {
			return errs.New(errs.TooMany, "该手机号今天获取验证码的次数已用完，请明天再试")
		}
		if len(recent) > 0 && now.Sub(recent[0].CreatedAt) < CodeGap {
			return errs.Newf(errs.TooMany, "验证码已发送，请 %d 秒后再获取", int((CodeGap-now.Sub(recent[0].CreatedAt)).Seconds())+1)
		}
		cs, err := s.communities(ctx, p)
		if err != nil {
			return err
		}
		// A number that is not a resident's is told so, but the request is
		// kept (spent, under no phone) so that it counts towards the
		// address's limit: nobody can try numbers one after another to learn
		// who lives here. The number itself is not held back: invited a
		// moment later, its owner gets a code at once.
		if len(cs) == 0 {
			unknown = true
			return tx.AppCode.Create().SetPhone("").SetCodeHash("").SetIP(ip).SetExpiresAt(now).SetCreatedAt(now).SetUsed(true).Exec(sys)
		}
		return tx.AppCode.Create().SetPhone(p).SetCodeHash(hash(p + ":" + code)).SetIP(ip).SetExpiresAt(now.Add(CodeTTL)).SetCreatedAt(now).Exec(sys)
	})
	if err != nil {
		return err
	}
	if unknown {
		return errs.New(errs.Forbidden, "该手机号不是已登记的业主，请联系物业登记后再使用")
	}
	return s.sender.Send(ctx, p, code)
}

// Session is a resident's app sign-in.
type Session struct {
	Token     string      `json:"token" doc:"之后的请求带上 Authorization: Bearer <token>"`
	ExpiresAt time.Time   `json:"expires_at"`
	SIP       *SIPAccount `json:"sip,omitempty" doc:"本 APP 的 SIP 账号（有 APP呼叫 权限时）；也可随时用 GET /app/v1/sip 获取"`
}

// SignIn checks the code sent to phone raw and opens a session.
//
// Errors: errs.Invalid, errs.Unauthorized (wrong, used or expired code).
func (s *Service) SignIn(ctx context.Context, raw, code string) (*Session, error) {
	return s.SignInDevice(ctx, raw, code, "")
}

// SignInDevice is SignIn from the phone the app calls deviceName (shown in
// the list of signed-in devices).
//
// Errors: errs.Invalid, errs.Unauthorized (wrong, used or expired code).
func (s *Service) SignInDevice(ctx context.Context, raw, code, deviceName string) (*Session, error) {
	deviceName = strings.TrimSpace(deviceName)
	if len([]rune(deviceName)) > 64 {
		return nil, errs.Field("device_name", "设备名称最多 64 个字符")
	}
	if err := validate.Visible("device_name", "设备名称", deviceName); err != nil {
		return nil, err
	}
	p, err := phone.Parse(raw)
	if err != nil {
		return nil, errs.Field("phone", err.Error())
	}
	code = strings.TrimSpace(code)
	sys := actor.AsSystem(ctx)
	now := s.now()
	c, err := s.db.AppCode.Query().Where(appcode.Phone(p), appcode.Used(false), appcode.ExpiresAtGT(now)).
		Order(ent.Desc(appcode.FieldCreatedAt)).First(sys)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.Unauthorized, "验证码已过期或未获取，请重新获取")
	}
	if err != nil {
		return nil, err
	}
	// The attempt is counted before the code is compared, in one statement,
	// so that concurrent guesses cannot pass the limit.
	n, err := s.db.AppCode.Update().Where(appcode.ID(c.ID), appcode.AttemptsLT(CodeAttempts)).AddAttempts(1).Save(sys)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errs.New(errs.Unauthorized, "验证码错误次数过多，请重新获取")
	}
	if subtle.ConstantTimeCompare([]byte(c.CodeHash), []byte(hash(p+":"+code))) != 1 {
		return nil, errs.New(errs.Unauthorized, "验证码错误")
	}
	// Used once: a second sign-in with the same code fails.
	n, err = s.db.AppCode.Update().Where(appcode.ID(c.ID), appcode.Used(false)).SetUsed(true).Save(sys)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errs.New(errs.Unauthorized, "验证码已使用，请重新获取")
	}
	token := randomToken(32)
	sess := &Session{Token: token, ExpiresAt: now.Add(SessionLifetime)}
	if err := s.db.AppSession.Create().SetTokenHash(hash(token)).SetPhone(p).SetExpiresAt(sess.ExpiresAt).SetCreatedAt(now).
		SetDeviceName(deviceName).SetSipPasswordSealed(s.box.Seal(newSIPPassword())).Exec(sys); err != nil {
		return nil, err
	}
	acc, err := s.SIP(ctx, "Bearer "+token)
	if err != nil && !errors.Is(err, errs.ErrForbidden) {
		return nil, err
	}
	sess.SIP = acc
	return sess, nil
}

// Resolve authenticates an app request's bearer token and returns a context
// acting as that resident, seeing the communities where the phone is
// registered now.
//
// Errors: errs.Unauthorized.
func (s *Service) Resolve(ctx context.Context, authorization string) (context.Context, error) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || len(token) > 100 {
		return ctx, errs.New(errs.Unauthorized, "请先登录：请求头应为 Authorization: Bearer <token>")
	}
	sess, err := s.db.AppSession.Query().Where(appsession.TokenHash(hash(strings.TrimSpace(token)))).Only(actor.AsSystem(ctx))
	if ent.IsNotFound(err) || err == nil && !s.now().Before(sess.ExpiresAt) {
		return ctx, errs.New(errs.Unauthorized, "登录已失效，请重新登录")
	}
	if err != nil {
		return ctx, err
	}
	cs, err := s.communities(ctx, sess.Phone)
	if err != nil {
		return ctx, err
	}
	return actor.With(ctx, actor.Actor{Kind: actor.Resident, Phone: sess.Phone, Communities: cs}), nil
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, authorization string) error {
	token, _ := strings.CutPrefix(authorization, "Bearer ")
	_, err := s.db.AppSession.Delete().Where(appsession.TokenHash(hash(strings.TrimSpace(token)))).Exec(actor.AsSystem(ctx))
	return err
}

// Purge deletes expired sessions and codes older than a day.
func (s *Service) Purge(ctx context.Context) error {
	sys := actor.AsSystem(ctx)
	now := s.now()
	if _, err := s.db.AppSession.Delete().Where(appsession.ExpiresAtLT(now)).Exec(sys); err != nil {
		return err
	}
	_, err := s.db.AppCode.Delete().Where(appcode.CreatedAtLT(now.Add(-24 * time.Hour))).Exec(sys)
	return err
}
