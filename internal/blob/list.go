package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Object is a stored file as a listing sees it.
type Object struct {
	Key     string
	Size    int64
	ModTime time.Time // when it was last written
}

// tempPrefix starts the names of files being written; they are not keys.
const tempPrefix = ".tmp-"

var errStopWalk = errors.New("blob: stop")

// List yields the objects whose keys start with prefix, one at a time and in
// no promised order, so that a caller never holds every key at once; files
// still being written are not listed. Breaking out of the loop stops the
// walk. Deleting an object already yielded is allowed during the walk.
func (d *Dir) List(ctx context.Context, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		start := d.root
		if dir := path.Dir(prefix + "x"); dir != "." {
			p, err := d.path(dir)
			if err != nil {
				yield(Object{}, err)
				return
			}
			start = p
		}
		err := filepath.WalkDir(start, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // nothing stored there yet, or removed meanwhile
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if de.IsDir() || strings.HasPrefix(de.Name(), ".") {
				return nil
			}
			rel, err := filepath.Rel(d.root, p)
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			if !strings.HasPrefix(key, prefix) {
				return nil
			}
			info, err := de.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			} else if err != nil {
				return err
			}
			if !yield(Object{Key: key, Size: info.Size(), ModTime: info.ModTime()}, nil) {
				return errStopWalk
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopWalk) {
			yield(Object{}, fmt.Errorf("blob: list %q: %w", prefix, err))
		}
	}
}

// Stat describes the object under key, or returns ErrNotFound.
func (d *Dir) Stat(_ context.Context, key string) (Object, error) {
	p, err := d.path(key)
	if err != nil {
		return Object{}, err
	}
	info, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return Object{}, ErrNotFound
	}
	if err != nil {
		return Object{}, fmt.Errorf("blob: %w", err)
	}
	return Object{Key: key, Size: info.Size(), ModTime: info.ModTime()}, nil
}

// RemoveTemporary deletes the half-written files that a crash during a write
// left behind (a finished write renames its file into place), when they were
// last written before before, and says how many it removed.
func (d *Dir) RemoveTemporary(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := filepath.WalkDir(d.root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if de.IsDir() || !strings.HasPrefix(de.Name(), tempPrefix) {
			return nil
		}
		info, err := de.Info()
		if err != nil || !info.ModTime().Before(before) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("blob: remove temporary files: %w", err)
	}
	return n, nil
}
