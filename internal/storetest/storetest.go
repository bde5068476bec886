// Package storetest opens real databases for tests: SQLite in a temporary
// directory always, and PostgreSQL when TEST_POSTGRES_URL is set, each test
// in a fresh database that is dropped afterwards.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"linli/internal/store"
)

// Backend is a database engine a test runs on.
type Backend struct {
	Name string // "sqlite" or "postgres"
	// URL opens a fresh, empty database and returns its URL ("" for SQLite
	// in dataDir). The database is dropped when the test ends.
	URL func(tb testing.TB) string
}

// Backends returns SQLite, plus PostgreSQL when TEST_POSTGRES_URL is set.
func Backends() []Backend {
	bs := []Backend{{Name: "sqlite", URL: func(testing.TB) string { return "" }}}
	if base := os.Getenv("TEST_POSTGRES_URL"); base != "" {
		bs = append(bs, Backend{Name: "postgres", URL: func(tb testing.TB) string { return FreshPostgres(tb, base) }})
	}
	return bs
}

// Each runs fn once per backend as a subtest, with a freshly migrated store.
func Each(t *testing.T, fn func(t *testing.T, db *store.Store)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, Open(t, b))
		})
	}
}

// Open opens a migrated store on backend b, closed when the test ends.
func Open(tb testing.TB, b Backend) *store.Store {
	tb.Helper()
	db, err := store.Open(context.Background(), b.URL(tb), tb.TempDir())
	if err != nil {
		tb.Fatalf("open %s store: %v", b.Name, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// FreshPostgres creates a new database on the server of base and returns its
// URL; the database is dropped in tb.Cleanup.
func FreshPostgres(tb testing.TB, base string) string {
	tb.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "linli_test_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("postgres: create database: %v (is TEST_POSTGRES_URL=%s reachable?)", err, base)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			tb.Errorf("postgres: %v", err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("postgres: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("postgres url: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
