package sip

import (
	"context"
	"strings"
	"sync"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/loginfailure"
	"linli/internal/store"
)

// failurePrefix marks the LoginFailure rows of SIP accounts.
const failurePrefix = "sip:"

// failureFeed shares the wrong-password throttle between the instances on
// one database. Each instance counts and checks attempts in memory (a
// database round trip on every REGISTER would cost more than the digest
// itself) and writes each wrong password as a LoginFailure row; every
// second it reads the rows the other instances wrote since and counts them
// too. A start reads the last window's rows, so a restart does not reset the
// throttle. Within an instance the limit is exact (attempts are counted
// before they are checked); across n instances a burst can get at most n
// times the limit checked in the second before the feed catches up.
type failureFeed struct {
	db    *store.Store
	limit *limiter
	now   func() time.Time

	mu   sync.Mutex
	last int              // the highest row id read
	mine map[int]struct{} // rows this instance wrote and has not read back yet
}

func newFailureFeed(db *store.Store, limit *limiter, now func() time.Time) *failureFeed {
	return &failureFeed{db: db, limit: limit, now: now, mine: map[int]struct{}{}}
}

// record writes a wrong password of user from ip. It holds the feed's lock
// so that a poll cannot read the row before it is known to be this
// instance's own (it is counted already, by its reservation).
func (f *failureFeed) record(ctx context.Context, user, ip string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.db.LoginFailure.Create().SetAccount(truncate(failurePrefix+user, 64)).SetIP(truncate(ip, 64)).
		SetCreatedAt(f.now()).Save(actor.AsSystem(ctx))
	if err != nil {
		return err
	}
	f.mine[r.ID] = struct{}{}
	return nil
}

// load counts the failures of the last window, from every instance.
func (f *failureFeed) load(ctx context.Context) error {
	since := f.now().Add(-f.limit.window)
	rows, err := f.db.LoginFailure.Query().
		Where(loginfailure.AccountHasPrefix(failurePrefix), loginfailure.CreatedAtGT(since)).
		Order(ent.Asc(loginfailure.FieldID)).All(actor.AsSystem(ctx))
	if err != nil {
		return err
	}
	last := 0
	newest, err := f.db.LoginFailure.Query().Order(ent.Desc(loginfailure.FieldID)).First(actor.AsSystem(ctx))
	switch {
	case err == nil:
		last = newest.ID
	case !ent.IsNotFound(err):
		return err
	}
	for _, r := range rows {
		f.limit.add(strings.TrimPrefix(r.Account, failurePrefix), r.IP, r.CreatedAt)
	}
	f.mu.Lock()
	f.last = max(last, f.last)
	f.mu.Unlock()
	return nil
}

// poll counts the failures the other instances wrote since the last poll.
// Rows are read by id; a row whose id was taken before but committed after
// a poll is missed, which only makes the throttle a little more lenient.
func (f *failureFeed) poll(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rows, err := f.db.LoginFailure.Query().
		Where(loginfailure.IDGT(f.last), loginfailure.AccountHasPrefix(failurePrefix)).
		Order(ent.Asc(loginfailure.FieldID)).Limit(10_000).All(actor.AsSystem(ctx))
	if err != nil || len(rows) == 0 {
		return err
	}
	for _, r := range rows {
		if _, ok := f.mine[r.ID]; ok {
			delete(f.mine, r.ID)
		} else {
			f.limit.add(strings.TrimPrefix(r.Account, failurePrefix), r.IP, r.CreatedAt)
		}
		f.last = max(f.last, r.ID)
	}
	// Ids below the last read that were never seen (rolled back, purged)
	// cannot come any more.
	for id := range f.mine {
		if id <= f.last {
			delete(f.mine, id)
		}
	}
	return nil
}

// run polls every interval until ctx ends.
func (f *failureFeed) run(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := f.poll(ctx); err != nil && ctx.Err() == nil {
				onErr(err)
			}
		}
	}
}
