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
	"strings"
	"time"

	"linli/internal/secret"
	"linli/internal/store"
)

// maxManifest bounds the manifest read into memory.
const maxManifest = 64 << 20

// ErrNotEmpty is returned by Restore for a data directory that holds
// something, unless it is told to replace it.
var ErrNotEmpty = errors.New("数据目录不为空")

// Restore puts the backup archive back as the data directory dataDir. It
// refuses a dataDir that is not empty unless force is set (a server must
// not be running on it). The archive is unpacked into a staging directory
// beside dataDir and checked (every entry named in the manifest, sizes and
// SHA-256, the database's integrity) before dataDir is replaced by renames;
// a bad archive leaves dataDir as it was.
func Restore(ctx context.Context, archive, dataDir string, force bool) (Manifest, error) {
	var m Manifest
	dataDir = filepath.Clean(dataDir)
	if entries, err := os.ReadDir(dataDir); err == nil && len(entries) > 0 && !force {
		what := "文件"
		if _, err := os.Stat(filepath.Join(dataDir, store.SQLiteFile)); err == nil {
			what = "数据库"
		}
		return m, fmt.Errorf("%w：%s 已有%s，恢复会整个替换它；确认服务已停止后加 -force", ErrNotEmpty, dataDir, what)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o750); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	staging, err := os.MkdirTemp(filepath.Dir(dataDir), "."+filepath.Base(dataDir)+".restore-*")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(staging)
	if m, err = unpack(archive, staging); err != nil {
		return m, err
	}
	if m.Database != "" {
		if err := store.CheckSQLite(ctx, filepath.Join(staging, databaseName)); err != nil {
			return m, fmt.Errorf("备份中的数据库已损坏：%w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(staging, filesDir), 0o750); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := os.Chmod(staging, 0o750); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	return m, replace(dataDir, staging)
}

// replace puts staging in the place of dataDir, moving the old one aside
// first and back when the second rename fails.
func replace(dataDir, staging string) error {
	old := ""
	if _, err := os.Stat(dataDir); err == nil {
		old = fmt.Sprintf("%s.old-%d", dataDir, time.Now().UnixNano())
		if err := os.Rename(dataDir, old); err != nil {
			return fmt.Errorf("backup: move the old data directory aside: %w", err)
		}
	}
	if err := os.Rename(staging, dataDir); err != nil {
		if old != "" {
			_ = os.Rename(old, dataDir)
		}
		return fmt.Errorf("backup: %w", err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("backup: restored, but the old data directory %s is left: %w", old, err)
		}
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
