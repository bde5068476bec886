package sip

// Several instances on one PostgreSQL database.
//
// Every registration row records the instance that holds its flow (the UDP
// source or TCP connection the contact registered through) and that
// instance's own SIP address. When a call arrives at instance A for a
// contact whose flow instance B holds, A does not try to reach the contact
// itself (a NAT binding or TCP connection only works from B): it sends the
// branch INVITE to B's address, with the contact as Request-URI and an
// X-Linli-Relay header naming the registration, signed for this call
// (Call-ID) with the key all instances share (SIPKey in the database). B checks the signature, finds
// the registration, and forwards the INVITE down its flow as a one-branch
// fork without ring time (A keeps time, cancels and records the call).
// Both instances Record-Route, so in-dialog requests travel
// caller ⇄ A ⇄ B ⇄ callee. An unsigned or wrongly signed relay header is
// refused (403): it cannot be used to skip authentication.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"linli/internal/actor"
)

const relayHeader = "X-Linli-Relay"

// relaySig signs a registration id for one call, so that a captured
// header cannot ring the contact in another call.
func (s *Server) relaySig(id, callID string) string {
	m := hmac.New(sha256.New, s.auth.key)
	m.Write([]byte("relay:" + id + ":" + callID))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// relayToken is the X-Linli-Relay value for registration id in a call.
func (s *Server) relayToken(id int, callID string) string {
	v := strconv.Itoa(id)
	return v + ";sig=" + s.relaySig(v, callID)
}

// relayed serves a branch another instance sent here for a flow this one
// holds.
func (s *Server) relayed(req *sip.Request, tx sip.ServerTransaction, v string) {
	id, sig, ok := strings.Cut(v, ";sig=")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.relaySig(id, req.CallID().Value()))) {
		s.respond(tx, req, 403, "Forbidden", reasonHeader(403, "Bad relay signature"))
		return
	}
	n, err := strconv.Atoi(id)
	if err != nil {
		s.respond(tx, req, 400, "Bad Request")
		return
	}
	reg, err := s.db.SIPRegistration.Get(actor.AsSystem(s.ctx), n)
	if err != nil || reg.Instance != s.cfg.InstanceID || !reg.ExpiresAt.After(s.now()) {
		s.respond(tx, req, 480, "Temporarily Unavailable", reasonHeader(480, "Registration gone"))
		return
	}
	var u sip.Uri
	if err := sip.ParseUri(reg.Contact, &u); err != nil {
		s.respond(tx, req, 480, "Temporarily Unavailable")
		return
	}
	s.respond(tx, req, 100, "Trying")
	t := target{uri: u, flow: flow{addr: reg.Received, transport: strings.ToUpper(reg.Transport)}}
	d := s.dialog.open(s, req, nil)
	f := &fork{s: s, req: req, tx: tx, d: d}
	f.run([][]target{{t}}, 1)
}
