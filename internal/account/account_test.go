package account_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"linli/internal/account"
	"linli/internal/actor"
	entaccount "linli/internal/ent/account"
	"linli/internal/store"
	"linli/internal/storetest"
)

// TestEnsureOperatorTogether starts several instances' worth of
// EnsureOperator at once on a new database: exactly one creates the first
// operator, the others find it and none fails.
func TestEnsureOperatorTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		const n = 4
		var wg sync.WaitGroup
		created := make([]bool, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				s := account.NewService(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
				created[i], errs[i] = s.EnsureOperator(context.Background(), "admin", "Initial-Pass-1")
			})
		}
		wg.Wait()
		made := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("instance %d: %v", i+1, errs[i])
			}
			if created[i] {
				made++
			}
		}
		if made != 1 {
			t.Errorf("%d of %d created the first operator, want 1", made, n)
		}
		count := db.Account.Query().Where(entaccount.RoleEQ(entaccount.RoleOperator)).CountX(actor.AsSystem(context.Background()))
		if count != 1 {
			t.Errorf("%d operators, want 1", count)
		}
	})
}
