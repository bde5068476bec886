// Package access manages what devices hold (门禁): the cards of a community
// (普通卡, 超级卡, 恢复白卡, 时效, 停用), residents' faces, notices (小区通知,
// 房间通知) and door-station ads (门口机内容管理), which every device keeps in
// step with GET /device/v1/sync. Every change bumps the community's sync
// version in the same transaction and records which entry changed; a device
// asks for the changes after its version and gets those entries' current
// state.
package access

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"time"

	"linli/internal/blob"
	"linli/internal/ent"
	"linli/internal/ent/syncchange"
	"linli/internal/imaging"
	"linli/internal/store"
)

// Service manages cards and whitelists.
type Service struct {
	db     *store.Store
	logger *slog.Logger
	now    func() time.Time
	// nudge, if set, is told after each change so that devices sync now
	// (the MQTT layer sends "sync to V" on their cmd topics).
	nudge func(ctx context.Context, communityID int, version int64)
	// noticed, if set, is told of each notice sent, after it is committed
	// (to push it to residents' apps).
	noticed func(ctx context.Context, n *ent.Notice, roomIDs []int)
	// snapshots bounds how many full whitelists are built at once: when a
	// whole estate's devices come back together, each would otherwise hold
	// its own copy of the community's cards in memory at the same time.
	snapshots chan struct{}
	// files holds ad pictures, decoded through pictures.
	files    *blob.Dir
	pictures *imaging.Gate
}

// NewService returns a Service.
func NewService(db *store.Store, logger *slog.Logger) *Service {
	return &Service{db: db, logger: logger, now: time.Now, snapshots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
}

// OnChange sets the function told about every new whitelist version.
func (s *Service) OnChange(nudge func(ctx context.Context, communityID int, version int64)) {
	s.nudge = nudge
}

// OnNotice sets the function told about every notice sent, after commit.
func (s *Service) OnNotice(fn func(ctx context.Context, n *ent.Notice, roomIDs []int)) {
	s.noticed = fn
}

// Keys of whitelist entries.
func cardKey(number string) string  { return "card:" + number }
func faceKey(residentID int) string { return fmt.Sprintf("face:%d", residentID) }

// bump records that keys changed in community cid, inside tx, and returns
// the new version. The UPDATE takes the community row's lock until commit,
// so versions of one community commit in order and a device that has seen
// version V has seen every change up to V.
func (s *Service) bump(ctx context.Context, tx *ent.Tx, cid int, keys ...string) (int64, error) {
	c, err := tx.Community.UpdateOneID(cid).AddSyncVersion(1).Save(ctx)
	if err != nil {
		return 0, store.Map(err, "小区")
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	creates := make([]*ent.SyncChangeCreate, len(keys))
	for i, k := range keys {
		creates[i] = tx.SyncChange.Create().SetCommunityID(cid).SetVersion(c.SyncVersion).SetKey(k).SetCreatedAt(s.now())
	}
	if err := tx.SyncChange.CreateBulk(creates...).Exec(ctx); err != nil {
		return 0, err
	}
	return c.SyncVersion, nil
}

// change runs fn in a transaction that ends with a version bump for the keys
// fn returns, then nudges the community's devices.
func (s *Service) change(ctx context.Context, cid int, fn func(tx *ent.Tx) ([]string, error)) error {
	return s.db.InTx(ctx, func(tx *ent.Tx) error { return s.changeIn(ctx, tx, cid, fn) })
}

// changeIn is change inside a transaction that the caller owns: devices are
// nudged once it commits.
func (s *Service) changeIn(ctx context.Context, tx *ent.Tx, cid int, fn func(tx *ent.Tx) ([]string, error)) error {
	keys, err := fn(tx)
	if err != nil || len(keys) == 0 {
		return err
	}
	version, err := s.bump(ctx, tx, cid, keys...)
	if err != nil {
		return err
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil && s.nudge != nil {
				s.nudge(ctx, cid, version)
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
