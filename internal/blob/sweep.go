package blob

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"
)

// OrphanGrace is how long a stored file may go without a database row before
// the sweep removes it. Files are written before their rows (a snapshot,
// then its record), so a file that is younger may still be waiting for its
// row; one that is older was left by a crash or a failed request.
const OrphanGrace = 24 * time.Hour

// SweepBatch is how many keys the sweep compares with the database at once.
const SweepBatch = 500

// Owner is the kind of stored file under Prefix ("snapshots/") and says which
// of a batch of its keys a database row still refers to. Every kind of stored
// file has one; a prefix without an owner is never swept.
type Owner struct {
	Prefix string
	InUse  func(ctx context.Context, keys []string) (map[string]bool, error)
	// Any reports whether any row refers to a file of this kind. When none
	// does, yet old files are stored, the database is likely not the one
	// these files belong to (a new, empty database started on an old data
	// directory), and the sweep removes nothing of this kind.
	Any func(ctx context.Context) (bool, error)
}

// ErrForeignFiles is returned by Sweep for a kind of file that is stored
// while no row at all refers to one.
var ErrForeignFiles = errors.New("files are stored but no database row refers to any of them: is this the database of this data directory? nothing was removed")

// Listing is what the sweep needs from a file store: the directory today,
// object storage (list by prefix, head, delete) later.
type Listing interface {
	List(ctx context.Context, prefix string) iter.Seq2[Object, error]
	Stat(ctx context.Context, key string) (Object, error)
	Delete(ctx context.Context, key string) error
}

// Sweep removes the files under each owner's prefix that were last written
// before before and that no row refers to, and says how many it removed. It
// walks the listing once, asking the owner about batch keys at a time, so
// neither the keys nor the rows are ever loaded all at once. A file written
// again since it was listed (a retried upload of the same content) is kept.
// An owner's failure does not stop the others; the errors are joined.
func Sweep(ctx context.Context, files Listing, owners []Owner, before time.Time, batch int) (int, error) {
	if batch < 1 {
		batch = SweepBatch
	}
	removed := 0
	var errs []error
	for _, o := range owners {
		n, err := sweepOwner(ctx, files, o, before, batch)
		removed += n
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", o.Prefix, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return removed, errors.Join(errs...)
}

func sweepOwner(ctx context.Context, files Listing, o Owner, before time.Time, batch int) (int, error) {
	removed := 0
	keys := make([]string, 0, batch)
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		used, err := o.InUse(ctx, keys)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if used[k] {
				continue
			}
			// Look again just before deleting: the same key may have been
			// written anew (and its row inserted) since it was listed.
			obj, err := files.Stat(ctx, k)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if !obj.ModTime.Before(before) {
				continue
			}
			if err := files.Delete(ctx, k); err != nil {
				return err
			}
			removed++
		}
		keys = keys[:0]
		return nil
	}
	checked := false
	for obj, err := range files.List(ctx, o.Prefix) {
		if err != nil {
			return removed, err
		}
		if !obj.ModTime.Before(before) {
			continue
		}
		if !checked && o.Any != nil {
			some, err := o.Any(ctx)
			if err != nil {
				return removed, err
			}
			if !some {
				return removed, ErrForeignFiles
			}
			checked = true
		}
		keys = append(keys, obj.Key)
		if len(keys) == batch {
			if err := flush(); err != nil {
				return removed, err
			}
		}
	}
	return removed, flush()
}
