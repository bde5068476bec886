package blob

import (
	"context"
	"errors"
	"os"
	"testing"
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
