package whitelist

import (
	"context"
	"fmt"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/card"
	"linli/internal/ent/notice"
	"linli/internal/ent/pass"
	"linli/internal/ent/resident"
)

// ExpireDue records, for every card, face, notice and visitor pass whose
// time ended, a change so that devices drop it at their next sync ("expired
// cards leave whitelists on their own"). The background janitor calls it
// every minute.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	ended, err := s.EndResidents(ctx)
	if err != nil {
		return 0, err
	}
	n, err := s.expireDue(ctx)
	return ended + n, err
}

func (s *Service) expireDue(ctx context.Context) (int, error) {
	now := s.now()
	cards, err := s.db.Card.Query().Where(card.StatusEQ(card.StatusActive), card.ValidUntilLTE(now), card.ExpirySynced(false)).Limit(5000).All(ctx)
	if err != nil {
		return 0, err
	}
	faces, err := s.db.Resident.Query().Where(resident.FaceEnabled(true), resident.FaceValidToLTE(now), resident.FaceExpirySynced(false)).Limit(5000).All(ctx)
	if err != nil {
		return 0, err
	}
	notices, err := s.db.Notice.Query().Where(notice.ShowUntilLTE(now), notice.ExpirySynced(false)).Limit(5000).All(ctx)
	if err != nil {
		return 0, err
	}
	// Per community: the cards, faces and notices that ran out, and their keys.
	type due struct {
		cards, faces, notices []int
		keys                  []string
	}
	byCommunity := map[int]*due{}
	get := func(cid int) *due {
		if byCommunity[cid] == nil {
			byCommunity[cid] = &due{}
		}
		return byCommunity[cid]
	}
	for _, c := range cards {
		d := get(c.CommunityID)
		d.cards, d.keys = append(d.cards, c.ID), append(d.keys, CardKey(c.Number))
	}
	for _, r := range faces {
		d := get(r.CommunityID)
		d.faces, d.keys = append(d.faces, r.ID), append(d.keys, FaceKey(r.ID))
	}
	for _, x := range notices {
		d := get(x.CommunityID)
		d.notices, d.keys = append(d.notices, x.ID), append(d.keys, NoticeKey(x.ID))
	}
	passes, err := s.expiredPasses(ctx, now)
	if err != nil {
		return 0, err
	}
	for cid, ids := range passes {
		d := get(cid)
		for _, id := range ids {
			d.keys = append(d.keys, PassKey(id))
		}
	}
	n := 0
	for cid, d := range byCommunity {
		err := s.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
			if err := tx.Card.Update().Where(card.IDIn(d.cards...)).SetExpirySynced(true).Exec(ctx); err != nil {
				return nil, err
			}
			if err := tx.Resident.Update().Where(resident.IDIn(d.faces...)).SetFaceExpirySynced(true).Exec(ctx); err != nil {
				return nil, err
			}
			if err := tx.Notice.Update().Where(notice.IDIn(d.notices...)).SetExpirySynced(true).Exec(ctx); err != nil {
				return nil, err
			}
			if err := markPassesExpired(ctx, tx, passes[cid]); err != nil {
				return nil, err
			}
			return d.keys, nil
		})
		if err != nil {
			return n, fmt.Errorf("whitelist: expire in community %d: %w", cid, err)
		}
		n += len(d.keys)
	}
	return n, nil
}

// expiredPasses returns, by community, the passes whose window ended that
// devices have not been told about.
func (s *Service) expiredPasses(ctx context.Context, now time.Time) (map[int][]int, error) {
	ps, err := s.db.Pass.Query().Where(pass.ValidToLTE(now), pass.ExpirySynced(false)).Limit(5000).
		Select(pass.FieldID, pass.FieldCommunityID).All(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int][]int{}
	for _, p := range ps {
		out[p.CommunityID] = append(out[p.CommunityID], p.ID)
	}
	return out, nil
}

func markPassesExpired(ctx context.Context, tx *ent.Tx, ids []int) error {
	if len(ids) == 0 {
		return nil
	}
	return tx.Pass.Update().Where(pass.IDIn(ids...)).SetExpirySynced(true).Exec(ctx)
}
