// Package store opens Linli's database — SQLite (pure Go) by default or
// PostgreSQL when the URL says so — applies the schema, and maps driver
// errors to the shared error vocabulary.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers "sqlite"

	"linli/internal/ent"
	"linli/internal/ent/migrate"
	_ "linli/internal/ent/runtime" // registers schema hooks and interceptors
)

// Store is an open database.
type Store struct {
	*ent.Client
	DB      *sql.DB
	Dialect string // dialect.SQLite or dialect.Postgres
	// SearchUnindexed says why the search boxes scan their tables instead
	// of using substring indexes (PostgreSQL without the right to create
	// pg_trgm); nil when they are indexed.
	SearchUnindexed error
}

// Open connects to url (empty: SQLite file linli.db in dataDir; postgres://…
// or postgresql://…: PostgreSQL) and migrates the schema.
func Open(ctx context.Context, url, dataDir string) (*Store, error) {
	var (
		db      *sql.DB
		dialect string
		err     error
	)
	switch {
	case url == "" || strings.HasPrefix(url, "sqlite:") || strings.HasPrefix(url, "file:"):
		db, err = openSQLite(url, dataDir)
		dialect = dialectSQLite
	case strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://"):
		db, err = openPostgres(url)
		dialect = dialectPostgres
	default:
		return nil, fmt.Errorf("store: unsupported database URL %q (want empty for SQLite, or postgres://…)", redact(url))
	}
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dialect, db)))
	if err := migrateSchema(ctx, client, db, dialect); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	unindexed, err := migrateSearch(ctx, db, dialect)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	s := &Store{Client: client, DB: db, Dialect: dialect, SearchUnindexed: unindexed}
	if dialect == dialectSQLite {
		s.analyze(ctx, "")
	}
	return s, nil
}

// analyze refreshes the planner's statistics, as SQLite advises on opening
// a database and both advise after large changes (PostgreSQL's autovacuum
// comes round only later): on SQLite of every table whose size changed
// much since it was last measured, on PostgreSQL of table. Without them the
// planners guess that community_id selects a handful of rows and walk a
// whole community instead of the few rows a search index finds. Statistics
// only guide the planner: when refreshing them fails, queries still give
// the same results, so the error is not reported.
func (s *Store) analyze(ctx context.Context, table string) {
	switch s.Dialect {
	case dialectSQLite:
		_, _ = s.DB.ExecContext(ctx, "PRAGMA optimize=0x10002")
	case dialectPostgres:
		_, _ = s.DB.ExecContext(ctx, "ANALYZE "+table)
	}
}

// Optimize keeps the planner's statistics fresh on a server that runs for
// months: SQLite advises running PRAGMA optimize every few hours on
// long-lived connections (it measures again only the tables whose size
// changed much, so it is cheap), as edits made one at a time otherwise
// leave the statistics of the day the database was opened. PostgreSQL's
// autovacuum does the same by itself, so there it does nothing.
func (s *Store) Optimize(ctx context.Context) {
	if s.Dialect == dialectSQLite {
		s.analyze(ctx, "")
	}
}

// migrating serializes the migrations of the stores one process opens:
// ent's migration completes the generated table descriptions (package
// variables of internal/ent/migrate) in place, so two stores migrating at
// once would race on them.
var migrating sync.Mutex

// migrateSchema brings the tables up to date. On PostgreSQL it holds an
// advisory lock meanwhile, so that instances starting together on one
// database migrate one after the other: two creating the same table at
// once fail on PostgreSQL's catalogue ("duplicate key value violates
// unique constraint pg_type_typname_nsp_index"), and the later one finds
// the tables made.
func migrateSchema(ctx context.Context, client *ent.Client, db *sql.DB, dialect string) error {
	migrating.Lock()
	defer migrating.Unlock()
	if dialect == dialectPostgres {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", schemaLock); err != nil {
			return fmt.Errorf("wait for other instances' migration: %w", err)
		}
		// The lock ends with the session at the latest; the connection goes
		// back to the pool, so it is released here.
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", schemaLock)
		}()
	}
	return client.Schema.Create(ctx, migrate.WithForeignKeys(true))
}

// schemaLock names the advisory lock of migrateSchema.
const schemaLock = "linli schema migration"

const (
	dialectSQLite   = dialect.SQLite
	dialectPostgres = dialect.Postgres
)

func openSQLite(url, dataDir string) (*sql.DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
	if path == "" {
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create data dir: %w", err)
		}
		path = filepath.Join(dataDir, SQLiteFile)
	}
	// WAL lets readers run beside the writer; busy_timeout makes writers wait
	// instead of failing; _txlock=immediate takes the write lock at BEGIN so
	// two transactions never deadlock upgrading a read lock. SQLite compares
	// times as text, so every time is written in UTC (_timezone), whatever
	// zone it came in: 00:00 in China and 16:00 UTC the day before compare
	// as the same moment.
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32000)&_txlock=immediate&_time_format=sqlite&_timezone=UTC"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

func openPostgres(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	// Statements are prepared once per connection. PostgreSQL would soon
	// plan them once for any value (a generic plan), guessing how many rows
	// a LIKE pattern selects: a search of the resident list then walks the
	// whole community in updated_at order instead of asking the trigram
	// indexes. Planned for their values, searches take the indexes when the
	// pattern is selective.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(8)
	db.SetConnMaxLifetime(30 * time.Minute)
	return db, nil
}

// redact hides a password in a database URL for messages.
func redact(url string) string {
	if at := strings.Index(url, "@"); at > 0 {
		if scheme := strings.Index(url, "://"); scheme > 0 && scheme < at {
			return url[:scheme+3] + "…" + url[at:]
		}
	}
	return url
}

// Close closes the database.
func (s *Store) Close() error { return s.Client.Close() }

// InTx runs fn in a transaction, committing when fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := s.Tx(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return Map(fmt.Errorf("store: commit: %w", err), "")
	}
	return nil
}

// Lock serializes transactions that name the same keys, on every instance:
// a check-then-record (count the attempts, then add one) done after Lock in
// tx cannot interleave with another one on those keys. On PostgreSQL it
// takes transaction-scoped advisory locks, in sorted order so that two
// transactions never wait on each other; on SQLite every write transaction
// already holds the database's only write lock from BEGIN (_txlock=immediate).
func (s *Store) Lock(ctx context.Context, tx *ent.Tx, keys ...string) error {
	if s.Dialect != dialectPostgres {
		return nil
	}
	keys = slices.Clone(keys)
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", k); err != nil {
			return fmt.Errorf("store: lock %q: %w", k, err)
		}
	}
	return nil
}
