// Package whitelist is what devices hold and how they keep it (门禁白名单):
// the versioned change log of each community, the deltas and snapshots
// that GET /device/v1/sync answers, residents' faces, and what follows a
// resident's end (deleted, moved, access ended) and the end of an entry's
// time (the janitor's expiry).
//
// The features feed it: cards (internal/card), notices (internal/notice),
// door-station ads (internal/ad) and visitor passes (internal/pass) each
// give a Source of their entries and record their changes through Change
// or ChangeIn. Every change bumps the community's sync version in the same
// transaction and records which entry changed; a device asks for the
// changes after its version and gets those entries' current state.
package whitelist

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/syncchange"
	"linli/internal/store"
)

// Service keeps the change log and answers devices' syncs.
type Service struct {
	db      *store.Store
	logger  *slog.Logger
	now     func() time.Time
	sources []Source
	// devices, if set, are nudged after each change (the MQTT layer sends
	// "sync to V" on their cmd topics, with the change itself when it is
	// small), and answer the sync requests of devices.
	devices Devices
	// snapshots bounds how many full whitelists are built at once: when a
	// whole estate's devices come back together, each would otherwise hold
	// its own copy of the community's cards in memory at the same time.
	snapshots chan struct{}
	// served, if set, is told of every sync answered: a full snapshot or
	// a delta.
	served func(full bool)
}

// An Option changes a Service as it is made.
type Option func(*Service)

// WithClock makes the Service, and the features that stamp their changes
// with its Now, go by now instead of the wall clock (tests move time).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// WithDevices makes the Service nudge devices about every new whitelist
// version and serve their syncs.
func WithDevices(d Devices) Option {
	return func(s *Service) { s.devices = d }
}

// WithSyncsServed makes the Service tell served of every sync it answers,
// full (a whole whitelist) or not (a delta), for the server's metrics.
func WithSyncsServed(served func(full bool)) Option {
	return func(s *Service) { s.served = served }
}

// NewService returns a Service whose whitelists are made of the entries of
// sources, in the order a delta lists their changes, and of residents'
// faces.
func NewService(db *store.Store, logger *slog.Logger, sources []Source, opts ...Option) *Service {
	s := &Service{db: db, logger: logger, now: time.Now, snapshots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	s.sources = append(slices.Clone(sources), faces{db: db})
	for _, o := range opts {
		o(s)
	}
	return s
}

// Now is the time whitelists go by; features stamp their changes with it.
func (s *Service) Now() time.Time { return s.now() }

// bump records that keys (sorted, without repeats) changed in community cid, inside tx, and returns
// the new version. The UPDATE takes the community row's lock until commit,
// so versions of one community commit in order and a device that has seen
// version V has seen every change up to V.
func (s *Service) bump(ctx context.Context, tx *ent.Tx, cid int, keys ...string) (int64, error) {
	c, err := tx.Community.UpdateOneID(cid).AddSyncVersion(1).Save(ctx)
	if err != nil {
		return 0, store.Map(err, "小区")
	}
	creates := make([]*ent.SyncChangeCreate, len(keys))
	for i, k := range keys {
		creates[i] = tx.SyncChange.Create().SetCommunityID(cid).SetVersion(c.SyncVersion).SetKey(k).SetCreatedAt(s.now())
	}
	if err := tx.SyncChange.CreateBulk(creates...).Exec(ctx); err != nil {
		return 0, err
	}
	return c.SyncVersion, nil
}

// Change runs fn in a transaction that ends with a version bump for the
// keys fn returns, then nudges the community's devices. fn's error is
// returned as it is.
func (s *Service) Change(ctx context.Context, cid int, fn func(tx *ent.Tx) ([]string, error)) error {
	return s.db.InTx(ctx, func(tx *ent.Tx) error { return s.ChangeIn(ctx, tx, cid, fn) })
}

// ChangeIn is Change inside a transaction that the caller owns: devices
// are nudged once it commits.
func (s *Service) ChangeIn(ctx context.Context, tx *ent.Tx, cid int, fn func(tx *ent.Tx) ([]string, error)) error {
	keys, err := fn(tx)
	if err != nil || len(keys) == 0 {
		return err
	}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	version, err := s.bump(ctx, tx, cid, keys...)
	if err != nil {
		return err
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil && s.devices != nil {
				// The devices hear of the change even when the request
				// that made it goes away meanwhile.
				ctx := context.WithoutCancel(ctx)
				s.devices.Nudge(ctx, s.nudge(ctx, cid, version, keys))
			}
			return err
		})
	})
	return nil
}

// PurgeChanges deletes change records older than keep; devices further
// behind get a full snapshot.
func (s *Service) PurgeChanges(ctx context.Context, keep time.Duration) error {
	_, err := s.db.SyncChange.Delete().Where(syncchange.CreatedAtLT(s.now().Add(-keep))).Exec(ctx)
	return err
}
