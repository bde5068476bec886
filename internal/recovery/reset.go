package recovery

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	entaccount "linli/internal/ent/account"
	"linli/internal/ent/recoverycode"
	"linli/internal/errs"
	"linli/internal/mail"
	"linli/internal/password"
	"linli/internal/phone"
)

// Methods of 忘记密码.
const (
	BySMS   = "sms"
	ByEmail = "email"
)

// The answers to a reset request: the same whether or not the account
// exists or has a phone or e-mail.
const (
	MsgSentSMS   = "如果账号存在，验证码已发送到该账号绑定的手机，5 分钟内有效。未绑定手机的账号请改用邮箱找回；手机和邮箱都未绑定的账号请联系平台管理员重置密码。"
	MsgSentEmail = "如果账号存在，重置密码的链接已发送到该账号绑定的邮箱，30 分钟内有效。未绑定邮箱的账号请改用手机找回；手机和邮箱都未绑定的账号请联系平台管理员重置密码。"
	msgWrongCode = "验证码错误或已过期，请重新获取"
	msgBadLink   = "链接无效或已过期，请重新找回密码"
)

// RequestReset sends a reset code (BySMS) or link (ByEmail) for account name
// to its bound phone or e-mail, if it has one; baseURL is where the link
// leads (the console's address). The answer is the same in every case.
//
// Errors: errs.Invalid (no account name, unknown method), errs.TooMany.
func (s *Service) RequestReset(ctx context.Context, name, method, ip, baseURL string) (string, error) {
	name = auth.NormalizeAccount(name)
	if name == "" || len(name) > maxAccountInput {
		return "", errs.Field("account", "请输入账号")
	}
	purpose, answer := recoverycode.PurposeResetSms, MsgSentSMS
	switch method {
	case BySMS:
	case ByEmail:
		purpose, answer = recoverycode.PurposeResetEmail, MsgSentEmail
	default:
		return "", errs.Field("method", "找回方式只能是 sms（手机验证码）或 email（邮箱链接）")
	}
	sys := actor.AsSystem(ctx)
	now := s.now()
	var send func(ctx context.Context) error
	err := s.db.InTx(sys, func(tx *ent.Tx) error {
		if err := s.reserve(sys, tx, name, ip, now); err != nil {
			return err
		}
		acc, err := tx.Account.Query().Where(entaccount.Account(name)).Only(sys)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		row := tx.RecoveryCode.Create().SetAccount(name).SetPurpose(purpose).SetIP(ip).SetCreatedAt(now)
		if acc == nil || acc.Disabled {
			// Recorded without a secret: it counts towards the limits.
			return row.SetExpiresAt(now).Exec(sys)
		}
		row.SetAccountID(acc.ID)
		switch purpose {
		case recoverycode.PurposeResetSms:
			p, err := phone.Parse(acc.Phone)
			if err != nil {
				return row.SetExpiresAt(now).Exec(sys)
			}
			// A flooded phone gets nothing more, and the answer stays the same.
			if busy, err := s.busyTarget(sys, tx, p, now); err != nil || busy {
				return errors.Join(err, row.SetExpiresAt(now).Exec(sys))
			}
			code, err := newCode()
			if err != nil {
				return err
			}
			send = func(ctx context.Context) error { return s.sms.Send(ctx, p, code) }
			return row.SetTarget(p).SetSecretHash(codeHash(name, purpose, code)).SetExpiresAt(now.Add(CodeTTL)).Exec(sys)
		default:
			if acc.Email == "" {
				return row.SetExpiresAt(now).Exec(sys)
			}
			if busy, err := s.busyTarget(sys, tx, acc.Email, now); err != nil || busy {
				return errors.Join(err, row.SetExpiresAt(now).Exec(sys))
			}
			token := newLinkToken()
			link := strings.TrimRight(baseURL, "/") + "/reset-password?token=" + token
			m := resetMail(acc, link)
			send = func(ctx context.Context) error { return s.mail.Send(ctx, m) }
			return row.SetTarget(acc.Email).SetSecretHash(hash(token)).SetExpiresAt(now.Add(LinkTTL)).Exec(sys)
		}
	})
	if err != nil {
		return "", err
	}
	if send != nil {
		s.deliver(ctx, "password reset "+method, send)
	}
	return answer, nil
}

// ResetWithCode sets account name's password to newPW with the SMS code sent
// for it, and ends all its sessions.
//
// Errors: errs.Invalid (wrong, spent or expired code; a password against the policy).
func (s *Service) ResetWithCode(ctx context.Context, name, code, newPW, ip string) error {
	name = auth.NormalizeAccount(name)
	wrong := errs.Field("code", msgWrongCode)
	if name == "" || len(name) > maxAccountInput {
		return errs.Field("account", "请输入账号")
	}
	c, err := s.checkCode(ctx, name, recoverycode.PurposeResetSms, strings.TrimSpace(code), wrong)
	if err != nil {
		return err
	}
	return s.reset(ctx, c, newPW, ip, "sms", wrong)
}

