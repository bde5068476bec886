package card

import (
	"context"
	"slices"
	"strings"
	"time"

	"linli/internal/ent"
	entcard "linli/internal/ent/card"
	"linli/internal/ent/predicate"
	"linli/internal/store"
	"linli/internal/whitelist"
)

// source is the cards' part of whitelists.
type source struct{ db *store.Store }

// NewSource returns the whitelist source of the cards in db.
func NewSource(db *store.Store) whitelist.Source { return source{db: db} }

func (source) Prefix() string { return "card:" }

// Entries returns the cards that open at loc at now: every active card in
// time, by number among keys when given (a blank card is no card).
func (s source) Entries(ctx context.Context, loc whitelist.Location, now time.Time, keys []string) ([]whitelist.Entry, error) {
	q := s.db.Card.Query().Where(entcard.CommunityID(loc.CommunityID))
	if keys == nil {
		q.Where(entcard.StatusEQ(entcard.StatusActive))
	} else {
		q.Where(byKeys(keys))
	}
	cards, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	var out []whitelist.Entry
	for _, c := range cards {
		if opens(c, loc, now) {
			out = append(out, entry(c))
		}
	}
	return out, nil
}

// Targets returns the cards among keys of community cid, each held where
// it opens at now.
func (s source) Targets(ctx context.Context, cid int, now time.Time, keys []string) ([]whitelist.Target, error) {
	cards, err := s.db.Card.Query().Where(entcard.CommunityID(cid), byKeys(keys)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]whitelist.Target, len(cards))
	for i, c := range cards {
		out[i] = whitelist.Target{Entry: entry(c), Holds: func(loc whitelist.Location) bool { return opens(c, loc, now) }}
	}
	return out, nil
}

// byKeys selects the cards of keys that are cards (a blank card is none).
func byKeys(keys []string) predicate.Card {
	numbers := make([]string, len(keys))
	for i, k := range keys {
		numbers[i] = strings.TrimPrefix(k, "card:")
	}
	return entcard.And(entcard.NumberIn(numbers...), entcard.StatusNEQ(entcard.StatusBlank))
}

// opens reports whether card c belongs on the whitelist of loc at now.
func opens(c *ent.Card, loc whitelist.Location, now time.Time) bool {
	if c.Status != entcard.StatusActive || c.ValidUntil != nil && !now.Before(*c.ValidUntil) {
		return false
	}
	return c.Type == entcard.TypeSuper || loc.UnitID == 0 || slices.Contains(c.UnitIds, loc.UnitID)
}

func entry(c *ent.Card) whitelist.Entry {
	return whitelist.Entry{Key: whitelist.CardKey(c.Number), Kind: "card", Card: c.Number, Mode: string(c.Mode), ValidUntil: c.ValidUntil}
}
