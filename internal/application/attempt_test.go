package application

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/errs"
	"linli/internal/store"
	"linli/internal/storetest"
)

// TestAttemptsPerAddress: the eleventh submission within an hour from one
// address is refused, other addresses are not affected, and attempts older
// than a day are purged.
func TestAttemptsPerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.AsSystem(context.Background())
		s := NewService(db, nil, nil, nil, nil, "", slog.New(slog.DiscardHandler))
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		for i := range PerIPPerHour {
			if err := s.reserve(ctx, "203.0.113.7"); err != nil {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		if err := s.reserve(ctx, "203.0.113.7"); errs.CodeOf(err) != errs.TooMany {
			t.Fatalf("attempt %d: %v, want TooMany", PerIPPerHour+1, err)
		}
		if err := s.reserve(ctx, "203.0.113.8"); err != nil {
			t.Fatalf("another address: %v", err)
		}
		now = now.Add(61 * time.Minute)
		if err := s.reserve(ctx, "203.0.113.7"); err != nil {
			t.Fatalf("an hour later: %v", err)
		}
		now = now.Add(25 * time.Hour)
		if err := s.PurgeAttempts(ctx); err != nil {
			t.Fatal(err)
		}
		if n := db.ApplicationAttempt.Query().CountX(ctx); n != 0 {
			t.Errorf("%d attempts left after a day", n)
		}
	})
}
