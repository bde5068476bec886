// Package backup makes and restores backups of a Linli data directory: one
// tar.gz holding a consistent snapshot of the SQLite database (VACUUM INTO,
// taken while the server runs), the stored files (data/files), the data key
// (secret.key) and, last, a manifest listing every entry with its size and
// SHA-256. A PostgreSQL database is not included: pg_dump backs it up.
//
// Restore checks the whole archive in a staging directory before it moves
// anything of the target, so a bad archive changes nothing.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"linli/internal/blob"
	"linli/internal/secret"
	"linli/internal/store"
)

// Format is the version of the archive layout this package writes.
const Format = 1

// Names inside an archive.
const (
	manifestName = "manifest.json"
	databaseName = "linli.db"
	filesDir     = "files"
)

// Where the data key of a backup is.
const (
	KeyInArchive   = "file"        // secret.key is in the archive
	KeyEnvironment = "environment" // LINLI_DATA_KEY: keep it with the archive yourself
	KeyNone        = "none"        // the data directory had no key yet
)

// Manifest describes a backup; it is the archive's last entry.
type Manifest struct {
	Format   int       `json:"format"`
	Version  string    `json:"version"`  // the Linli that made it
	Created  time.Time `json:"created"`  // when the database snapshot was taken
	Database string    `json:"database"` // "sqlite", or "" when the database is PostgreSQL (pg_dump)
	Key      string    `json:"key"`      // KeyInArchive, KeyEnvironment or KeyNone
	// FilesIn names the bucket that holds the stored files when they are
	// not in the archive (LINLI_BLOB_URL); empty: they are.
	FilesIn string  `json:"files_in,omitempty"`
	Entries []Entry `json:"entries"` // every other entry, in archive order
}

// Entry is one file of a backup.
type Entry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Files counts the stored files (photos, snapshots, ads, firmware) in m.
func (m Manifest) Files() int {
	n := 0
	for _, e := range m.Entries {
		if strings.HasPrefix(e.Name, filesDir+"/") {
			n++
		}
	}
	return n
}

// Source is what Create backs up.
type Source struct {
	DataDir string
	DBURL   string // as LINLI_DB_URL: empty or sqlite:… for SQLite, postgres://… for PostgreSQL
	// KeyFromEnv says the data key is LINLI_DATA_KEY, not DataDir's
	// secret.key: it is then not in the archive.
	KeyFromEnv bool
	// FilesOnly backs up the files and the key of a server on PostgreSQL,
	// whose database pg_dump saves.
	FilesOnly bool
	// FilesIn is the store of a server whose files are kept in an S3
	// bucket (LINLI_BLOB_URL): they stay there, backed up by the bucket's
	// own versioning or replication, and are not copied into the archive.
	FilesIn string
	Version string
}

// ErrFilesInBucket is returned by Create for FilesOnly when the files are
// in a bucket: there is nothing of them to put in an archive.
var ErrFilesInBucket = errors.New("文件保存在 S3 存储桶中（LINLI_BLOB_URL），不在备份文件里：请用存储桶的版本控制或复制备份文件")

// ErrPostgres is returned by Create for a PostgreSQL server without
// FilesOnly.
var ErrPostgres = errors.New("数据库是 PostgreSQL：请用 pg_dump 备份数据库（例如 pg_dump -Fc -f linli.dump \"$LINLI_DB_URL\"）；" +
	"文件和数据密钥可用 linli backup -files-only 另外备份")

// Create writes a backup of src to out, replacing out only once the
// archive is complete. Files written while it runs may be missing from it;
// the database snapshot is taken first, so every file a row of the snapshot
// refers to is there unless it was deleted meanwhile.
func Create(ctx context.Context, src Source, out string) (Manifest, error) {
	m := Manifest{Format: Format, Version: src.Version, Key: KeyNone}
	dbPath, sqlite := store.SQLitePath(src.DBURL, src.DataDir)
	if !sqlite && !src.FilesOnly {
		return m, ErrPostgres
	}
	if src.FilesOnly && src.FilesIn != "" {
		return m, ErrFilesInBucket
	}
	if st, err := os.Stat(src.DataDir); err != nil || !st.IsDir() {
		return m, fmt.Errorf("数据目录 %s 不存在或不是目录", src.DataDir)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".linli-backup-*")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w := newWriter(tmp)

	m.Created = time.Now().UTC()
	if !src.FilesOnly {
		snap := tmp.Name() + ".db"
		defer os.Remove(snap)
		if err := store.SnapshotSQLite(ctx, dbPath, snap); err != nil {
			return m, err
		}
		m.Database = "sqlite"
		if err := w.addFile(databaseName, snap); err != nil {
			return m, err
		}
	}
	if src.FilesIn != "" {
		m.FilesIn = src.FilesIn
	} else {
		files, err := blob.NewDir(filepath.Join(src.DataDir, filesDir))
		if err != nil {
			return m, err
		}
		if err := w.addFiles(ctx, files); err != nil {
			return m, err
		}
	}
	switch key := filepath.Join(src.DataDir, secret.KeyFile); {
	case src.KeyFromEnv:
		m.Key = KeyEnvironment
	default:
		err := w.addFile(secret.KeyFile, key)
		if err == nil {
			m.Key = KeyInArchive
		} else if !errors.Is(err, fs.ErrNotExist) {
			return m, err
		}
	}
	m.Entries = w.entries
	if err := w.finish(m); err != nil {
		return m, err
	}
	if err := tmp.Sync(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// writer writes an archive and notes its entries.
type writer struct {
	gz      *gzip.Writer
	tw      *tar.Writer
	entries []Entry
}

func newWriter(w io.Writer) *writer {
	gz := gzip.NewWriter(w)
	return &writer{gz: gz, tw: tar.NewWriter(gz)}
}

// addFile adds the file at path as name. A missing file is fs.ErrNotExist.
func (w *writer) addFile(name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return w.add(name, f, st.Size(), st.ModTime())
}

// add adds size bytes of r, last written at mod, as name.
func (w *writer) add(name string, r io.Reader, size int64, mod time.Time) error {
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: mod, Typeflag: tar.TypeReg}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	h := sha256.New()
	// Stored files are replaced by rename, never rewritten in place, so an
	// open file keeps the size it had when it was opened.
	if _, err := io.CopyN(io.MultiWriter(w.tw, h), r, size); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	w.entries = append(w.entries, Entry{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// addFiles adds every stored file of dir under files/, leaving out writes
// in progress and files removed while it runs.
func (w *writer) addFiles(ctx context.Context, dir *blob.Dir) error {
	for obj, err := range dir.List(ctx, "") {
		if err != nil {
			return fmt.Errorf("backup: files: %w", err)
		}
		f, err := dir.Open(ctx, obj.Key)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("backup: files: %w", err)
		}
		info := f.Info()
		err = w.add(filesDir+"/"+obj.Key, f, info.Size, info.ModTime)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// finish writes the manifest and closes the archive.
func (w *writer) finish(m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := w.tw.WriteHeader(&tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(data)), ModTime: m.Created, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := w.tw.Write(data); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := w.tw.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := w.gz.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}
