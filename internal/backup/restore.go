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
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"linli/internal/secret"
	"linli/internal/store"
)

// maxManifest bounds the manifest read into memory.
const maxManifest = 64 << 20

// ErrNotEmpty is returned by Restore for a data directory that holds a
// database, stored files or a key, unless it is told to replace them.
var ErrNotEmpty = errors.New("数据目录不为空")

// managed are the entries of a data directory that a backup holds, with
// SQLite's journal files, which must never meet another database. Anything
// else in the directory is left alone.
var managed = []string{databaseName, databaseName + "-wal", databaseName + "-shm", filesDir, secret.KeyFile}

// Restore puts the backup archive back into the data directory dataDir. It
// refuses a dataDir that already holds a database, files or a key unless
// force is set (a server must not be running on it); then it replaces the
// files, and the database and the key when the archive has them. The archive is
// unpacked into a staging directory inside dataDir and checked (every
// entry named in the manifest, sizes and SHA-256, the database's
// integrity) before anything of dataDir is touched; then the old entries
// are moved aside and the new ones moved in by renames, which works on a
// data directory that is a mount point (a container volume) too. A bad
// archive leaves dataDir as it was.
func Restore(ctx context.Context, archive, dataDir string, force bool) (m Manifest, err error) {
	old := present(dataDir, managed)
	if len(old) > 0 && !force {
		what := "文件"
		if slices.Contains(old, databaseName) {
			what = "数据库"
		}
		return m, fmt.Errorf("%w：%s 已有%s，恢复会替换它们；确认服务已停止后加 -force", ErrNotEmpty, dataDir, what)
	}
	if _, err := os.Stat(dataDir); errors.Is(err, os.ErrNotExist) {
		// A refused archive leaves no empty directory behind.
		defer func() {
			if err != nil {
				_ = os.Remove(dataDir)
			}
		}()
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	staging, err := os.MkdirTemp(dataDir, ".restore-*")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(staging)
	if m, err = unpack(archive, staging); err != nil {
		return m, err
	}
	if m.Database != "" {
		if err := store.CheckSQLite(ctx, filepath.Join(staging, databaseName)); err != nil {
			return m, fmt.Errorf("备份中的数据库已损坏，未做任何改动：%w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(staging, filesDir), 0o750); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	// What the archive holds is replaced: the files always; the database
	// and the key only when it has them (a PostgreSQL server's archive has
	// no database, one whose key is LINLI_DATA_KEY no key).
	replaced := []string{filesDir}
	if m.Database != "" {
		replaced = append(replaced, databaseName, databaseName+"-wal", databaseName+"-shm")
	}
	if m.Key == KeyInArchive {
		replaced = append(replaced, secret.KeyFile)
	}
	return m, swap(dataDir, staging, present(dataDir, replaced), present(staging, replaced))
}

// present returns those of names that dir holds.
func present(dir string, names []string) []string {
	var out []string
	for _, name := range names {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			out = append(out, name)
		}
	}
	return out
}

// swap moves the entries old of dataDir aside and the entries fresh of
// staging into dataDir, putting everything back when a rename fails.
func swap(dataDir, staging string, old, fresh []string) error {
	aside, err := os.MkdirTemp(dataDir, ".replaced-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	var movedOut, movedIn []string
	undo := func(cause error) error {
		for _, name := range movedIn {
			_ = os.Rename(filepath.Join(dataDir, name), filepath.Join(staging, name))
		}
		for _, name := range movedOut {
			_ = os.Rename(filepath.Join(aside, name), filepath.Join(dataDir, name))
		}
		_ = os.Remove(aside)
		return fmt.Errorf("backup: %w", cause)
	}
	for _, name := range old {
		if err := os.Rename(filepath.Join(dataDir, name), filepath.Join(aside, name)); err != nil {
			return undo(err)
		}
		movedOut = append(movedOut, name)
	}
	for _, name := range fresh {
		if err := os.Rename(filepath.Join(staging, name), filepath.Join(dataDir, name)); err != nil {
			return undo(err)
		}
		movedIn = append(movedIn, name)
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("backup: restored, but the replaced data are left in %s: %w", aside, err)
	}
	return nil
}

// unpack writes the entries of archive below dir and returns its manifest
// once every entry has been checked against it.
func unpack(archive, dir string) (Manifest, error) {
	var m Manifest
	f, err := os.Open(archive)
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("备份文件 %s 无效或已损坏，未做任何改动："+format, append([]any{archive}, args...)...)
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		return m, bad("不是 gzip 压缩的 tar 文件")
	}
	tr := tar.NewReader(gz)
	seen := map[string]Entry{}
	var manifest []byte
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, bad("%v", err)
		}
		if manifest != nil {
			return m, bad("清单之后还有内容（%s）", hdr.Name)
		}
		if hdr.Typeflag != tar.TypeReg {
			return m, bad("不支持的条目 %s", hdr.Name)
		}
		if hdr.Name == manifestName {
			if manifest, err = io.ReadAll(io.LimitReader(tr, maxManifest)); err != nil {
				return m, bad("%v", err)
			}
			continue
		}
		if !allowed(hdr.Name) {
			return m, bad("不属于备份的条目 %s", hdr.Name)
		}
		if _, dup := seen[hdr.Name]; dup {
			return m, bad("条目 %s 出现两次", hdr.Name)
		}
		e, err := extract(tr, filepath.Join(dir, filepath.FromSlash(hdr.Name)))
		if err != nil {
			return m, bad("%s：%v", hdr.Name, err)
		}
		e.Name = hdr.Name
		seen[hdr.Name] = e
	}
	// Reading to the end checks the gzip trailer (length and CRC).
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return m, bad("%v", err)
	}
	if manifest == nil {
		return m, bad("没有清单（%s）", manifestName)
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return m, bad("清单无法读取")
	}
	if m.Format != Format {
		return m, bad("格式版本 %d，本程序只认 %d", m.Format, Format)
	}
	if len(m.Entries) != len(seen) {
		return m, bad("清单列出 %d 个条目，实有 %d 个", len(m.Entries), len(seen))
	}
	for _, want := range m.Entries {
		if got, ok := seen[want.Name]; !ok || got != want {
			return m, bad("条目 %s 与清单不符", want.Name)
		}
	}
	if _, ok := seen[databaseName]; ok != (m.Database != "") {
		return m, bad("清单与数据库条目不符")
	}
	return m, nil
}

// allowed says whether name may be in a backup: the database, the key, or
// a stored file below files/ (never outside the data directory).
func allowed(name string) bool {
	if name == databaseName || name == secret.KeyFile {
		return true
	}
	rest, ok := strings.CutPrefix(name, filesDir+"/")
	return ok && rest != "" && path.Clean(name) == name && !strings.HasPrefix(rest, "../") && !strings.Contains(name, "\\")
}

// extract writes r to the new file at dst and says its size and SHA-256.
func extract(r io.Reader, dst string) (Entry, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return Entry{}, err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Entry{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		f.Close()
		return Entry{}, err
	}
	if err := f.Close(); err != nil {
		return Entry{}, err
	}
	return Entry{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
