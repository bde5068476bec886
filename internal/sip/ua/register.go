package ua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Registration states.
const (
	RegNone       = "none"         // never asked
	RegRegistered = "registered"   // the registrar holds the contact
	RegFailed     = "failed"       // the last attempt failed; retrying
	RegEnded      = "unregistered" // unregistered at Close
)

// Registration is the agent's standing with its registrar.
type Registration struct {
	State   string    `json:"state"`
	Expires time.Time `json:"expires,omitzero"`
	Code    int       `json:"code,omitempty" doc:"the last final SIP status"`
	Error   string    `json:"error,omitempty"`
	// Received is the address the registrar saw the request come from
	// (Via received/rport), i.e. the flow it calls back on.
	Received string `json:"received,omitempty"`
}

type registration struct {
	Registration
	callID string
	fromTg string
	cseq   uint32
	active bool
}

// Registration returns the agent's registration state.
func (u *UA) Registration() Registration {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.reg.Registration
	if r.State == "" {
		r.State = RegNone
	}
	return r
}

// Register registers the agent's contact with the server and keeps it
// registered (refreshing before expiry, retrying after failures) until
// Close, which unregisters. The first attempt's error is returned; the agent
// keeps retrying in the background either way.
func (u *UA) Register(ctx context.Context) error {
	if err := u.startRegistration(); err != nil {
		return err
	}
	expires, err := u.register(ctx, u.cfg.Expires)
	go func() {
		defer u.wg.Done()
		u.keepRegistered(expires, err)
	}()
	return err
}

// StartRegistering is Register without waiting for the first answer: a
// device that boots while its server is away registers when it returns.
func (u *UA) StartRegistering() error {
	if err := u.startRegistration(); err != nil {
		return err
	}
	go func() {
		defer u.wg.Done()
		expires, err := u.register(u.ctx, u.cfg.Expires)
		if err != nil && u.ctx.Err() == nil {
			u.logger.Warn("sip register failed", "user", u.cfg.Username, "server", u.cfg.Server, "err", err)
		}
		u.keepRegistered(expires, err)
	}()
	return nil
}

// startRegistration prepares the registration's Call-ID and tag and counts
// its goroutine; the caller starts it.
func (u *UA) startRegistration() error {
	if u.cfg.Server == "" {
		return errors.New("ua: no server to register with")
	}
	u.mu.Lock()
	if u.reg.active {
		u.mu.Unlock()
		return errors.New("ua: already registering")
	}
	u.reg.active = true
	u.reg.callID = sip.GenerateTagN(24) + "@" + u.ip.String()
	u.reg.fromTg = sip.GenerateTagN(16)
	u.mu.Unlock()
	if !u.enter() {
		return errors.New("ua: closed")
	}
	return nil
}

