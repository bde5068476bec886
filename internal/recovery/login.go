package recovery

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/ent/recoverycode"
	"linli/internal/errs"
	"linli/internal/mail"
	"linli/internal/phone"
)

// SendLoginCode sends a sign-in code for the challenge of account name to
// its bound phone (auth.MethodSMS) or e-mail (auth.MethodEmail), under the
// same limits as every other code.
//
// Errors: errs.Unauthorized (challenge gone), errs.Invalid (no such phone or
// e-mail bound), errs.TooMany.
func (s *Service) SendLoginCode(ctx context.Context, name, challenge, method, ip string) (string, error) {
	acc, err := s.auth.ChallengeAccount(ctx, name, challenge)
	if err != nil {
		return "", err
	}
	purpose, target := loginPurpose(method, acc)
	if purpose == "" {
		return "", errs.Field("method", "该账号未绑定此验证方式，请选择其他方式")
	}
	code, err := newCode()
	if err != nil {
		return "", err
	}
	if err := s.issueCode(ctx, acc, purpose, target, code, ip); err != nil {
		return "", err
	}
	if purpose == recoverycode.PurposeLoginSms {
		s.deliver(ctx, "login code sms", func(ctx context.Context) error { return s.sms.Send(ctx, target, code) })
		return "验证码已发送到手机 " + phone.Mask(target) + "，5 分钟内有效", nil
	}
	m := loginMail(acc, target, code)
	s.deliver(ctx, "login code mail", func(ctx context.Context) error { return s.mail.Send(ctx, m) })
	return "验证码已发送到邮箱 " + auth.MaskEmail(target) + "，5 分钟内有效", nil
}

// loginPurpose returns the purpose of a sign-in code by method and where it
// goes; an empty purpose when acc has no such destination.
func loginPurpose(method string, acc *ent.Account) (recoverycode.Purpose, string) {
	switch {
	case method == auth.MethodSMS && acc.Phone != "":
		return recoverycode.PurposeLoginSms, acc.Phone
	case method == auth.MethodEmail && acc.Email != "":
		return recoverycode.PurposeLoginEmail, acc.Email
	}
	return "", ""
}

// CheckLoginCode returns a check that accepts and spends the newest sign-in
// code sent by method; each try counts towards the code's own limit too.
func (s *Service) CheckLoginCode(method, code string) auth.CodeCheck {
	return func(ctx context.Context, acc *ent.Account) (bool, error) {
		purpose, target := loginPurpose(method, acc)
		if purpose == "" {
			return false, nil
		}
		wrong := errors.New("wrong")
		c, err := s.checkCode(ctx, acc.Account, purpose, strings.TrimSpace(code), wrong, func(q *ent.RecoveryCodeQuery) {
			q.Where(recoverycode.AccountID(acc.ID), recoverycode.Target(target))
		})
		if errors.Is(err, wrong) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		sys := actor.AsSystem(ctx)
		err = s.db.InTx(sys, func(tx *ent.Tx) error { return use(sys, tx, c, wrong) })
		if errors.Is(err, wrong) {
			return false, nil
		}
		return err == nil, err
	}
}

// Check returns the check for a second factor by method.
//
// Errors: errs.Invalid for an unknown method.
func (s *Service) Check(method, code string) (auth.CodeCheck, error) {
	switch method {
	case auth.MethodTOTP:
		return s.auth.CheckTOTP(code), nil
	case auth.MethodRecovery:
		return s.auth.CheckBackupCode(code), nil
	case auth.MethodSMS, auth.MethodEmail:
		return s.CheckLoginCode(method, code), nil
	}
	return nil, errs.Field("method", "验证方式只能是 totp、recovery、sms 或 email")
}

// loginMail is the e-mail with a sign-in code.
func loginMail(acc *ent.Account, to, code string) mail.Message {
	text := fmt.Sprintf(`您好：

物业管理平台账号“%s”正在一个新的浏览器上登录。登录验证码：

%s

5 分钟内有效。如果不是您本人操作，说明密码可能已泄露，请立即修改密码。

—— 物业管理平台（系统邮件，请勿回复）
`, acc.Account, code)
	html := fmt.Sprintf(`<!doctype html><html lang="zh-CN"><body style="font-family:sans-serif;line-height:1.6">
<p>您好：</p>
<p>物业管理平台账号“%s”正在一个新的浏览器上登录。登录验证码：</p>
<p style="font-size:24px;letter-spacing:4px"><b>%s</b></p>
<p>5 分钟内有效。如果不是您本人操作，说明密码可能已泄露，请立即修改密码。</p>
<p style="color:#999">—— 物业管理平台（系统邮件，请勿回复）</p>
</body></html>`, htmlEscape(acc.Account), code)
	return mail.Message{To: to, Subject: "登录验证码：" + code, Text: text, HTML: html}
}
