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

// CountRegistrations counts the live registrations of every account, as
// all instances recorded them.
func (s *Server) CountRegistrations(ctx context.Context) (int, error) {
	return s.db.SIPRegistration.Query().Where(sipregistration.ExpiresAtGT(s.now())).Count(actor.AsSystem(ctx))
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
			s.write(tx, req, &regOp{acct: acct, wildcard: true})
			return
		}
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
	for _, b := range bs {
		if len(b.uri) > 512 || len(callID) > 255 {
			s.respond(tx, req, 400, "Contact Too Long")
			return
		}
	}
	s.write(tx, req, &regOp{acct: acct, binds: bs, received: req.Source(), transport: strings.ToLower(req.Transport()),
		callID: callID, cseq: cseq, ua: ua})
}

// regLinger is how long the registration writer waits for more REGISTERs
// to join a batch; small beside a REGISTER's round trip.
const regLinger = time.Millisecond

type binding struct {
	uri     string
	expires int
}

// regOp is one REGISTER's change, applied by the registration writer.
type regOp struct {
	acct                        Account
	wildcard                    bool
	binds                       []binding
	received, transport, callID string
	cseq                        uint32
	ua                          string

	contacts []liveContact // the account's live contacts afterwards
	err      error
	done     chan struct{}
}

// write hands op to the registration writer and answers the REGISTER when
// it is committed.
func (s *Server) write(tx sip.ServerTransaction, req *sip.Request, op *regOp) {
	op.done = make(chan struct{})
	select {
	case s.regWrites <- op:
	case <-s.ctx.Done():
		return
	}
	select {
	case <-op.done:
	case <-s.ctx.Done():
		return
	}
	switch {
	case op.err != nil:
		s.internalError(tx, req, "saving registration", op.err)
	default:
		s.registered(tx, req, op.contacts)
	}
}

// writeRegistrations applies REGISTERs in batches, one transaction each
// (group commit): under load hundreds of registrations share one commit,
// and each is answered only once its batch is in the database.
func (s *Server) writeRegistrations() {
	for {
		var batch []*regOp
		select {
		case op := <-s.regWrites:
			batch = append(batch, op)
		case <-s.ctx.Done():
			return
		}
		// Under load a short wait fills the batch: one commit then serves
		// many REGISTERs, and commits are what the database spends on.
		linger := time.NewTimer(regLinger)
	more:
		for len(batch) < 500 {
			select {
			case op := <-s.regWrites:
				batch = append(batch, op)
			case <-linger.C:
				break more
			case <-s.ctx.Done():
				break more
			}
		}
		linger.Stop()
		err := s.applyBatch(batch)
		for _, op := range batch {
			if err != nil && op.err == nil {
				op.err = err
			}
			close(op.done)
		}
	}
}

// applyBatch writes a batch in one transaction with the prepared
// statements: one upsert or delete per contact, then the live contacts of
// each account in the batch, read in the same transaction. A REGISTER older
// than the stored one (same Call-ID, lower CSeq, RFC 3261 §10.3 step 7)
// changes nothing.
func (s *Server) applyBatch(batch []*regOp) error {
	ctx := s.ctx
	tx, err := s.db.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	st := s.stmts.in(ctx, tx)
	defer st.close()
	now := s.now().UTC()
	users := map[string][]*regOp{}
	for _, op := range batch {
		users[op.acct.Username] = append(users[op.acct.Username], op)
		if op.wildcard {
			if _, err := st.deleteAll.ExecContext(ctx, op.acct.Username); err != nil {
				return err
			}
		}
		for _, b := range op.binds {
			if b.expires == 0 {
				if _, err := st.deleteOne.ExecContext(ctx, op.acct.Username, b.uri); err != nil {
					return err
				}
				continue
			}
			_, err := st.upsert.ExecContext(ctx,
				now, op.acct.Username, op.acct.CommunityID, b.uri, op.received, op.transport, s.cfg.InstanceID, s.Addr(),
				now.Add(time.Duration(b.expires)*time.Second), op.callID, int64(op.cseq), op.ua)
			if err != nil {
				return err
			}
		}
	}
	for name, ops := range users {
		live, err := st.contacts(ctx, name, now)
		if err != nil {
			return err
		}
		for _, op := range ops {
			op.contacts = live
		}
	}
	return tx.Commit()
}

// registered answers 200 with every live contact of the account.
func (s *Server) registered(tx sip.ServerTransaction, req *sip.Request, contacts []liveContact) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	now := s.now()
	for _, c := range contacts {
		left := int(c.expiresAt.Sub(now) / time.Second)
		res.AppendHeader(sip.NewHeader("Contact", "<"+c.uri+">;expires="+strconv.Itoa(max(left, 1))))
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
