package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"linli/internal/blob"
	"linli/internal/blob/blobtest"
	"linli/internal/errs"
)

// stores are the stores every contract test runs over: the directory, and
// a bucket of a real S3-compatible server (with and without a key prefix).
func stores(t *testing.T) map[string]blob.Store {
	t.Helper()
	d, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s3 := blobtest.Start(t)
	return map[string]blob.Store{"dir": d, "s3": s3.Store(""), "s3-prefix": s3.Store("estate-a/files")}
}

// TestStoreContract: both stores keep, stream, list, sweep and refuse keys
// alike.
func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			// Put, Get, overwrite.
			if err := st.Put(ctx, "faces/1/abc.jpg", []byte("jpeg-1")); err != nil {
				t.Fatal(err)
			}
			if err := st.Put(ctx, "faces/1/abc.jpg", []byte("jpeg-2")); err != nil {
				t.Fatal(err)
			}
			if got, err := st.Get(ctx, "faces/1/abc.jpg"); err != nil || string(got) != "jpeg-2" {
				t.Fatalf("Get = %q, %v; want jpeg-2", got, err)
			}
			if err := st.Put(ctx, "faces/1/empty.jpg", nil); err != nil {
				t.Fatal(err)
			}
			if got, err := st.Get(ctx, "faces/1/empty.jpg"); err != nil || len(got) != 0 {
				t.Fatalf("Get empty = %q, %v", got, err)
			}

			// Missing keys.
			if _, err := st.Get(ctx, "faces/1/none.jpg"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Get missing: %v, want ErrNotFound", err)
			}
			if _, err := st.Open(ctx, "faces/1/none.jpg"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Open missing: %v, want ErrNotFound", err)
			}
			if _, err := st.Stat(ctx, "faces/1/none.jpg"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Stat missing: %v, want ErrNotFound", err)
			}
			if err := st.Delete(ctx, "faces/1/none.jpg"); err != nil {
				t.Errorf("Delete missing: %v, want nil", err)
			}

			// A stream larger than one upload part, then seeking in it as
			// a range request does.
			big := make([]byte, 17<<20+123)
			rand.Read(big)
			n, err := st.PutReader(ctx, "firmware/big.bin", bytes.NewReader(big))
			if err != nil || n != int64(len(big)) {
				t.Fatalf("PutReader = %d, %v; want %d", n, err, len(big))
			}
			f, err := st.Open(ctx, "firmware/big.bin")
			if err != nil {
				t.Fatal(err)
			}
			if f.Info().Size != int64(len(big)) || f.Info().ModTime.IsZero() {
				t.Errorf("Info = %+v", f.Info())
			}
			for _, off := range []int64{16<<20 - 10, 5, int64(len(big)) - 7} {
				if _, err := f.Seek(off, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 7)
				if _, err := io.ReadFull(f, buf); err != nil || !bytes.Equal(buf, big[off:off+7]) {
					t.Fatalf("bytes at %d = %x, %v; want %x", off, buf, err, big[off:off+7])
				}
			}
			if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(len(big)) {
				t.Errorf("Seek end = %d, %v", end, err)
			}
			f.Close()

			// A small stream, and one whose source fails: nothing is left.
			if n, err := st.PutReader(ctx, "firmware/small.bin", strings.NewReader("fw")); err != nil || n != 2 {
				t.Fatalf("PutReader small = %d, %v", n, err)
			}
			broken := io.MultiReader(bytes.NewReader(big[:20<<20/2]), bytes.NewReader(big), errReader{})
			if _, err := st.PutReader(ctx, "firmware/broken.bin", broken); err == nil {
				t.Fatal("PutReader of a failing source succeeded")
			} else if errs.CodeOf(err) == errs.Unavailable {
				t.Errorf("a failing source is no store outage: %v", err)
			}
			if _, err := st.Stat(ctx, "firmware/broken.bin"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("half-written upload readable: %v", err)
			}

			// List by prefix, and breaking out of it.
			if err := st.Put(ctx, "faces/2/def.jpg", []byte("x")); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for o, err := range st.List(ctx, "faces/") {
				if err != nil {
					t.Fatal(err)
				}
				if o.ModTime.IsZero() {
					t.Errorf("%s listed without a time", o.Key)
				}
				keys = append(keys, o.Key)
			}
			slices.Sort(keys)
			if want := []string{"faces/1/abc.jpg", "faces/1/empty.jpg", "faces/2/def.jpg"}; !slices.Equal(keys, want) {
				t.Errorf("List faces/ = %v, want %v", keys, want)
			}
			seen := 0
			for _, err := range st.List(ctx, "") {
				if err != nil {
					t.Fatal(err)
				}
				seen++
				break
			}
			if seen != 1 {
				t.Errorf("break in List: saw %d", seen)
			}

			// Delete.
			if err := st.Delete(ctx, "faces/1/abc.jpg"); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Get(ctx, "faces/1/abc.jpg"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("after Delete: %v", err)
			}

			// The sweep removes old files no row refers to, by listing.
			used := map[string]bool{"faces/2/def.jpg": true}
			owner := blob.Owner{Prefix: "faces/", InUse: func(_ context.Context, keys []string) (map[string]bool, error) {
				m := map[string]bool{}
				for _, k := range keys {
					m[k] = used[k]
				}
				return m, nil
			}}
			removed, err := blob.Sweep(ctx, st, []blob.Owner{owner}, time.Now().Add(time.Hour), 1)
			if err != nil || removed != 1 {
				t.Fatalf("Sweep = %d, %v; want 1 (faces/1/empty.jpg)", removed, err)
			}
			if _, err := st.Stat(ctx, "faces/2/def.jpg"); err != nil {
				t.Errorf("referenced file swept: %v", err)
			}
			if _, err := st.Stat(ctx, "firmware/small.bin"); err != nil {
				t.Errorf("file without an owner swept: %v", err)
			}
			if _, err := st.RemoveTemporary(ctx, time.Now().Add(time.Hour)); err != nil {
				t.Errorf("RemoveTemporary: %v", err)
			}

			// Bad keys touch nothing.
			for _, bad := range []string{"../etc/passwd", "/abs", "a/../../b", "", "A/B", "faces/../../x", "faces//x", "faces/1/.."} {
				if err := st.Put(ctx, bad, []byte("x")); err == nil {
					t.Errorf("Put accepted key %q", bad)
				}
				if _, err := st.Get(ctx, bad); err == nil || errors.Is(err, blob.ErrNotFound) {
					t.Errorf("Get of key %q: %v, want a bad-key error", bad, err)
				}
				if _, err := st.Open(ctx, bad); err == nil {
					t.Errorf("Open accepted key %q", bad)
				}
				if err := st.Delete(ctx, bad); err == nil {
					t.Errorf("Delete accepted key %q", bad)
				}
			}
			if err := st.Check(ctx); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by the uploader") }

