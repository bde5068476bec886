package sip

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strings"

	"github.com/emiago/sipgo/sip"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/sipkey"
	"linli/internal/store"
)

// sharedKey returns the key every instance on this database signs nonces
// and relayed branches with, creating it on first start. Two instances
// starting at once both try to create it; the loser reads the winner's.
func sharedKey(ctx context.Context, db *store.Store) ([]byte, error) {
	sys := actor.AsSystem(ctx)
	for range 3 {
		k, err := db.SIPKey.Query().Where(sipkey.Name("digest")).Only(sys)
		if err == nil {
			return k.Key, nil
		}
		if !ent.IsNotFound(err) {
			return nil, err
		}
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		if err := db.SIPKey.Create().SetName("digest").SetKey(b).Exec(sys); err != nil && !ent.IsConstraintError(err) {
			return nil, err
		}
	}
	return nil, errors.New("sip: shared key: could not create or read it")
}

// authenticate checks the request's digest credentials. On success it
// returns the account; otherwise it has answered the request (challenge,
// 403) and returns false. REGISTER is challenged with 401, everything else
// with 407 (the server is a proxy to them).
func (s *Server) authenticate(req *sip.Request, tx sip.ServerTransaction) (Account, bool) {
	challenge, authz := "Proxy-Authenticate", "Proxy-Authorization"
	code, reason := 407, "Proxy Authentication Required"
	if req.Method == sip.REGISTER {
		challenge, authz = "WWW-Authenticate", "Authorization"
		code, reason = 401, "Unauthorized"
	}
	h := req.GetHeader(authz)
	if h == nil {
		// Some clients answer a 407 with Authorization; accept either.
		h = req.GetHeader("Authorization")
	}
	if h == nil {
		s.respond(tx, req, code, reason, s.auth.challenges(challenge, false, false)...)
		return Account{}, false
	}
	c, ok := parseCredentials(h.Value())
	sha := ok && strings.EqualFold(c.algorithm, "SHA-256") || strings.Contains(strings.ToUpper(h.Value()), "ALGORITHM=SHA-256")
	if !ok || c.realm != s.cfg.Realm {
		s.respond(tx, req, code, reason, s.auth.challenges(challenge, false, sha)...)
		return Account{}, false
	}
	issued, err := s.auth.checkNonce(c.nonce)
	if errors.Is(err, errStale) {
		s.respond(tx, req, code, reason, s.auth.challenges(challenge, true, sha)...)
		return Account{}, false
	}
	if err != nil {
		s.respond(tx, req, code, reason, s.auth.challenges(challenge, false, sha)...)
		return Account{}, false
	}
	if !sameURI(c.uri, req.Recipient) {
		s.respond(tx, req, 400, "Digest URI Does Not Match Request-URI")
		return Account{}, false
	}
	nc, ok := parseNC(c)
	if !ok {
		s.respond(tx, req, 400, "Bad Digest Nonce Count")
		return Account{}, false
	}
	ip := sourceIP(req)
	acct, found, err := s.dir.Account(s.ctx, c.username)
	if err != nil {
		s.logger.Error("looking up SIP account", "username", c.username, "err", err)
		s.respond(tx, req, 500, "Server Internal Error")
		return Account{}, false
	}
	password := acct.Password
	if !found {
		// Compute anyway so that unknown names take as long as known ones.
		password = "\x00unknown"
	}
	// The attempt is counted before the password is checked, so that
	// parallel guesses cannot all slip under the limit; a right password
	// gives its reservation back.
	release, ok := s.auth.limit.reserve(c.username, ip)
	if !ok {
		s.logger.Warn("digest throttled", "username", c.username, "ip", ip)
		s.respond(tx, req, 403, "Forbidden", reasonHeader(403, "Too many wrong passwords, try again later"))
		return Account{}, false
	}
	want, ok := digestResponse(c, string(req.Method), password)
	if !ok || !found || !constantEqual(want, c.response) {
		s.recordFailure(c.username, ip)
		s.logger.Warn("digest refused", "username", c.username, "ip", ip, "method", req.Method)
		s.respond(tx, req, 403, "Forbidden", reasonHeader(403, "Wrong username or password"))
		return Account{}, false
	}
	release()
	if !s.auth.use(c.nonce, nc, issued) {
		// A replayed nonce count: ask again with a fresh nonce.
		s.respond(tx, req, code, reason, s.auth.challenges(challenge, true, sha)...)
		return Account{}, false
	}
	return acct, true
}

// recordFailure keeps a LoginFailure row of a wrong SIP password: the audit
// trail of password guessing, and how the other instances on the database
// learn of it (see failureFeed).
func (s *Server) recordFailure(username, ip string) {
	if err := s.failures.record(s.ctx, username, ip); err != nil && s.ctx.Err() == nil {
		s.logger.Warn("recording SIP login failure", "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func sourceIP(req *sip.Request) string {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return req.Source()
	}
	return host
}

// reasonHeader is a Reason header (RFC 3326) for a SIP code.
func reasonHeader(code int, text string) sip.Header {
	return sip.NewHeader("Reason", "SIP;cause="+itoa(code)+`;text="`+text+`"`)
}
