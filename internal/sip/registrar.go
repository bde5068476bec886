package sip

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/sipregistration"
)

// Registration is one registered contact of an account, as 设备列表 shows
// it (已注册 with the contact's address).
type Registration struct {
	Username  string
	Contact   string    // the Contact URI as registered
	Received  string    // host:port the registration came from
	Transport string    // udp or tcp
	Instance  string    // the instance holding the flow
	ExpiresAt time.Time // registrations past it are ignored
	UserAgent string
}

func registrationOf(r *ent.SIPRegistration) Registration {
	return Registration{Username: r.Username, Contact: r.Contact, Received: r.Received, Transport: r.Transport,
		Instance: r.Instance, ExpiresAt: r.ExpiresAt, UserAgent: r.UserAgent}
}

// Registrations returns the live registrations of usernames, by username;
// an account without any is absent from the map (未注册).
func (s *Server) Registrations(ctx context.Context, usernames []string) (map[string][]Registration, error) {
	rows, err := s.liveRegistrations(ctx, usernames)
	if err != nil {
		return nil, err
	}
	out := map[string][]Registration{}
	for _, r := range rows {
		out[r.Username] = append(out[r.Username], registrationOf(r))
	}
	return out, nil
}

func (s *Server) liveRegistrations(ctx context.Context, usernames []string) ([]*ent.SIPRegistration, error) {
	if len(usernames) == 0 {
		return nil, nil
	}
	return s.db.SIPRegistration.Query().
		Where(sipregistration.UsernameIn(usernames...), sipregistration.ExpiresAtGT(s.now())).
		Order(ent.Asc(sipregistration.FieldID)).All(actor.AsSystem(ctx))
}

func (s *Server) sweepRegistrations(ctx context.Context) error {
	_, err := s.db.SIPRegistration.Delete().Where(sipregistration.ExpiresAtLTE(s.now())).Exec(actor.AsSystem(ctx))
	return err
}

func (s *Server) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	acct, ok := s.authenticate(req, tx)
	if !ok {
		return
	}
	to := req.To()
	if to == nil || to.Address.User != acct.Username {
		s.respond(tx, req, 403, "Forbidden", reasonHeader(403, "Registering another account is not allowed"))
		return
	}
	ctx := actor.AsSystem(s.ctx)
	defExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			s.respond(tx, req, 400, "Bad Expires")
			return
		}
		defExpires = n
	}
	var contacts []*sip.ContactHeader
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			s.respond(tx, req, 400, "Bad Contact")
			return
		}
		contacts = append(contacts, c)
	}
	for _, c := range contacts {
		if c.Address.Wildcard {
			if len(contacts) != 1 || defExpires != 0 {
				s.respond(tx, req, 400, "Wildcard Contact Needs Expires 0")
				return
			}
			if _, err := s.db.SIPRegistration.Delete().Where(sipregistration.Username(acct.Username)).Exec(ctx); err != nil {
				s.internalError(tx, req, "removing registrations", err)
				return
			}
			s.registered(tx, req, acct.Username)
			return
		}
	}
	now := s.now()
	type binding struct {
		uri     string
		expires int
	}
	var bs []binding
	for _, c := range contacts {
		e := defExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				s.respond(tx, req, 400, "Bad Expires")
				return
			}
			e = n
		}
		if e < 0 {
			e = int(s.cfg.MaxExpires / time.Second)
		}
		if e > 0 && time.Duration(e)*time.Second < s.cfg.MinExpires {
			s.respond(tx, req, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(int(s.cfg.MinExpires/time.Second))))
			return
		}
		e = min(e, int(s.cfg.MaxExpires/time.Second))
		if c.Address.Scheme != "sip" && c.Address.Scheme != "sips" || c.Address.Host == "" {
			s.respond(tx, req, 400, "Bad Contact")
			return
		}
		bs = append(bs, binding{uri: c.Address.String(), expires: e})
	}
	callID, cseq := "", uint32(0)
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	if h := req.CSeq(); h != nil {
		cseq = h.SeqNo
	}
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = truncate(h.Value(), 128)
	}
	transport := strings.ToLower(req.Transport())
	for _, b := range bs {
		if len(b.uri) > 512 || len(callID) > 255 {
			s.respond(tx, req, 400, "Contact Too Long")
			return
		}
		err := s.bind(ctx, acct, b.uri, b.expires, now, req.Source(), transport, callID, cseq, ua)
		if err == errOutOfOrder {
			s.respond(tx, req, 500, "Out Of Order Registration", sip.NewHeader("Retry-After", "1"))
			return
		}
		if err != nil {
			s.internalError(tx, req, "saving registration", err)
			return
		}
	}
	s.registered(tx, req, acct.Username)
}

var errOutOfOrder = &RouteError{Code: 500, Reason: "out of order"}

// bind creates, refreshes or (expires 0) removes one contact.
func (s *Server) bind(ctx context.Context, acct Account, uri string, expires int, now time.Time, received, transport, callID string, cseq uint32, ua string) error {
	cur, err := s.db.SIPRegistration.Query().
		Where(sipregistration.Username(acct.Username), sipregistration.Contact(uri)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return err
	}
	if cur != nil && cur.CallID == callID && cseq <= cur.Cseq && cur.ExpiresAt.After(now) {
		return errOutOfOrder
	}
	if expires == 0 {
		if cur != nil {
			return s.db.SIPRegistration.DeleteOne(cur).Exec(ctx)
		}
		return nil
	}
	at := now.Add(time.Duration(expires) * time.Second)
	if cur != nil {
		return cur.Update().SetReceived(received).SetTransport(transport).SetInstance(s.cfg.InstanceID).
			SetInstanceAddr(s.Addr()).SetExpiresAt(at).SetCallID(callID).SetCseq(cseq).SetUserAgent(ua).Exec(ctx)
	}
	err = s.db.SIPRegistration.Create().SetUsername(acct.Username).SetCommunityID(acct.CommunityID).SetContact(uri).
		SetReceived(received).SetTransport(transport).SetInstance(s.cfg.InstanceID).SetInstanceAddr(s.Addr()).
		SetExpiresAt(at).SetCallID(callID).SetCseq(cseq).SetUserAgent(ua).Exec(ctx)
	if ent.IsConstraintError(err) {
		// The same contact registered twice at once: the other one won.
		return nil
	}
	return err
}

// registered answers 200 with every live contact of username.
func (s *Server) registered(tx sip.ServerTransaction, req *sip.Request, username string) {
	rows, err := s.liveRegistrations(s.ctx, []string{username})
	if err != nil {
		s.internalError(tx, req, "listing registrations", err)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	now := s.now()
	for _, r := range rows {
		left := int(r.ExpiresAt.Sub(now) / time.Second)
		res.AppendHeader(sip.NewHeader("Contact", "<"+r.Contact+">;expires="+strconv.Itoa(max(left, 1))))
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	if err := tx.Respond(res); err != nil {
		s.logger.Debug("responding to REGISTER", "err", err)
	}
}

func (s *Server) internalError(tx sip.ServerTransaction, req *sip.Request, what string, err error) {
	if s.ctx.Err() == nil {
		s.logger.Error(what, "method", req.Method, "err", err)
	}
	s.respond(tx, req, 500, "Server Internal Error")
}

func itoa(n int) string { return strconv.Itoa(n) }
