package recovery

import (
	"context"
	"fmt"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/ent/recoverycode"
	"linli/internal/errs"
	"linli/internal/mail"
	"linli/internal/phone"
	"linli/internal/validate"
)

// Kinds of contact detail (替换手机, 替换邮箱).
const (
	KindPhone = "phone"
	KindEmail = "email"
)

// ParseContact checks a new phone (a mainland mobile number, as codes go by
// SMS) or e-mail address and returns its canonical form.
//
// Errors: errs.Invalid naming the field.
func ParseContact(kind, v string) (string, error) {
	switch kind {
	case KindPhone:
		p, err := phone.Parse(v)
		if err != nil {
			return "", errs.Field("phone", "手机号格式不正确："+err.Error())
		}
		return p, nil
	case KindEmail:
		e, err := validate.Email("email", "邮箱", v)
		if err != nil {
			return "", errs.Field("email", "邮箱地址格式不正确，如 wang@example.com")
		}
		if e == "" {
			return "", errs.Field("email", "请输入新的邮箱地址")
		}
		return e, nil
	}
	return "", errs.Field("kind", "只能替换 phone（手机）或 email（邮箱）")
}

func purposeOf(kind string) recoverycode.Purpose {
	if kind == KindEmail {
		return recoverycode.PurposeChangeEmail
	}
	return recoverycode.PurposeChangePhone
}

// SendContactCode sends a code to the new phone or e-mail value that p wants
// to bind; it must be given back to ChangeContact.
//
// Errors: errs.Invalid (not a mobile number or address, the current one), errs.TooMany.
func (s *Service) SendContactCode(ctx context.Context, p *auth.Principal, kind, value, ip string) (string, error) {
	v, err := ParseContact(kind, value)
	if err != nil {
		return "", err
	}
	cur := p.Account.Phone
	if kind == KindEmail {
		cur = p.Account.Email
	}
	if strings.EqualFold(v, cur) {
		return "", errs.Field(kind, "与当前绑定的相同，无需替换")
	}
	code, err := newCode()
	if err != nil {
		return "", err
	}
	if err := s.issueCode(ctx, p.Account, purposeOf(kind), v, code, ip); err != nil {
		return "", err
	}
	if kind == KindPhone {
		s.deliver(ctx, "contact code sms", func(ctx context.Context) error { return s.sms.Send(ctx, v, code) })
		return "验证码已发送到新手机 " + phone.Mask(v) + "，5 分钟内有效", nil
	}
	m := contactMail(p.Account, v, code)
	s.deliver(ctx, "contact code mail", func(ctx context.Context) error { return s.mail.Send(ctx, m) })
	return "验证码已发送到新邮箱 " + v + "，5 分钟内有效", nil
}

// issueCode records code for account acc and purpose, sent to target, under
// the limits of the account, the client address ip and the target.
//
// Errors: errs.TooMany.
func (s *Service) issueCode(ctx context.Context, acc *ent.Account, purpose recoverycode.Purpose, target, code, ip string) error {
	sys := actor.AsSystem(ctx)
	now := s.now()
	return s.db.InTx(sys, func(tx *ent.Tx) error {
		if err := s.reserve(sys, tx, acc.Account, ip, now); err != nil {
			return err
		}
		if busy, err := s.busyTarget(sys, tx, target, now); err != nil {
			return err
		} else if busy {
			return errs.New(errs.TooMany, "向该号码或邮箱发送验证码过于频繁，请一小时后再试")
		}
		return tx.RecoveryCode.Create().SetAccount(acc.Account).SetAccountID(acc.ID).SetPurpose(purpose).SetTarget(target).
			SetSecretHash(codeHash(acc.Account, purpose, code)).SetIP(ip).SetCreatedAt(now).SetExpiresAt(now.Add(CodeTTL)).Exec(sys)
	})
}

// ChangeContact binds the new phone or e-mail value to p after checking p's
// current password and the code sent to value.
//
// Errors: errs.Invalid (wrong password, wrong or expired code, bad value).
func (s *Service) ChangeContact(ctx context.Context, p *auth.Principal, kind, value, code, currentPW, ip string) (*ent.Account, error) {
	v, err := ParseContact(kind, value)
	if err != nil {
		return nil, err
	}
	sys := actor.AsSystem(ctx)
	acc, err := s.db.Account.Get(sys, p.Account.ID)
	if err != nil {
		return nil, fmt.Errorf("recovery: load account: %w", err)
	}
	// A wrong password counts as a failed login, so that a borrowed session
	// cannot be used to guess the password.
	if err := s.auth.VerifyPassword(ctx, acc, currentPW, ip); err != nil {
		return nil, err
	}
	wrong := errs.Field("code", msgWrongCode)
	purpose := purposeOf(kind)
	c, err := s.checkCode(ctx, acc.Account, purpose, strings.TrimSpace(code), wrong, func(q *ent.RecoveryCodeQuery) {
		q.Where(recoverycode.AccountID(acc.ID), recoverycode.Target(v))
	})
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(sys, func(tx *ent.Tx) error {
		if err := use(sys, tx, c, wrong); err != nil {
			return err
		}
		u := tx.Account.UpdateOneID(acc.ID).SetUpdatedAt(time.Now())
		if kind == KindPhone {
			u.SetPhone(v)
		} else {
			u.SetEmail(v)
		}
		acc, err = u.Save(sys)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recovery: change %s: %w", kind, err)
	}
	s.logger.InfoContext(ctx, "audit", "action", "contact_changed", "kind", kind, "account", acc.Account, "account_id", acc.ID, "ip", ip)
	return acc, nil
}

// contactMail is the e-mail with the code that proves a new address.
func contactMail(acc *ent.Account, to, code string) mail.Message {
	text := fmt.Sprintf(`您好：

物业管理平台账号“%s”正在把安全邮箱替换为本邮箱。验证码：

%s

5 分钟内有效。如果不是您本人操作，请忽略本邮件。

—— 物业管理平台（系统邮件，请勿回复）
`, acc.Account, code)
	html := fmt.Sprintf(`<!doctype html><html lang="zh-CN"><body style="font-family:sans-serif;line-height:1.6">
<p>您好：</p>
<p>物业管理平台账号“%s”正在把安全邮箱替换为本邮箱。验证码：</p>
<p style="font-size:24px;letter-spacing:4px"><b>%s</b></p>
<p>5 分钟内有效。如果不是您本人操作，请忽略本邮件。</p>
<p style="color:#999">—— 物业管理平台（系统邮件，请勿回复）</p>
</body></html>`, htmlEscape(acc.Account), code)
	return mail.Message{To: to, Subject: "替换邮箱验证码：" + code, Text: text, HTML: html}
}
