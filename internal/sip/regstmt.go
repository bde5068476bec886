package sip

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// The registration writer's statements, prepared once at start: under load
// the writer runs thousands of them a second, and SQLite would otherwise
// parse each one again. The SQL is valid for SQLite and PostgreSQL alike.
const (
	upsertRegistration = `INSERT INTO sip_registrations
  (created_at, updated_at, username, community_id, contact, received, transport, instance, instance_addr, expires_at, call_id, cseq, user_agent)
  VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
  ON CONFLICT (username, contact) DO UPDATE SET updated_at = excluded.updated_at, received = excluded.received,
    transport = excluded.transport, instance = excluded.instance, instance_addr = excluded.instance_addr,
    expires_at = excluded.expires_at, call_id = excluded.call_id, cseq = excluded.cseq, user_agent = excluded.user_agent
  WHERE NOT (sip_registrations.call_id = excluded.call_id AND sip_registrations.cseq > excluded.cseq)`
	deleteRegistration  = `DELETE FROM sip_registrations WHERE username = $1 AND contact = $2`
	deleteRegistrations = `DELETE FROM sip_registrations WHERE username = $1`
	selectContacts      = `SELECT contact, expires_at FROM sip_registrations WHERE username = $1 AND expires_at > $2 ORDER BY id`
)

// liveContact is one registered contact as a 200 to REGISTER lists it.
type liveContact struct {
	uri       string
	expiresAt time.Time
}

type regStatements struct {
	upsert, deleteOne, deleteAll, selectLive *sql.Stmt
}

func prepareRegStatements(ctx context.Context, db *sql.DB) (*regStatements, error) {
	var st regStatements
	var err error
	for _, p := range []struct {
		to  **sql.Stmt
		sql string
	}{{&st.upsert, upsertRegistration}, {&st.deleteOne, deleteRegistration}, {&st.deleteAll, deleteRegistrations}, {&st.selectLive, selectContacts}} {
		if *p.to, err = db.PrepareContext(ctx, p.sql); err != nil {
			st.close()
			return nil, err
		}
	}
	return &st, nil
}

func (st *regStatements) close() {
	for _, s := range []*sql.Stmt{st.upsert, st.deleteOne, st.deleteAll, st.selectLive} {
		if s != nil {
			_ = s.Close()
		}
	}
}

// in returns the statements bound to tx; close them when tx ends.
func (st *regStatements) in(ctx context.Context, tx *sql.Tx) *regStatements {
	return &regStatements{
		upsert: tx.StmtContext(ctx, st.upsert), deleteOne: tx.StmtContext(ctx, st.deleteOne),
		deleteAll: tx.StmtContext(ctx, st.deleteAll), selectLive: tx.StmtContext(ctx, st.selectLive),
	}
}

// contacts returns the live contacts of username at now.
func (st *regStatements) contacts(ctx context.Context, username string, now time.Time) (cs []liveContact, err error) {
	rows, err := st.selectLive.QueryContext(ctx, username, now)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	for rows.Next() {
		var c liveContact
		if err := rows.Scan(&c.uri, &c.expiresAt); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}