// ResetWithLink sets the password of the account a reset link was sent for,
// and ends all its sessions. The link works once, for LinkTTL.
//
// Errors: errs.Invalid (unknown, spent or expired link; a password against the policy).
func (s *Service) ResetWithLink(ctx context.Context, token, newPW, ip string) error {
	bad := errs.Field("token", msgBadLink)
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 128 {
		return bad
	}
	c, err := s.db.RecoveryCode.Query().Where(recoverycode.SecretHash(hash(token)), recoverycode.PurposeEQ(recoverycode.PurposeResetEmail),
		recoverycode.Used(false), recoverycode.ExpiresAtGT(s.now())).Only(actor.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return bad
	}
	if err != nil {
		return err
	}
	return s.reset(ctx, c, newPW, ip, "email", bad)
}

// reset applies newPW to the account of the valid code c.
func (s *Service) reset(ctx context.Context, c *ent.RecoveryCode, newPW, ip, method string, spent error) error {
	sys := actor.AsSystem(ctx)
	acc, err := s.db.Account.Get(sys, c.AccountID)
	if ent.IsNotFound(err) {
		return spent
	}
	if err != nil {
		return err
	}
	who, err := s.auth.PasswordPersonal(sys, acc)
	if err != nil {
		return err
	}
	if reason := password.Check(newPW, who); reason != "" {
		// A good code with a weak password is not a wrong guess.
		_ = s.db.RecoveryCode.UpdateOneID(c.ID).AddAttempts(-1).Exec(sys)
		return errs.Field("new_password", reason)
	}
	hashed, err := password.Hash(newPW)
	if err != nil {
		return err
	}
	err = s.db.InTx(sys, func(tx *ent.Tx) error {
		if err := use(sys, tx, c, spent); err != nil {
			return err
		}
		// Every other code and link of the account is spent with it.
		if _, err := tx.RecoveryCode.Update().Where(recoverycode.AccountID(acc.ID), recoverycode.Used(false),
			recoverycode.PurposeIn(recoverycode.PurposeResetSms, recoverycode.PurposeResetEmail)).SetUsed(true).Save(sys); err != nil {
			return err
		}
		if err := tx.Account.UpdateOneID(acc.ID).SetPasswordHash(hashed).SetMustChangePassword(false).
			SetPasswordChangedAt(s.now()).SetUpdatedAt(s.now()).Exec(sys); err != nil {
			return err
		}
		if err := auth.ForgiveFailures(sys, tx.Client(), acc.Account); err != nil {
			return err
		}
		return auth.KillSessions(sys, tx.Client(), acc.ID)
	})
	if err != nil {
		return fmt.Errorf("recovery: reset password: %w", err)
	}
	s.logger.InfoContext(ctx, "audit", "action", "password_reset", "account", acc.Account, "account_id", acc.ID,
		"method", method, "ip", ip, "sessions", "all ended", "lockout", "lifted")
	return nil
}

func equalHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// resetMail is the e-mail with a reset link.
func resetMail(acc *ent.Account, link string) mail.Message {
	name := acc.Name
	if name == "" {
		name = acc.Account
	}
	text := fmt.Sprintf(`%s，您好：

有人（希望是您本人）在物业管理平台申请找回账号“%s”的密码。请在 30 分钟内打开下面的链接设置新密码（链接只能使用一次）：

%s

设置新密码后，该账号在所有浏览器上的登录都会退出。
如果不是您本人申请，请忽略本邮件，您的密码不会改变。

—— 物业管理平台（系统邮件，请勿回复）
`, name, acc.Account, link)
	html := fmt.Sprintf(`<!doctype html><html lang="zh-CN"><body style="font-family:sans-serif;line-height:1.6">
<p>%s，您好：</p>
<p>有人（希望是您本人）在物业管理平台申请找回账号“%s”的密码。请在 <b>30 分钟内</b>打开下面的链接设置新密码（链接只能使用一次）：</p>
<p><a href="%s">设置新密码</a></p>
<p style="color:#666">如果按钮无法打开，请复制此地址到浏览器：<br>%s</p>
<p>设置新密码后，该账号在所有浏览器上的登录都会退出。如果不是您本人申请，请忽略本邮件，您的密码不会改变。</p>
<p style="color:#999">—— 物业管理平台（系统邮件，请勿回复）</p>
</body></html>`, htmlEscape(name), htmlEscape(acc.Account), htmlEscape(link), htmlEscape(link))
	return mail.Message{To: acc.Email, Subject: "找回密码：设置新密码的链接", Text: text, HTML: html}
}
