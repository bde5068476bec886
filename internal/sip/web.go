package sip

// Browser pages as SIP parties.
//
// A page open in the console (门口呼叫) or the residents' H5 is reached
// through the in-process gateway of internal/webcall, which is a SIP user
// agent on loopback. Its contacts are registration rows like any other
// (AddWebContact), so forking, CANCEL and several instances work unchanged.
// When a page watches a station, the gateway places the INVITE through this
// server in the page's name: instead of digest credentials (a page has no
// SIP password) it carries an X-Linli-Caller header naming the account,
// signed for the call with the key every instance shares (SignCaller). An
// unsigned or wrongly signed header is refused (403).

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/sipregistration"
)

// CallerHeader names the account a request from the gateway is made for.
const CallerHeader = "X-Linli-Caller"

func (s *Server) callerSig(username, callID string) string {
	m := hmac.New(sha256.New, s.auth.key)
	m.Write([]byte("caller:" + username + ":" + callID))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// SignCaller is the X-Linli-Caller value that lets the gateway place call
// callID in the name of account username.
func (s *Server) SignCaller(username, callID string) string {
	return username + ";sig=" + s.callerSig(username, callID)
}

// webCaller checks an X-Linli-Caller header and returns its account. On
// failure it has answered the request.
func (s *Server) webCaller(req *sip.Request, tx sip.ServerTransaction, v string) (Account, bool) {
	user, sig, ok := strings.Cut(v, ";sig=")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.callerSig(user, req.CallID().Value()))) {
		s.respond(tx, req, 403, "Forbidden", reasonHeader(403, "Bad caller signature"))
		return Account{}, false
	}
	a, ok, err := s.dir.Account(s.ctx, user)
	if err != nil {
		s.internalError(tx, req, "reading the caller's account", err)
		return Account{}, false
	}
	if !ok {
		s.respond(tx, req, 403, "Forbidden", reasonHeader(403, "Account gone"))
		return Account{}, false
	}
	return a, true
}

// WebContact is a page's registration: contact is the gateway's URI for
// the page, received the gateway's SIP address (host:port, UDP).
type WebContact struct {
	Username    string
	CommunityID int
	Contact     string
	Received    string
	TTL         time.Duration
	UserAgent   string
}

// AddWebContact registers (or refreshes) a page's contact in this
// instance's name.
func (s *Server) AddWebContact(ctx context.Context, c WebContact) error {
	sys := actor.AsSystem(ctx)
	exp := s.now().Add(c.TTL)
	n, err := s.db.SIPRegistration.Update().Where(sipregistration.Username(c.Username), sipregistration.Contact(c.Contact)).
		SetExpiresAt(exp).SetInstance(s.cfg.InstanceID).SetInstanceAddr(s.Addr()).SetReceived(c.Received).Save(sys)
	if err != nil || n > 0 {
		return err
	}
	err = s.db.SIPRegistration.Create().SetUsername(c.Username).SetCommunityID(c.CommunityID).SetContact(c.Contact).
		SetReceived(c.Received).SetTransport("udp").SetInstance(s.cfg.InstanceID).SetInstanceAddr(s.Addr()).
		SetExpiresAt(exp).SetCallID("web").SetCseq(1).SetUserAgent(c.UserAgent).Exec(sys)
	if ent.IsConstraintError(err) {
		return nil // a refresh raced with the first write
	}
	return err
}

// RemoveWebContact ends a page's registration.
func (s *Server) RemoveWebContact(ctx context.Context, username, contact string) error {
	_, err := s.db.SIPRegistration.Delete().Where(sipregistration.Username(username), sipregistration.Contact(contact)).
		Exec(actor.AsSystem(ctx))
	return err
}

// LocalAddr is where a process on this host reaches the server over UDP:
// the listen address, with 127.0.0.1 when it listens on every interface.
func (s *Server) LocalAddr() string {
	a := s.udp.LocalAddr().(*net.UDPAddr)
	if a.IP == nil || a.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	return a.String()
}
