package whitelist

import (
	"context"
	"slices"

	"linli/internal/ent"
	"linli/internal/ent/card"
)

// ResidentDeleted takes a deleted resident's cards, face and visitor
// passes off every whitelist: the cards become blank (their history
// stays), the passes revoked.
func (s *Service) ResidentDeleted(ctx context.Context, tx *ent.Tx, r *ent.Resident) error {
	return s.ChangeIn(ctx, tx, r.CommunityID, func(tx *ent.Tx) ([]string, error) {
		cards, err := tx.Card.Query().Where(card.ResidentID(r.ID), card.StatusNEQ(card.StatusBlank)).All(ctx)
		if err != nil {
			return nil, err
		}
		keys := []string{FaceKey(r.ID)}
		for _, c := range cards {
			if err := tx.Card.UpdateOneID(c.ID).SetStatus(card.StatusBlank).ClearResidentID().Exec(ctx); err != nil {
				return nil, err
			}
			keys = append(keys, CardKey(c.Number))
		}
		passes, err := revokePassesOf(ctx, tx, r.ID, s.now(), "住户已删除")
		return append(keys, passes...), err
	})
}

// ResidentChanged records that a resident's face entry may have changed
// (photo, validity, enabled, or the room and so the unit). When the resident
// moved, their normal cards move with them: the card's room becomes the new
// room and the old room's unit is replaced by the new one among the units
// the card opens.
func (s *Service) ResidentChanged(ctx context.Context, tx *ent.Tx, r *ent.Resident) error {
	return s.ChangeIn(ctx, tx, r.CommunityID, func(tx *ent.Tx) ([]string, error) {
		keys := []string{FaceKey(r.ID)}
		cards, err := tx.Card.Query().Where(card.ResidentID(r.ID), card.StatusNEQ(card.StatusBlank), card.RoomIDNEQ(r.RoomID)).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range cards {
			units := slices.Clone(c.UnitIds)
			if c.RoomID != nil {
				if old, err := tx.Room.Get(ctx, *c.RoomID); err == nil {
					units = slices.DeleteFunc(units, func(u int) bool { return u == old.UnitID })
				}
			}
			units = append(units, r.UnitID)
			slices.Sort(units)
			units = slices.Compact(units)
			if err := tx.Card.UpdateOneID(c.ID).SetRoomID(r.RoomID).SetUnitIds(units).SetUpdatedAt(s.now()).Exec(ctx); err != nil {
				return nil, err
			}
			keys = append(keys, CardKey(c.Number))
		}
		return keys, nil
	})
}
