// Package card is 门禁卡: the cards of a community (普通卡, 超级卡, 恢复白卡,
// 时效, 停用) and their entries on device whitelists (internal/whitelist).
package card

import (
	"context"
	"slices"
	"strings"
	"time"

	"linli/internal/cardno"
	"linli/internal/ent"
	entcard "linli/internal/ent/card"
	"linli/internal/ent/predicate"
	"linli/internal/ent/resident"
	"linli/internal/ent/unit"
	"linli/internal/errs"
	"linli/internal/housing"
	"linli/internal/store"
	"linli/internal/whitelist"
)

// Service issues and manages a community's cards (门禁卡); every change
// reaches devices through the whitelist.
type Service struct {
	db *store.Store
	wl *whitelist.Service
}

// NewService returns a Service that records its changes in wl.
func NewService(db *store.Store, wl *whitelist.Service) *Service {
	return &Service{db: db, wl: wl}
}

// CardInput issues a card.
type CardInput struct {
	Number     string
	Format     cardno.Format // how Number is written: hex (default) or decimal
	Mode       string        // ic (default) or id_card
	ResidentID int           // normal cards only
	ValidUntil *time.Time    // nil: 永久有效
	UnitIDs    []int         // normal cards; empty: the resident's unit
}

func (s *Service) parseNumber(in CardInput) (string, error) {
	n, err := cardno.Parse(in.Number, in.Format)
	if err != nil {
		return "", errs.Field("number", err.Error())
	}
	return n, nil
}

func checkMode(mode string) (entcard.Mode, error) {
	if mode == "" {
		return entcard.ModeIc, nil
	}
	if entcard.ModeValidator(entcard.Mode(mode)) != nil {
		return "", errs.Field("mode", "卡模式只能是 ic（IC 卡）或 id_card（身份证）")
	}
	return entcard.Mode(mode), nil
}

func (s *Service) checkExpiry(v *time.Time) error {
	if v != nil && !v.After(s.wl.Now()) {
		return errs.Field("valid_until", "有效时间必须晚于现在；永久有效请不填")
	}
	return nil
}

// numberFree checks that number is not issued in the community.
func numberFree(ctx context.Context, tx *ent.Tx, cid int, number string) error {
	taken, err := tx.Card.Query().Where(entcard.CommunityID(cid), entcard.Number(number), entcard.StatusNEQ(entcard.StatusBlank)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return errs.Fieldf("number", "卡号 %s 已在本小区发过卡，请先恢复白卡或删除原卡", number)
	}
	return nil
}

// checkUnits checks that every unit belongs to community cid.
func checkUnits(ctx context.Context, tx *ent.Tx, cid int, ids []int) ([]int, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil, errs.Field("unit_ids", "请至少选择一个可开的单元")
	}
	n, err := tx.Unit.Query().Where(unit.CommunityID(cid), unit.IDIn(ids...)).Count(ctx)
	if err != nil {
		return nil, err
	}
	if n != len(ids) {
		return nil, errs.Field("unit_ids", "所选单元不存在")
	}
	return ids, nil
}

// checkCard checks what every new card needs: its number, mode and expiry.
func (s *Service) checkCard(in CardInput) (string, entcard.Mode, error) {
	number, err := s.parseNumber(in)
	if err != nil {
		return "", "", err
	}
	mode, err := checkMode(in.Mode)
	if err != nil {
		return "", "", err
	}
	return number, mode, s.checkExpiry(in.ValidUntil)
}

// IssueNormal issues a 普通卡 to a resident (发普通卡). It opens the
// resident's unit unless other units are given.
//
// Errors: errs.Invalid (number, resident, units, expiry), errs.NotFound.
func (s *Service) IssueNormal(ctx context.Context, cid int, in CardInput) (*ent.Card, error) {
	number, mode, err := s.checkCard(in)
	if err != nil {
		return nil, err
	}
	var created *ent.Card
	err = s.wl.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
		if _, err := store.Community(ctx, tx.Client(), cid); err != nil {
			return nil, err
		}
		r, err := tx.Resident.Query().Where(resident.ID(in.ResidentID), resident.CommunityID(cid)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, errs.Field("resident_id", "普通卡要发给本小区的业主：请先选择房间和业主")
		}
		if err != nil {
			return nil, err
		}
		units := in.UnitIDs
		if len(units) == 0 {
			units = []int{r.UnitID}
		}
		if units, err = checkUnits(ctx, tx, cid, units); err != nil {
			return nil, err
		}
		if err := numberFree(ctx, tx, cid, number); err != nil {
			return nil, err
		}
		validUntil := in.ValidUntil
		if r.AccessUntil != nil && (validUntil == nil || validUntil.After(*r.AccessUntil)) {
			validUntil = r.AccessUntil // the resident's own access ends then (租户有效期至)
		}
		created, err = tx.Card.Create().SetCommunityID(cid).SetNumber(number).SetMode(mode).SetType(entcard.TypeNormal).
			SetResidentID(r.ID).SetRoomID(r.RoomID).SetUnitIds(units).SetNillableValidUntil(validUntil).Save(ctx)
		if err != nil {
			return nil, store.Map(err, "门禁卡")
		}
		return []string{whitelist.CardKey(number)}, nil
	})
	return created, err
}

// IssueSuper issues a 超级卡 that opens every door of the community.
func (s *Service) IssueSuper(ctx context.Context, cid int, in CardInput) (*ent.Card, error) {
	number, mode, err := s.checkCard(in)
	if err != nil {
		return nil, err
	}
	var created *ent.Card
	err = s.wl.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
		if _, err := store.Community(ctx, tx.Client(), cid); err != nil {
			return nil, err
		}
		if err := numberFree(ctx, tx, cid, number); err != nil {
			return nil, err
		}
		created, err = tx.Card.Create().SetCommunityID(cid).SetNumber(number).SetMode(mode).SetType(entcard.TypeSuper).
			SetNillableValidUntil(in.ValidUntil).Save(ctx)
		if err != nil {
			return nil, store.Map(err, "门禁卡")
		}
		return []string{whitelist.CardKey(number)}, nil
	})
	return created, err
}

