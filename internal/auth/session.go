package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/account"
	"linli/internal/ent/session"
	"linli/internal/perm"
	"linli/internal/store"
)

// newToken returns a random session token and the hash that is stored.
func newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("auth: token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ClientInfo describes where a login comes from.
type ClientInfo struct {
	IP        string
	UserAgent string
}

// createSession stores a new session for accountID and returns its token and expiry.
func (s *Service) createSession(ctx context.Context, tx *ent.Client, accountID int, remember bool, ci ClientInfo) (string, time.Time, error) {
	token, hash, err := newToken()
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	expires := now.Add(IdleTimeout)
	if remember {
		expires = now.Add(RememberFor)
	}
	_, err = tx.Session.Create().
		SetTokenHash(hash).SetAccountID(accountID).SetRemember(remember).
		SetCreatedAt(now).SetLastSeenAt(now).SetExpiresAt(expires).
		SetIP(truncate(ci.IP, 64)).SetUserAgent(truncate(ci.UserAgent, 256)).
		Save(ctx)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: create session: %w", err)
	}
	return token, expires, nil
}

// Authenticate returns the principal of a session token, or nil when the
// token is unknown, expired, or its account is disabled. It extends the idle
// timeout of browser sessions.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, nil
	}
	sys := actor.AsSystem(ctx)
	sess, err := s.db.Session.Query().
		Where(session.TokenHash(hashToken(token))).
		WithAccount().
		Only(sys)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: find session: %w", err)
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || sess.Edges.Account.Disabled {
		_, _ = s.db.Session.Delete().Where(session.ID(sess.ID)).Exec(sys)
		return nil, nil
	}
	// Touched at most once a minute: 个人信息中心 shows when each browser
	// was last used; a browser session's idle timeout moves on too.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		u := s.db.Session.UpdateOneID(sess.ID).SetLastSeenAt(now)
		if !sess.Remember {
			expires := now.Add(IdleTimeout)
			if hardEnd := sess.CreatedAt.Add(MaxBrowserSession); expires.After(hardEnd) {
				expires = hardEnd
			}
			u.SetExpiresAt(expires)
		}
		if err := u.Exec(sys); err != nil {
			return nil, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	acc := sess.Edges.Account
	p := &Principal{Account: acc, SessionID: sess.ID, Permissions: perm.Every(), RoleName: "平台管理员"}
	if acc.Role != "operator" {
		p.Communities, err = s.db.Account.QueryCommunities(acc).IDs(sys)
		if err != nil {
			return nil, fmt.Errorf("auth: communities: %w", err)
		}
		if p.Permissions, p.RoleName, err = s.permissionsOf(sys, acc); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Logout deletes the session of token; an unknown token is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, err := s.db.Session.Delete().Where(session.TokenHash(hashToken(token))).Exec(actor.AsSystem(ctx))
	return store.Map(err, "会话")
}

// killSessions deletes every session of an account.
func killSessions(ctx context.Context, c *ent.Client, accountID int) error {
	_, err := c.Session.Delete().Where(session.HasAccountWith(account.ID(accountID))).Exec(ctx)
	return err
}

// PurgeExpired deletes expired sessions and old login failures. The
// background janitor calls it.
func (s *Service) PurgeExpired(ctx context.Context) error {
	sys := actor.AsSystem(ctx)
	now := s.now()
	if _, err := s.db.Session.Delete().Where(session.ExpiresAtLT(now)).Exec(sys); err != nil {
		return fmt.Errorf("auth: purge sessions: %w", err)
	}
	if err := s.purgeChallenges(sys, now); err != nil {
		return err
	}
	return s.purgeFailures(sys, now)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func deleteToken(ctx context.Context, c *ent.Client, token string) error {
	_, err := c.Session.Delete().Where(session.TokenHash(hashToken(token))).Exec(ctx)
	return err
}

// KillSessions deletes every session of an account (password change or reset,
// account disabled or deleted).
func KillSessions(ctx context.Context, c *ent.Client, accountID int) error {
	return killSessions(actor.AsSystem(ctx), c, accountID)
}
