package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	entsql "entgo.io/ent/dialect/sql"

	"linli/internal/ent/application"
	"linli/internal/ent/card"
	"linli/internal/ent/pass"
	"linli/internal/ent/resident"
)

// SearchBox is a search box of the console: the text columns of one table
// that a query is looked for in, as a substring of any of them. Each box's
// columns are indexed for substring search: by an FTS5 trigram table on
// SQLite, by pg_trgm GIN indexes on PostgreSQL.
type SearchBox struct {
	table   string
	columns []string
}

// The search boxes. Migrate indexes exactly these.
var (
	// ResidentSearch is the resident list's 姓名或手机号.
	ResidentSearch = SearchBox{resident.Table, []string{resident.FieldName, resident.FieldPhone}}
	// ApplicationSearch is the application list's 姓名或手机号.
	ApplicationSearch = SearchBox{application.Table, []string{application.FieldName, application.FieldPhone}}
	// CardSearch is the card list's 卡号.
	CardSearch = SearchBox{card.Table, []string{card.FieldNumber}}
	// PassSearch is the visitor pass list's 访客姓名.
	PassSearch = SearchBox{pass.Table, []string{pass.FieldVisitorName}}
)

func searchBoxes() []SearchBox {
	return []SearchBox{ResidentSearch, ApplicationSearch, CardSearch, PassSearch}
}

// trigram is the shortest query a trigram index can look up; shorter ones
// scan the rows.
const trigram = 3

// Contains returns the predicate "one of the box's columns contains q", for
// the Where of the box's table. It selects exactly what LIKE '%q%' selects
// (q taken literally, % and _ included): on SQLite ASCII letters match
// either case, on PostgreSQL case counts. On SQLite a query of three or more
// characters first looks up the candidates in the FTS5 trigram table, which
// folds case more widely, and LIKE then keeps the exact matches; on
// PostgreSQL the planner uses the trigram indexes for the LIKE itself.
func (b SearchBox) Contains(q string) func(*entsql.Selector) {
	return func(s *entsql.Selector) {
		like := make([]*entsql.Predicate, len(b.columns))
		for i, c := range b.columns {
			like[i] = entsql.Contains(s.C(c), q)
		}
		p := entsql.Or(like...)
		if s.Dialect() == dialectSQLite && utf8.RuneCountInString(q) >= trigram {
			fts := b.ftsTable()
			candidates := entsql.Select("rowid").From(entsql.Table(fts)).
				Where(entsql.P(func(m *entsql.Builder) { m.Ident(fts).WriteString(" MATCH ").Arg(ftsPhrase(q)) }))
			p = entsql.And(entsql.In(s.C("id"), candidates), p)
		}
		s.Where(p)
	}
}

// ftsPhrase quotes q as one FTS5 string: with the trigram tokenizer it
// matches the rows that hold q as a substring (case folded).
func ftsPhrase(q string) string {
	return `"` + strings.ReplaceAll(q, `"`, `""`) + `"`
}

func (b SearchBox) ftsTable() string { return b.table + "_fts" }

// migrateSearch creates the substring indexes of the search boxes after
// ent's migration, which does not know them.
func migrateSearch(ctx context.Context, db *sql.DB, dialect string) (unindexed error, err error) {
	if dialect == dialectPostgres {
		return migrateSearchPostgres(ctx, db)
	}
	for _, b := range searchBoxes() {
		if err := b.migrateSQLite(ctx, db); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// migrateSQLite keeps an external-content FTS5 trigram table over the box's
// columns in step with its table by triggers. When the table or a trigger was
// missing (a new database, a database from before search was indexed, or a
// table that ent rebuilt, dropping its triggers), the index is rebuilt from
// the table, in the same transaction.
func (b SearchBox) migrateSQLite(ctx context.Context, db *sql.DB) error {
	fts, cols := b.ftsTable(), strings.Join(b.columns, ", ")
	values := func(prefix string) string {
		vs := make([]string, len(b.columns))
		for i, c := range b.columns {
			vs[i] = prefix + c
		}
		return strings.Join(vs, ", ")
	}
	add := fmt.Sprintf("INSERT INTO %s(rowid, %s) VALUES (new.id, %s);", fts, cols, values("new."))
	remove := fmt.Sprintf("INSERT INTO %s(%s, rowid, %s) VALUES ('delete', old.id, %s);", fts, fts, cols, values("old."))
	objects := []struct{ name, sql string }{
		{fts, fmt.Sprintf("CREATE VIRTUAL TABLE IF NOT EXISTS %s USING fts5(%s, content='%s', content_rowid='id', tokenize='trigram')", fts, cols, b.table)},
		{fts + "_insert", fmt.Sprintf("CREATE TRIGGER IF NOT EXISTS %s_insert AFTER INSERT ON %s BEGIN %s END", fts, b.table, add)},
		{fts + "_delete", fmt.Sprintf("CREATE TRIGGER IF NOT EXISTS %s_delete AFTER DELETE ON %s BEGIN %s END", fts, b.table, remove)},
		{fts + "_update", fmt.Sprintf("CREATE TRIGGER IF NOT EXISTS %s_update AFTER UPDATE OF %s ON %s BEGIN %s %s END", fts, cols, b.table, remove, add)},
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	names := make([]any, len(objects))
	for i, o := range objects {
		names[i] = o.name
	}
	var present int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name IN (?, ?, ?, ?)", names...).Scan(&present); err != nil {
		return fmt.Errorf("search index %s: %w", fts, err)
	}
	if present == len(objects) {
		return nil
	}
	for _, o := range objects {
		if _, err := tx.ExecContext(ctx, o.sql); err != nil {
			return fmt.Errorf("search index %s: %w", o.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s(%s) VALUES ('rebuild')", fts, fts)); err != nil {
		return fmt.Errorf("search index %s: rebuild: %w", fts, err)
	}
	return tx.Commit()
}

// migrateSearchPostgres creates pg_trgm GIN indexes on the columns of the
// search boxes, under an advisory lock so that instances starting together
// do not race on CREATE EXTENSION. Without the right to create the extension
// it returns why as unindexed, and search keeps scanning.
func migrateSearchPostgres(ctx context.Context, db *sql.DB) (unindexed error, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('linli search indexes', 0))"); err != nil {
		return nil, fmt.Errorf("search indexes: lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm"); err != nil {
		return fmt.Errorf("create extension pg_trgm: %w", err), nil
	}
	for _, b := range searchBoxes() {
		for _, c := range b.columns {
			q := fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s_%s_trgm ON %s USING gin (%s gin_trgm_ops)", b.table, c, b.table, c)
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("search index %s.%s: %w", b.table, c, err)
			}
		}
	}
	return nil, tx.Commit()
}