// keepRegistered refreshes the registration ahead of its expiry, and after
// a failure retries after 2 s, doubling up to a minute.
func (u *UA) keepRegistered(expires time.Duration, err error) {
	backoff := 2 * time.Second
	for {
		wait := expires - min(expires/2, 30*time.Second)
		if err != nil {
			wait = backoff
			backoff = min(2*backoff, time.Minute)
		} else {
			backoff = 2 * time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-u.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		expires, err = u.register(u.ctx, u.cfg.Expires)
		if err != nil && u.ctx.Err() == nil {
			u.logger.Warn("sip register failed", "user", u.cfg.Username, "err", err)
		}
	}
}

// unregister removes the contact (Expires: 0) when registered.
func (u *UA) unregister() {
	u.mu.Lock()
	registered := u.reg.State == RegRegistered
	u.mu.Unlock()
	if !registered {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := u.register(ctx, 0); err != nil {
		u.logger.Warn("sip unregister failed", "user", u.cfg.Username, "err", err)
	}
}

// register sends one REGISTER (answering challenges and 423) and returns
// the lifetime the registrar granted.
func (u *UA) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	uri, err := u.serverURI("")
	if err != nil {
		return 0, err
	}
	secs := int(expires / time.Second)
	challenged, briefed := false, false
	for {
		res, err := u.sendRegister(ctx, uri, secs)
		if err != nil {
			u.setReg(func(r *Registration) { r.State, r.Error = RegFailed, err.Error() })
			return 0, err
		}
		switch {
		case (res.StatusCode == 401 || res.StatusCode == 407) && !challenged:
			challenged = true
			if err := u.auth.learn(res); err != nil {
				return 0, u.regFailed(res, err.Error())
			}
			continue
		case res.StatusCode == 423 && !briefed && secs > 0:
			briefed = true
			if h := res.GetHeader("Min-Expires"); h != nil {
				if v, err := strconv.Atoi(h.Value()); err == nil && v > secs {
					secs = v
					continue
				}
			}
			return 0, u.regFailed(res, "")
		case res.StatusCode >= 200 && res.StatusCode < 300:
			granted := grantedExpires(res, u.dialog.ContactHDR.Address, secs)
			received := ""
			if v := res.Via(); v != nil {
				host, _ := v.Params.Get("received")
				port, _ := v.Params.Get("rport")
				if host != "" || port != "" {
					received = host + ":" + port
				}
			}
			u.setReg(func(r *Registration) {
				r.Code, r.Error, r.Received = res.StatusCode, "", received
				if secs == 0 {
					r.State, r.Expires = RegEnded, time.Time{}
				} else {
					r.State, r.Expires = RegRegistered, time.Now().Add(granted)
				}
			})
			u.logger.Info("sip registered", "user", u.cfg.Username, "server", u.cfg.Server, "expires", granted)
			return granted, nil
		default:
			return 0, u.regFailed(res, "")
		}
	}
}

func (u *UA) regFailed(res *sip.Response, detail string) error {
	err := fmt.Errorf("REGISTER: %d %s", res.StatusCode, reasonOf(res))
	if detail != "" {
		err = fmt.Errorf("%w: %s", err, detail)
	}
	u.setReg(func(r *Registration) { r.State, r.Code, r.Error = RegFailed, res.StatusCode, err.Error() })
	return err
}

func (u *UA) setReg(f func(r *Registration)) {
	u.mu.Lock()
	f(&u.reg.Registration)
	u.mu.Unlock()
}

// sendRegister sends one REGISTER of the registration's Call-ID with the
// next CSeq, signed when a challenge is known.
func (u *UA) sendRegister(ctx context.Context, uri sip.Uri, secs int) (*sip.Response, error) {
	u.mu.Lock()
	u.reg.cseq++
	cseq, callID, tag := u.reg.cseq, u.reg.callID, u.reg.fromTg
	u.mu.Unlock()
	req := sip.NewRequest(sip.REGISTER, uri)
	from := sip.FromHeader{DisplayName: u.cfg.DisplayName, Address: u.aor(), Params: sip.NewParams()}
	from.Params.Add("tag", tag)
	to := sip.ToHeader{Address: u.aor(), Params: sip.NewParams()}
	cid := sip.CallIDHeader(callID)
	exp := sip.ExpiresHeader(secs)
	req.AppendHeader(&from)
	req.AppendHeader(&to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	req.AppendHeader(u.dialog.ContactHDR.Clone())
	req.AppendHeader(&exp)
	req.AppendHeader(sip.NewHeader("Allow", allow))
	if err := u.auth.sign(req); err != nil {
		return nil, err
	}
	return u.client.Do(ctx, req, sipgo.ClientRequestBuild)
}

// grantedExpires reads the lifetime of our contact from a 2xx to REGISTER:
// its expires parameter, else the Expires header, else what was asked.
func grantedExpires(res *sip.Response, contact sip.Uri, asked int) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		var c sip.ContactHeader
		if _, err := sip.ParseAddressValue(h.Value(), &c.Address, &c.Params); err != nil {
			continue
		}
		if c.Address.Host == contact.Host && c.Address.Port == contact.Port && c.Address.User == contact.User {
			if v, ok := c.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(h.Value()); err == nil {
			return time.Duration(n) * time.Second
		}
	}
	return time.Duration(asked) * time.Second
}
