package pass

import (
	"context"
	"time"

	"linli/internal/ent"
	entpass "linli/internal/ent/pass"
	"linli/internal/ent/passuse"
)

// CountUse counts one use of pass passID of community cid that device
// deviceID reported as its event eventID. A report counted already (a
// retry, however often) counts nothing; a pass the server does not know
// is ignored, so that the device's report still succeeds. When the uses
// reach the limit the pass leaves every whitelist in the same transaction.
// Uses reported after the pass ran out are counted too: the door did open.
func (s *Service) CountUse(ctx context.Context, cid, deviceID, passID int, eventID string, at time.Time) error {
	counted := false
	err := s.db.InTx(ctx, func(tx *ent.Tx) error {
		p, err := tx.Pass.Query().Where(entpass.ID(passID), entpass.CommunityID(cid)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		seen, err := tx.PassUse.Query().Where(passuse.DeviceID(deviceID), passuse.EventID(eventID)).Exist(ctx)
		if err != nil || seen {
			return err
		}
		// A copy of the same report committed in between fails on the
		// unique index; the device retries and finds it counted.
		if err := tx.PassUse.Create().SetCommunityID(cid).SetPassID(p.ID).SetDeviceID(deviceID).SetEventID(eventID).
			SetUsedAt(at).SetCreatedAt(s.now()).Exec(ctx); err != nil {
			return err
		}
		if err := tx.Pass.UpdateOneID(p.ID).AddUses(1).Exec(ctx); err != nil {
			return err
		}
		counted = true
		// Every device learns the new count; at the limit the pass is gone.
		return s.changed(ctx, tx, cid, p.ID)
	})
	if err != nil || !counted || s.listener == nil {
		return err
	}
	if p, err := s.db.Pass.Get(ctx, passID); err == nil {
		s.listener.PassUsed(ctx, p)
	}
	return nil
}
