package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/community"
	"linli/internal/errs"
	"linli/internal/password"
	"linli/internal/validate"
)

// ChangePassword changes p's password after checking the old one and the
// password policy. Every session of the account is ended and this browser
// gets a fresh one, whose token is returned.
//
// Errors: errs.Invalid (wrong old password, weak new password).
func (s *Service) ChangePassword(ctx context.Context, p *Principal, oldPW, newPW string, ci ClientInfo) (*LoginResult, error) {
	sys := actor.AsSystem(ctx)
	acc, err := s.db.Account.Get(sys, p.Account.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: load account: %w", err)
	}
	// A wrong old password counts as a failed login, so a session left open
	// does not let anyone guess the password without limit.
	ok, err := s.checkCurrent(ctx, acc, oldPW, ci.IP)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.Field("old_password", "原密码不正确")
	}
	who, err := s.personal(sys, acc)
	if err != nil {
		return nil, err
	}
	if reason := password.Check(newPW, who); reason != "" {
		return nil, errs.Field("new_password", reason)
	}
	if newPW == oldPW {
		return nil, errs.Field("new_password", "新密码不能与原密码相同")
	}
	hash, err := password.Hash(newPW)
	if err != nil {
		return nil, err
	}
	var res LoginResult
	err = s.db.InTx(sys, func(tx *ent.Tx) error {
		c := tx.Client()
		now := s.now()
		if err := c.Account.UpdateOneID(acc.ID).SetPasswordHash(hash).SetMustChangePassword(false).
			SetPasswordChangedAt(now).Exec(sys); err != nil {
			return err
		}
		// 自动登录 is what the user chose at login; the new session keeps it,
		// so the session is read before every session of the account ends.
		sess, err := c.Session.Get(sys, p.SessionID)
		remember := err == nil && sess.Remember
		if err := killSessions(sys, c, acc.ID); err != nil {
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
		return nil, fmt.Errorf("auth: change password: %w", err)
	}
	s.logger.InfoContext(ctx, "password changed", "account", acc.Account)
	res.Principal, err = s.Authenticate(ctx, res.Token)
	if err != nil || res.Principal == nil {
		return nil, fmt.Errorf("auth: session after password change: %w", err)
	}
	return &res, nil
}

// personal gathers what acc's new password must not be built on: its own
// details and the names of its communities.
func (s *Service) personal(ctx context.Context, acc *ent.Account) (password.Personal, error) {
	names, err := acc.QueryCommunities().Select(community.FieldName).Strings(ctx)
	if err != nil {
		return password.Personal{}, fmt.Errorf("auth: communities of %s: %w", acc.Account, err)
	}
	return password.Personal{Account: acc.Account, Name: acc.Name, Phone: acc.Phone, Email: acc.Email, Communities: names}, nil
}

// ProfileInput is what an account may change about itself (个人信息中心).
type ProfileInput struct {
	Name  *string
	Phone *string
	Email *string
}

// UpdateProfile changes p's own name, phone or e-mail (替换手机, 替换邮箱).
func (s *Service) UpdateProfile(ctx context.Context, p *Principal, in ProfileInput) (*ent.Account, error) {
	u := s.db.Account.UpdateOneID(p.Account.ID)
	if in.Name != nil {
		v, err := validate.Text("name", "称呼", *in.Name, 1, 32)
		if err != nil {
			return nil, err
		}
		u.SetName(v)
	}
	// The phone and e-mail recover the account, so a new one takes effect
	// only with the password and a code sent to it (PUT /api/v1/me/phone,
	// /api/v1/me/email); here they may only be repeated unchanged.
	if in.Phone != nil && strings.TrimSpace(*in.Phone) != p.Account.Phone {
		return nil, errs.Field("phone", "替换手机需要当前密码和新手机收到的验证码，请使用“替换手机”")
	}
	if in.Email != nil && strings.TrimSpace(*in.Email) != p.Account.Email {
		return nil, errs.Field("email", "替换邮箱需要当前密码和新邮箱收到的验证码，请使用“替换邮箱”")
	}
	acc, err := u.SetUpdatedAt(time.Now()).Save(actor.AsSystem(ctx))
	if err != nil {
		return nil, fmt.Errorf("auth: update profile: %w", err)
	}
	return acc, nil
}
