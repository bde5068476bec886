package sip

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Digest authentication (RFC 3261 §22, RFC 8760 for SHA-256).
//
// Nonces are made by the server, not stored: base64url(issued-at ‖ random ‖
// HMAC-SHA-256(shared key, issued-at ‖ random)), so any instance sharing the
// database key verifies any other's nonce. A nonce older than NonceTTL is
// answered with a fresh challenge carrying stale=true. Each nonce counts
// upward: the highest nc seen is kept in memory (bounded, swept with the
// nonces' lifetime) and a request repeating an nc, or reusing a nonce
// without qop, is refused as a replay. The nc memory is per instance.

const maxTrackedNonces = 200_000

var errStale = errors.New("stale nonce")

type authenticator struct {
	realm string
	key   []byte
	ttl   time.Duration
	now   func() time.Time

	mu  sync.Mutex
	ncs map[string]nonceUse

	limit *limiter
}

type nonceUse struct {
	nc     uint32
	issued time.Time
}

func newAuthenticator(cfg Config, key []byte, now func() time.Time) *authenticator {
	return &authenticator{
		realm: cfg.Realm, key: key, ttl: cfg.NonceTTL, now: now,
		ncs:   map[string]nonceUse{},
		limit: newLimiter(cfg.FailuresWindow, cfg.UserFailures, cfg.AddrFailures, now),
	}
}

func (a *authenticator) nonce() string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().UnixNano()))
	_, _ = rand.Read(b[8:16])
	m := hmac.New(sha256.New, a.key)
	m.Write(b[:16])
	copy(b[16:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkNonce says whether n is one of ours and fresh; it returns the issue
// time.
func (a *authenticator) checkNonce(n string) (time.Time, error) {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 32 {
		return time.Time{}, errors.New("foreign nonce")
	}
	m := hmac.New(sha256.New, a.key)
	m.Write(b[:16])
	if !hmac.Equal(m.Sum(nil)[:16], b[16:]) {
		return time.Time{}, errors.New("foreign nonce")
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	if age := a.now().Sub(issued); age > a.ttl || age < -time.Minute {
		return issued, errStale
	}
	return issued, nil
}

// use records nc for nonce n; false when it was seen already (a replay) or
// the table is full.
func (a *authenticator) use(n string, nc uint32, issued time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.ncs[n]
	if ok && nc <= u.nc {
		return false
	}
	if !ok && len(a.ncs) >= maxTrackedNonces {
		a.sweepLocked()
		if len(a.ncs) >= maxTrackedNonces {
			return false
		}
	}
	a.ncs[n] = nonceUse{nc: nc, issued: issued}
	return true
}

func (a *authenticator) sweep() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sweepLocked()
	a.limit.sweep()
}

func (a *authenticator) sweepLocked() {
	cut := a.now().Add(-a.ttl - time.Minute)
	for n, u := range a.ncs {
		if u.issued.Before(cut) {
			delete(a.ncs, n)
		}
	}
}

// challenges returns the challenge headers: MD5, and SHA-256 (RFC 8760)
// after it when the client showed it knows SHA-256 by sending credentials
// with algorithm=SHA-256 (a preemptive Authorization, or an answer to an
// earlier challenge). Only MD5 otherwise: many device stacks (baresip's,
// sipp) give up on the whole challenge when one header names an algorithm
// they do not know. name is WWW-Authenticate or Proxy-Authenticate.
func (a *authenticator) challenges(name string, stale, sha256 bool) []sip.Header {
	n := a.nonce()
	algs := []string{"MD5"}
	if sha256 {
		algs = append(algs, "SHA-256")
	}
	var hs []sip.Header
	for _, alg := range algs {
		v := `Digest realm="` + a.realm + `", nonce="` + n + `", algorithm=` + alg + `, qop="auth"`
		if stale {
			v += ", stale=true"
		}
		hs = append(hs, sip.NewHeader(name, v))
	}
	return hs
}

// credentials is a parsed Authorization or Proxy-Authorization header.
type credentials struct {
	username, realm, nonce, uri, response, algorithm, cnonce, qop, nc, opaque string
}

// parseCredentials parses `Digest k=v, k="v", …`.
func parseCredentials(v string) (credentials, bool) {
	var c credentials
	v = strings.TrimSpace(v)
	if len(v) < 7 || !strings.EqualFold(v[:6], "digest") || (v[6] != ' ' && v[6] != '\t') {
		return c, false
	}
	rest := v[7:]
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return c, false
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return c, false
			}
			val, rest = rest[1:1+end], rest[2+end:]
		} else {
			end := strings.IndexAny(rest, ", \t")
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		switch key {
		case "username":
			c.username = val
		case "realm":
			c.realm = val
		case "nonce":
			c.nonce = val
		case "uri":
			c.uri = val
		case "response":
			c.response = val
		case "algorithm":
			c.algorithm = val
		case "cnonce":
			c.cnonce = val
		case "qop":
			c.qop = val
		case "nc":
			c.nc = val
		case "opaque":
			c.opaque = val
		}
	}
	return c, c.username != "" && c.nonce != "" && c.response != ""
}

// digestResponse computes the expected response for c with password.
func digestResponse(c credentials, method, password string) (string, bool) {
	var h func() hash.Hash
	switch strings.ToUpper(c.algorithm) {
	case "", "MD5":
		h = md5.New
	case "SHA-256":
		h = sha256.New
	default:
		return "", false
	}
	sum := func(parts ...string) string {
		x := h()
		x.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(x.Sum(nil))
	}
	ha1 := sum(c.username, c.realm, password)
	ha2 := sum(method, c.uri)
	switch c.qop {
	case "":
		return sum(ha1, c.nonce, ha2), true
	case "auth":
		return sum(ha1, c.nonce, c.nc, c.cnonce, c.qop, ha2), true
	}
	return "", false
}

// sameURI says whether the digest uri names the Request-URI: scheme, user,
// host and port (5060 when absent) compared; parameters ignored.
func sameURI(digestURI string, r sip.Uri) bool {
	var u sip.Uri
	if err := sip.ParseUri(digestURI, &u); err != nil {
		return false
	}
	port := func(p int) int {
		if p == 0 {
			return 5060
		}
		return p
	}
	return strings.EqualFold(u.Scheme, r.Scheme) && u.User == r.User &&
		strings.EqualFold(u.Host, r.Host) && port(u.Port) == port(r.Port)
}

func parseNC(c credentials) (uint32, bool) {
	if c.qop == "" {
		return 1, true
	}
	n, err := strconv.ParseUint(c.nc, 16, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint32(n), true
}

func constantEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(a)), []byte(strings.ToLower(b))) == 1
}
