package blob

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestSweep: an old file no row refers to is removed; a fresh one, one that
// is referred to and one under a prefix without an owner stay; the owner is
// asked in batches no larger than asked for.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old := now.Add(-OrphanGrace - time.Hour)
	put := func(key string, at time.Time) {
		t.Helper()
		if err := d.Put(ctx, key, []byte(key)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(d.root, filepath.FromSlash(key)), at, at); err != nil {
			t.Fatal(err)
		}
	}
	rows := map[string]bool{}
	for _, k := range []string{"snapshots/1/202611/1-a.jpg", "snapshots/1/202611/1-b.jpg", "snapshots/2/202610/5-c.jpg"} {
		put(k, old)
		rows[k] = true
	}
	put("snapshots/1/202611/1-fresh-with-row.jpg", now)
	rows["snapshots/1/202611/1-fresh-with-row.jpg"] = true
	orphans := []string{"snapshots/1/202611/1-x.jpg", "snapshots/1/202612/2-y.jpg", "snapshots/3/202601/9-z.jpg"}
	for _, k := range orphans {
		put(k, old)
	}
	put("snapshots/1/202611/1-fresh-orphan.jpg", now)
	put("faces/1/7-unowned.jpg", old)

	var batches [][]string
	owner := Owner{Prefix: "snapshots/", InUse: func(_ context.Context, keys []string) (map[string]bool, error) {
		batches = append(batches, slices.Clone(keys))
		used := map[string]bool{}
		for _, k := range keys {
			used[k] = rows[k]
		}
		return used, nil
	}}
	n, err := Sweep(ctx, d, []Owner{owner}, now.Add(-OrphanGrace), 2)
	if err != nil || n != len(orphans) {
		t.Fatalf("Sweep = %d, %v; want %d removed", n, err, len(orphans))
	}
	asked := 0
	for _, b := range batches {
		if len(b) > 2 {
			t.Errorf("owner asked about %d keys at once, batch is 2", len(b))
		}
		asked += len(b)
	}
	if asked != 6 { // the six old files; fresh ones are not even asked about
		t.Errorf("owner asked about %d keys, want 6", asked)
	}
	for _, k := range orphans {
		if _, err := d.Stat(ctx, k); !errors.Is(err, ErrNotFound) {
			t.Errorf("orphan %s left: %v", k, err)
		}
	}
	for k := range rows {
		if _, err := d.Stat(ctx, k); err != nil {
			t.Errorf("referenced %s removed: %v", k, err)
		}
	}
	for _, k := range []string{"snapshots/1/202611/1-fresh-orphan.jpg", "faces/1/7-unowned.jpg"} {
		if _, err := d.Stat(ctx, k); err != nil {
			t.Errorf("%s removed: %v", k, err)
		}
	}
}

// TestSweepKeepsAFileWrittenAgain: a key that is written again between the
// listing and the delete (a retried upload) is kept.
func TestSweepKeepsAFileWrittenAgain(t *testing.T) {
	ctx := context.Background()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const key = "ads/1/landscape-1-abc.jpg"
	if err := d.Put(ctx, key, []byte("x")); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	_ = os.Chtimes(filepath.Join(d.root, filepath.FromSlash(key)), old, old)
	owner := Owner{Prefix: "ads/", InUse: func(ctx context.Context, keys []string) (map[string]bool, error) {
		// The upload retried meanwhile: same key, new file; its row is not
		// yet committed when the owner is asked.
		return nil, d.Put(ctx, key, []byte("x"))
	}}
	if n, err := Sweep(ctx, d, []Owner{owner}, time.Now().Add(-OrphanGrace), 10); err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v; want nothing removed", n, err)
	}
	if _, err := d.Stat(ctx, key); err != nil {
		t.Fatalf("the file written again was removed: %v", err)
	}
}

// TestRemoveTemporary: half-written files a crash left are removed once old;
// a write under way is not, and listings never show either.
func TestRemoveTemporary(t *testing.T) {
	ctx := context.Background()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "firmware/abc.bin", []byte("fw")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(d.root, "firmware")
	stale, fresh := filepath.Join(dir, tempPrefix+"1"), filepath.Join(dir, tempPrefix+"2")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-48 * time.Hour)
	_ = os.Chtimes(stale, old, old)
	var listed []string
	for o, err := range d.List(ctx, "firmware/") {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, o.Key)
	}
	if !slices.Equal(listed, []string{"firmware/abc.bin"}) {
		t.Errorf("listed %v, want only the finished file", listed)
	}
	if n, err := d.RemoveTemporary(ctx, time.Now().Add(-OrphanGrace)); err != nil || n != 1 {
		t.Fatalf("RemoveTemporary = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temporary file left")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a write under way lost its file")
	}
}

// TestSweepSparesFilesNoRowKnows: when no row at all refers to a kind of
// file while old files of that kind are stored, the database is not the one
// of these files; nothing of that kind is removed and the sweep says why.
// Other kinds are swept as usual.
func TestSweepSparesFilesNoRowKnows(t *testing.T) {
	ctx := context.Background()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	for _, k := range []string{"faces/1/1-a.jpg", "faces/1/2-b.jpg", "ads/1/landscape-1-c.jpg"} {
		if err := d.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
		_ = os.Chtimes(filepath.Join(d.root, filepath.FromSlash(k)), old, old)
	}
	none := func(context.Context, []string) (map[string]bool, error) { return nil, nil }
	owners := []Owner{
		{Prefix: "faces/", InUse: none, Any: func(context.Context) (bool, error) { return false, nil }},
		{Prefix: "ads/", InUse: none, Any: func(context.Context) (bool, error) { return true, nil }},
	}
	n, err := Sweep(ctx, d, owners, time.Now().Add(-OrphanGrace), 10)
	if !errors.Is(err, ErrForeignFiles) || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 removed and ErrForeignFiles", n, err)
	}
	for _, k := range []string{"faces/1/1-a.jpg", "faces/1/2-b.jpg"} {
		if _, err := d.Stat(ctx, k); err != nil {
			t.Errorf("%s removed: %v", k, err)
		}
	}
	if _, err := d.Stat(ctx, "ads/1/landscape-1-c.jpg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("orphan ad left: %v", err)
	}
}
