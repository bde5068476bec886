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

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestSessionTimeouts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		hash, _ := password.Hash("Good-Password-1")
		db.Account.Create().SetAccount("zhang").SetRole("operator").SetPasswordHash(hash).SetMustChangePassword(false).ExecX(actor.AsSystem(ctx))
		clk := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
		s := NewService(db, testBox(t), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		s.now = clk.now

		browser, err := s.Login(ctx, "zhang", "Good-Password-1", false, ClientInfo{IP: "127.0.0.1"}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		remembered, err := s.Login(ctx, "zhang", "Good-Password-1", true, ClientInfo{IP: "127.0.0.1"}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		alive := func(token string) bool {
			p, err := s.Authenticate(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			return p != nil
		}
		// Used every 90 minutes, a browser session lives on …
		for range 5 {
			clk.t = clk.t.Add(90 * time.Minute)
			if !alive(browser.Token) {
				t.Fatalf("browser session died at %s although it was in use", clk.t)
			}
		}
		// … but not past 24 hours in all; left alone for over 2 hours it ends.
		clk.t = clk.t.Add(IdleTimeout + time.Minute)
		if alive(browser.Token) {
			t.Fatal("browser session survived its idle timeout")
		}
		// 自动登录 keeps the other one for 30 days, not a day more.
		if !alive(remembered.Token) {
			t.Fatal("remembered session ended early")
		}
		clk.t = time.Date(2026, 5, 31, 8, 59, 0, 0, time.UTC)
		if !alive(remembered.Token) {
			t.Fatal("remembered session ended before 30 days")
		}
		clk.t = clk.t.Add(2 * time.Minute)
		if alive(remembered.Token) {
			t.Fatal("remembered session outlived 30 days")
		}
	})
}

func TestLockExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		hash, _ := password.Hash("Good-Password-1")
		db.Account.Create().SetAccount("li").SetRole("operator").SetPasswordHash(hash).SetMustChangePassword(false).ExecX(actor.AsSystem(ctx))
		clk := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
		s := NewService(db, testBox(t), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		s.now = clk.now
		ci := ClientInfo{IP: "10.0.0.1"}
		// Ten failures spread over more than ten minutes do not lock.
		for range 10 {
			_, _ = s.Login(ctx, "li", "bad", false, ci, "", "")
			clk.t = clk.t.Add(70 * time.Second)
		}
		if _, err := s.Login(ctx, "li", "Good-Password-1", false, ci, "", ""); err != nil {
			t.Fatalf("10 failures over 11+ minutes locked the account: %v", err)
		}
		// Ten within ten minutes lock it for ten minutes.
		for range 10 {
			_, _ = s.Login(ctx, "li", "bad", false, ci, "", "")
			clk.t = clk.t.Add(5 * time.Second)
		}
		if _, err := s.Login(ctx, "li", "Good-Password-1", false, ci, "", ""); err == nil {
			t.Fatal("account not locked after 10 failures in 50 seconds")
		}
		clk.t = clk.t.Add(LockFor)
		if _, err := s.Login(ctx, "li", "Good-Password-1", false, ci, "", ""); err != nil {
			t.Fatalf("still locked after %s: %v", LockFor, err)
		}
	})
}
