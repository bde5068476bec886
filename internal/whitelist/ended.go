package whitelist

import (
	"context"
	"fmt"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/card"
	"linli/internal/ent/pass"
	"linli/internal/ent/resident"
)

// EndResidents takes off devices the access of every resident whose access
// ended (租户有效期至 passed): their cards and face get that end as their
// own end of validity (unless they end earlier), so that they leave every
// whitelist as expired cards and faces do, and the passes they made are
// revoked, with one version bump per community. The background janitor calls it with ExpireDue.
func (s *Service) EndResidents(ctx context.Context) (int, error) {
	now := s.now()
	rs, err := s.db.Resident.Query().Where(resident.AccessUntilLT(now), resident.AccessEndedSynced(false)).Limit(5000).All(ctx)
	if err != nil {
		return 0, err
	}
	byCommunity := map[int][]*ent.Resident{}
	for _, r := range rs {
		byCommunity[r.CommunityID] = append(byCommunity[r.CommunityID], r)
	}
	n := 0
	for cid, rs := range byCommunity {
		err := s.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
			var keys []string
			for _, r := range rs {
				end := *r.AccessUntil
				cards, err := tx.Card.Query().Where(card.ResidentID(r.ID), card.StatusNEQ(card.StatusBlank)).All(ctx)
				if err != nil {
					return nil, err
				}
				for _, c := range cards {
					if c.ValidUntil == nil || c.ValidUntil.After(end) {
						if err := tx.Card.UpdateOneID(c.ID).SetValidUntil(end).SetExpirySynced(true).SetUpdatedAt(now).Exec(ctx); err != nil {
							return nil, err
						}
					}
					keys = append(keys, CardKey(c.Number))
				}
				u := tx.Resident.UpdateOneID(r.ID).SetAccessEndedSynced(true)
				if r.FaceValidTo == nil || r.FaceValidTo.After(end) {
					u.SetFaceValidTo(end).SetFaceExpirySynced(true)
				}
				if err := u.Exec(ctx); err != nil {
					return nil, err
				}
				keys = append(keys, FaceKey(r.ID))
				passes, err := revokePassesOf(ctx, tx, r.ID, now, "住户有效期已到")
				if err != nil {
					return nil, err
				}
				keys = append(keys, passes...)
			}
			return keys, nil
		})
		if err != nil {
			return n, fmt.Errorf("whitelist: end residents in community %d: %w", cid, err)
		}
		n += len(rs)
	}
	return n, nil
}

// revokePassesOf revokes, inside tx, the passes resident residentID made
// that can still open, giving why as who revoked them, and returns their keys.
func revokePassesOf(ctx context.Context, tx *ent.Tx, residentID int, now time.Time, why string) ([]string, error) {
	ids, err := tx.Pass.Query().Where(pass.ResidentID(residentID), pass.RevokedAtIsNil(), pass.ValidToGT(now)).IDs(ctx)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	if err := tx.Pass.Update().Where(pass.IDIn(ids...)).SetRevokedAt(now).SetRevokedBy(why).Exec(ctx); err != nil {
		return nil, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = PassKey(id)
	}
	return keys, nil
}
