package blob

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"linli/internal/errs"
)

func TestDir(t *testing.T) {
	ctx := context.Background()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "faces/1/abc.jpg", []byte("jpeg")); err != nil {
		t.Fatal(err)
	}
	got, err := d.Get(ctx, "faces/1/abc.jpg")
	if err != nil || string(got) != "jpeg" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := d.Delete(ctx, "faces/1/abc.jpg"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, "faces/1/abc.jpg"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	for _, bad := range []string{"../etc/passwd", "/abs", "a/../../b", "", "A/B", "faces/../../x"} {
		if err := d.Put(ctx, bad, nil); err == nil {
			t.Errorf("Put accepted key %q", bad)
		}
	}
	entries, _ := os.ReadDir(d.root + "/faces/1")
	if len(entries) != 0 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

// TestDirUnwritable: a directory that cannot be written is Unavailable (503
// to clients), as an unreachable bucket is; a failing source is not.
func TestDirUnwritable(t *testing.T) {
	ctx := context.Background()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// "faces" is a file, so nothing can be written below it (root ignores
	// permissions, not this).
	if err := os.WriteFile(d.root+"/faces", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "faces/1/a.jpg", []byte("jpeg")); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("Put below a file: %v, want Unavailable", err)
	}
	_, err = d.PutReader(ctx, "ads/1/a.jpg", io.MultiReader(strings.NewReader("part"), iotest.ErrReader(errors.New("upload cut"))))
	if err == nil || errs.CodeOf(err) == errs.Unavailable {
		t.Errorf("PutReader of a failing source: %v, want a plain error", err)
	}
	if _, err := d.Stat(ctx, "ads/1/a.jpg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("half-written file readable: %v", err)
	}
}