// updateCard loads card id of community cid (not blank), applies fn and
// records the change.
func (s *Service) updateCard(ctx context.Context, cid, id int, fn func(tx *ent.Tx, c *ent.Card) error) (*ent.Card, error) {
	var out *ent.Card
	err := s.wl.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
		c, err := tx.Card.Query().Where(entcard.ID(id), entcard.CommunityID(cid)).Only(ctx)
		if err != nil {
			return nil, store.Map(err, "门禁卡")
		}
		if c.Status == entcard.StatusBlank {
			return nil, errs.New(errs.Conflict, "该卡已恢复为白卡，请重新发卡")
		}
		if err := fn(tx, c); err != nil {
			return nil, err
		}
		out, err = tx.Card.Get(ctx, id)
		return []string{whitelist.CardKey(c.Number)}, err
	})
	return out, err
}

// SetUnits changes which units a normal card opens (权限).
func (s *Service) SetUnits(ctx context.Context, cid, id int, unitIDs []int) (*ent.Card, error) {
	return s.updateCard(ctx, cid, id, func(tx *ent.Tx, c *ent.Card) error {
		if c.Type == entcard.TypeSuper {
			return errs.New(errs.Invalid, "超级卡可开本小区所有门，不需要设置权限")
		}
		units, err := checkUnits(ctx, tx, cid, unitIDs)
		if err != nil {
			return err
		}
		return tx.Card.UpdateOneID(id).SetUnitIds(units).SetUpdatedAt(s.wl.Now()).Exec(ctx)
	})
}

// SetExpiry changes the validity of a card (时效); nil is 永久有效.
func (s *Service) SetExpiry(ctx context.Context, cid, id int, until *time.Time) (*ent.Card, error) {
	if err := s.checkExpiry(until); err != nil {
		return nil, err
	}
	return s.updateCard(ctx, cid, id, func(tx *ent.Tx, c *ent.Card) error {
		u := tx.Card.UpdateOneID(id).SetExpirySynced(false).SetUpdatedAt(s.wl.Now())
		if until == nil {
			u.ClearValidUntil()
		} else {
			u.SetValidUntil(*until)
		}
		return u.Exec(ctx)
	})
}

// SetEnabled stops (停用) or re-enables a card.
func (s *Service) SetEnabled(ctx context.Context, cid, id int, enabled bool) (*ent.Card, error) {
	return s.updateCard(ctx, cid, id, func(tx *ent.Tx, c *ent.Card) error {
		status := entcard.StatusDisabled
		if enabled {
			status = entcard.StatusActive
		}
		return tx.Card.UpdateOneID(id).SetStatus(status).SetUpdatedAt(s.wl.Now()).Exec(ctx)
	})
}

// Blank returns an issued card to blank (恢复白卡): it leaves every whitelist,
// its record stays, and its number can be issued again.
func (s *Service) Blank(ctx context.Context, cid, id int) (*ent.Card, error) {
	return s.updateCard(ctx, cid, id, func(tx *ent.Tx, c *ent.Card) error {
		return tx.Card.UpdateOneID(id).SetStatus(entcard.StatusBlank).SetUpdatedAt(s.wl.Now()).Exec(ctx)
	})
}

// Delete removes a card (删除) and takes it off every whitelist.
func (s *Service) Delete(ctx context.Context, cid, id int) error {
	return s.wl.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
		c, err := tx.Card.Query().Where(entcard.ID(id), entcard.CommunityID(cid)).Only(ctx)
		if err != nil {
			return nil, store.Map(err, "门禁卡")
		}
		if err := tx.Card.DeleteOneID(id).Exec(ctx); err != nil {
			return nil, err
		}
		if c.Status == entcard.StatusBlank {
			return nil, nil
		}
		return []string{whitelist.CardKey(c.Number)}, nil
	})
}

// CardFilter selects cards in 门禁卡列表.
type CardFilter struct {
	housing.Cascade
	Status string `query:"status" enum:"active,disabled,blank," doc:"状态；不填为正常和停用"`
	Number string `query:"number" maxLength:"20" doc:"卡号（部分）"`
}

// ListCards returns a page of cards of community cid (blank ones only when
// asked for by status), newest first.
func (s *Service) ListCards(ctx context.Context, cid int, f CardFilter, offset, limit int) ([]*ent.Card, int, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, 0, err
	}
	ps := []predicate.Card{entcard.CommunityID(cid)}
	ids, narrowed, err := f.Rooms(ctx, s.db.Client, cid)
	if err != nil {
		return nil, 0, err
	}
	if narrowed {
		// Super cards belong to no room; they show when no room is chosen.
		ps = append(ps, entcard.RoomIDIn(ids...))
	}
	if f.Status != "" {
		ps = append(ps, entcard.StatusEQ(entcard.Status(f.Status)))
	} else {
		ps = append(ps, entcard.StatusNEQ(entcard.StatusBlank))
	}
	if f.Number != "" {
		ps = append(ps, store.CardSearch.Contains(strings.ToUpper(strings.TrimSpace(f.Number))))
	}
	q := s.db.Card.Query().Where(ps...)
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	items, err := q.Order(ent.Desc(entcard.FieldCreatedAt), ent.Desc(entcard.FieldID)).Offset(offset).Limit(limit).All(ctx)
	return items, total, err
}
