package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"

	"linli/internal/app"
	"linli/internal/backup"
)

// backupCmd is "linli backup [flags] <file>".
func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: linli backup [flags] <file.tar.gz>\n\nbacks up the SQLite database (a consistent snapshot, the server may run), the stored files and the data key")
		fs.PrintDefaults()
	}
	dataDir := fs.String("data-dir", envOr(getenv, "LINLI_DATA_DIR", "./data"), "data directory (LINLI_DATA_DIR)")
	dbURL := fs.String("db-url", getenv("LINLI_DB_URL"), "database URL (LINLI_DB_URL); PostgreSQL is backed up with pg_dump instead")
	filesOnly := fs.Bool("files-only", false, "back up only the files and the data key (for PostgreSQL, whose database pg_dump saves)")
	blobURL := fs.String("blob-url", getenv("LINLI_BLOB_URL"), "the S3 store of the files (LINLI_BLOB_URL): they stay in the bucket and are not archived")
	if err := fs.Parse(args); err != nil {
		return ignoreHelp(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("backup: name one archive file")
	}
	if *blobURL != "" {
		u, err := url.Parse(*blobURL)
		if err != nil || u.Scheme != "s3" {
			return fmt.Errorf("backup: blob url %q: want s3://bucket?endpoint=…", *blobURL)
		}
		*blobURL = u.Redacted()
	}
	m, err := backup.Create(ctx, backup.Source{DataDir: *dataDir, DBURL: *dbURL, KeyFromEnv: getenv("LINLI_DATA_KEY") != "",
		FilesOnly: *filesOnly, FilesIn: *blobURL, Version: app.Version}, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written: %s (database: %s, files: %d, key: %s)\n", fs.Arg(0), orNone(m.Database), m.Files(), m.Key)
	if m.FilesIn != "" {
		fmt.Fprintf(stdout, "note: the files are kept in %s and are not in the archive; back the bucket up with its own versioning or replication\n", m.FilesIn)
	}
	if m.Key == backup.KeyEnvironment {
		fmt.Fprintln(stdout, "note: the data key comes from LINLI_DATA_KEY and is not in the archive; keep it with the backup: ID numbers and the other data sealed with it cannot be read without it")
	}
	return nil
}

// restoreCmd is "linli restore [flags] <file>".
func restoreCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: linli restore [flags] <file.tar.gz>\n\nreplaces the data directory with a backup; stop the server first")
		fs.PrintDefaults()
	}
	dataDir := fs.String("data-dir", envOr(getenv, "LINLI_DATA_DIR", "./data"), "data directory to restore into (LINLI_DATA_DIR)")
	force := fs.Bool("force", false, "replace a data directory that is not empty")
	if err := fs.Parse(args); err != nil {
		return ignoreHelp(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("restore: name one archive file")
	}
	m, err := backup.Restore(ctx, fs.Arg(0), *dataDir, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s (made %s by linli %s; database: %s, files: %d, key: %s)\n",
		fs.Arg(0), *dataDir, m.Created.Format("2006-01-02 15:04:05Z"), m.Version, orNone(m.Database), m.Files(), m.Key)
	if m.FilesIn != "" {
		fmt.Fprintf(stdout, "note: the files were kept in %s, not in the archive; start the server with the same LINLI_BLOB_URL\n", m.FilesIn)
	}
	switch m.Key {
	case backup.KeyEnvironment:
		fmt.Fprintln(stdout, "note: the archive has no data key: start the server with the same LINLI_DATA_KEY as before")
	case backup.KeyNone:
		fmt.Fprintln(stdout, "note: the archive has no data key")
	}
	if m.Database == "" {
		fmt.Fprintln(stdout, "note: the archive has no database: restore PostgreSQL from its pg_dump (pg_restore)")
	}
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// ignoreHelp turns -h into success: the flag set printed the usage.
func ignoreHelp(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