// TestS3Prefix: with prefix= every object is below it in the bucket, and
// the check's probe leaves nothing behind.
func TestS3Prefix(t *testing.T) {
	ctx := context.Background()
	srv := blobtest.Start(t)
	st := srv.Store("estate-a")
	if err := st.Put(ctx, "snapshots/1/x.jpg", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := st.Check(ctx); err != nil {
		t.Fatal(err)
	}
	names, err := srv.ObjectNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"estate-a/snapshots/1/x.jpg"}; !slices.Equal(names, want) {
		t.Errorf("bucket holds %v, want %v", names, want)
	}
}

// TestS3Down: a store that is down fails every call as Unavailable (503 to
// clients), and works again once it is back.
func TestS3Down(t *testing.T) {
	ctx := context.Background()
	srv := blobtest.Start(t)
	st := srv.Store("")
	if err := st.Put(ctx, "ads/1.jpg", []byte("ad")); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	calls := map[string]func() error{
		"Put":       func() error { return st.Put(ctx, "ads/2.jpg", []byte("ad")) },
		"PutReader": func() error { _, err := st.PutReader(ctx, "ads/3.jpg", strings.NewReader("ad")); return err },
		"Get":       func() error { _, err := st.Get(ctx, "ads/1.jpg"); return err },
		"Open":      func() error { _, err := st.Open(ctx, "ads/1.jpg"); return err },
		"Stat":      func() error { _, err := st.Stat(ctx, "ads/1.jpg"); return err },
		"Delete":    func() error { return st.Delete(ctx, "ads/1.jpg") },
		"Check":     func() error { return st.Check(ctx) },
		"List": func() error {
			for _, err := range st.List(ctx, "ads/") {
				return err
			}
			return nil
		},
	}
	for name, call := range calls {
		err := call()
		if errs.CodeOf(err) != errs.Unavailable {
			t.Errorf("%s with the store down: %v, want Unavailable", name, err)
		}
		if e, ok := errs.As(err); ok && e.Message != "文件存储暂不可用，请稍后重试" {
			t.Errorf("%s: message %q", name, e.Message)
		}
	}
	srv.Restart()
	if got, err := st.Get(ctx, "ads/1.jpg"); err != nil || string(got) != "ad" {
		t.Fatalf("after restart Get = %q, %v", got, err)
	}
	if err := st.Put(ctx, "ads/2.jpg", []byte("ad")); err != nil {
		t.Fatalf("after restart Put: %v", err)
	}
}
