package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SQLiteFile is the name of the SQLite database in the data directory.
const SQLiteFile = "linli.db"

// SQLitePath returns the file of the SQLite database that url (as Open
// takes it) names in dataDir; ok is false for PostgreSQL.
func SQLitePath(url, dataDir string) (path string, ok bool) {
	if url != "" && !strings.HasPrefix(url, "sqlite:") && !strings.HasPrefix(url, "file:") {
		return "", false
	}
	path = strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
	if path == "" {
		path = filepath.Join(dataDir, SQLiteFile)
	}
	return path, true
}

// openExisting opens the SQLite database at path for a one-off job, without
// creating it when it is missing and without migrating it.
func openExisting(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// SnapshotSQLite writes a consistent copy of the SQLite database at path to
// dest (which must not exist) with VACUUM INTO. It reads in one
// transaction, so a server may go on writing meanwhile.
func SnapshotSQLite(ctx context.Context, path, dest string) error {
	db, err := openExisting(path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("store: snapshot %s: %w", path, err)
	}
	return nil
}

// CheckSQLite runs SQLite's integrity check on the database at path and
// returns an error unless it passes.
func CheckSQLite(ctx context.Context, path string) error {
	db, err := openExisting(path)
	if err != nil {
		return err
	}
	defer db.Close()
	var verdict string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&verdict); err != nil {
		return fmt.Errorf("store: check %s: %w", path, err)
	}
	if verdict != "ok" {
		return errors.New("store: integrity check: " + verdict)
	}
	return nil
}
