// Package blob stores files (face photos, snapshots, ads, firmware, exports)
// under keys. The embedded default keeps them in a directory; writes are
// atomic, so a reader never sees half a file.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// ErrNotFound is returned for a key that holds nothing.
var ErrNotFound = errors.New("blob: not found")

// Dir stores blobs as files below a root directory.
type Dir struct {
	root string
}

// NewDir returns a Dir rooted at root, creating it.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &Dir{root: root}, nil
}

// Check says whether files can be written under the root: it writes and
// removes a small temporary file (one a crash leaves behind is swept like
// any other temporary file).
func (d *Dir) Check(context.Context) error {
	f, err := os.CreateTemp(d.root, tempPrefix+"check-*")
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	_, werr := f.WriteString("ok")
	cerr := f.Close()
	rerr := os.Remove(f.Name())
	if err := errors.Join(werr, cerr, rerr); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

var keyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9/_.-]{0,200}$`)

func (d *Dir) path(key string) (string, error) {
	if !keyRE.MatchString(key) || filepath.Clean(key) != key || filepath.IsAbs(key) || key == ".." || len(key) > 2 && key[:3] == "../" {
		return "", fmt.Errorf("blob: bad key %q", key)
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Put stores data under key, replacing what was there.
func (d *Dir) Put(_ context.Context, key string, data []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("blob: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("blob: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("blob: close: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("blob: rename: %w", err)
	}
	return nil
}

// PutReader stores what r yields under key, replacing what was there, and
// returns how many bytes it stored. A failed read leaves nothing behind.
func (d *Dir) PutReader(_ context.Context, key string, r io.Reader) (int64, error) {
	p, err := d.path(key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return 0, fmt.Errorf("blob: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), tempPrefix+"*")
	if err != nil {
		return 0, fmt.Errorf("blob: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, r)
	if err != nil {
		tmp.Close()
		return n, fmt.Errorf("blob: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return n, fmt.Errorf("blob: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("blob: close: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return n, fmt.Errorf("blob: rename: %w", err)
	}
	return n, nil
}

// Open opens the file under key for reading (and seeking, for HTTP range
// requests), or returns ErrNotFound.
func (d *Dir) Open(_ context.Context, key string) (*os.File, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Get returns the data under key, or ErrNotFound.
func (d *Dir) Get(_ context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return data, err
}

// Delete removes key; a missing key is not an error.
func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}
