package ua

import (
	"errors"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// authenticator answers digest challenges (RFC 3261 §22, with SHA-256 per
// RFC 8760). It remembers the last challenge so that the next request (a
// re-REGISTER) carries credentials at once with the next nonce count; a
// server that wants a fresh nonce answers 401 again and is obeyed.
type authenticator struct {
	username, password string

	mu    sync.Mutex
	chal  *digest.Challenge
	proxy bool
	nc    int
}

// strongest picks the challenge to answer among those of res: SHA-256
// before MD5, as RFC 8760 §2.4 asks of a client offered both.
func strongest(res *sip.Response) (*digest.Challenge, bool, error) {
	var best *digest.Challenge
	var proxy bool
	for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
		for _, h := range res.GetHeaders(name) {
			c, err := digest.ParseChallenge(h.Value())
			if err != nil {
				continue
			}
			c.Algorithm = strings.ToUpper(c.Algorithm)
			if c.Algorithm != "" && c.Algorithm != "MD5" && c.Algorithm != "SHA-256" {
				continue
			}
			if best == nil || c.Algorithm == "SHA-256" && best.Algorithm != "SHA-256" {
				best, proxy = c, name == "Proxy-Authenticate"
			}
		}
	}
	if best == nil {
		return nil, false, errors.New("digest: no MD5 or SHA-256 challenge")
	}
	return best, proxy, nil
}

// challenged takes a 401/407 answer and signs req for the retry.
func (a *authenticator) challenged(req *sip.Request, res *sip.Response) error {
	if err := a.learn(res); err != nil {
		return err
	}
	return a.sign(req)
}

// learn remembers the challenge of a 401/407 answer for the next requests.
func (a *authenticator) learn(res *sip.Response) error {
	c, proxy, err := strongest(res)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.chal, a.proxy, a.nc = c, proxy, 0
	a.mu.Unlock()
	return nil
}

// sign adds credentials for the remembered challenge, if any. The digest
// uri is the Request-URI exactly as sent.
func (a *authenticator) sign(req *sip.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.chal == nil || a.username == "" {
		return nil
	}
	a.nc++
	cred, err := digest.Digest(a.chal, digest.Options{Method: string(req.Method), URI: req.Recipient.String(),
		Username: a.username, Password: a.password, Count: a.nc})
	if err != nil {
		return err
	}
	req.RemoveHeader("Authorization")
	req.RemoveHeader("Proxy-Authorization")
	name := "Authorization"
	if a.proxy {
		name = "Proxy-Authorization"
	}
	req.AppendHeader(sip.NewHeader(name, cred.String()))
	return nil
}
