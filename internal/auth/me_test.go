package auth

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/password"
	"linli/internal/store"
	"linli/internal/storetest"
)

// TestChangePasswordKeepsRemember: the forced change of an initial password
// gives the browser a new session that lasts as long as the user chose at
// login (自动登录: 30 days; otherwise a browser session).
func TestChangePasswordKeepsRemember(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
		s := NewService(db, testBox(t), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		s.now = clk.now
		for _, tc := range []struct {
			account  string
			remember bool
			lasts    time.Duration
		}{
			{"remembers", true, RememberFor},
			{"forgets", false, IdleTimeout},
		} {
			hash, _ := password.Hash("123456")
			db.Account.Create().SetAccount(tc.account).SetRole("operator").SetPasswordHash(hash).
				SetMustChangePassword(true).ExecX(actor.AsSystem(ctx))
			login, err := s.Login(ctx, tc.account, "123456", tc.remember, ClientInfo{IP: "127.0.0.1"}, "", "")
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Authenticate(ctx, login.Token)
			if err != nil || p == nil {
				t.Fatalf("%s: session after login: %v", tc.account, err)
			}
			res, err := s.ChangePassword(ctx, p, "123456", "Brand-New-Pass-7", ClientInfo{IP: "127.0.0.1"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Remember != tc.remember {
				t.Errorf("%s: remember after the change = %v, chosen at login %v", tc.account, res.Remember, tc.remember)
			}
			if got := res.ExpiresAt.Sub(clk.t); got != tc.lasts {
				t.Errorf("%s: the new session lasts %s, want %s", tc.account, got, tc.lasts)
			}
		}
	})
}
