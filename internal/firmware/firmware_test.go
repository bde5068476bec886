package firmware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"

	"linli/internal/actor"
	"linli/internal/blob"
	"linli/internal/store"
	"linli/internal/storetest"
)

func newService(t *testing.T, db *store.Store) (*Service, *blob.Dir, context.Context) {
	t.Helper()
	files, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
	return NewService(db, files, slog.New(slog.NewTextHandler(io.Discard, nil))), files, ctx
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// servedHash is the SHA-256 of what a device downloading f would receive.
func servedHash(t *testing.T, s *Service, ctx context.Context, id int) string {
	t.Helper()
	f, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	file, err := s.Open(ctx, f)
	if err != nil {
		t.Fatalf("open firmware %d: %v", id, err)
	}
	defer file.Close()
	h := sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestModelsDifferingInCaseKeepTheirOwnFiles: models ABC and abc with the
// same version are two images; each downloads with its own SHA-256, and
// deleting one leaves the other.
func TestModelsDifferingInCaseKeepTheirOwnFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		s, _, ctx := newService(t, db)
		imgUpper, imgLower := bytes.Repeat([]byte("UPPER"), 1000), bytes.Repeat([]byte("lower"), 999)
		up, err := s.Upload(ctx, UploadInput{Model: "ABC", Version: "V1.0.0", FileName: "a.bin", File: bytes.NewReader(imgUpper)}, "op")
		if err != nil {
			t.Fatal(err)
		}
		low, err := s.Upload(ctx, UploadInput{Model: "abc", Version: "v1.0.0", FileName: "b.bin", File: bytes.NewReader(imgLower)}, "op")
		if err != nil {
			t.Fatal(err)
		}
		if up.BlobKey == low.BlobKey {
			t.Errorf("two images share the stored file %q", up.BlobKey)
		}
		if got := servedHash(t, s, ctx, up.ID); got != up.Sha256 || got != sha(imgUpper) {
			t.Errorf("ABC serves %s, its row says %s", got, up.Sha256)
		}
		if got := servedHash(t, s, ctx, low.ID); got != low.Sha256 || got != sha(imgLower) {
			t.Errorf("abc serves %s, its row says %s", got, low.Sha256)
		}
		if err := s.Delete(ctx, low.ID); err != nil {
			t.Fatal(err)
		}
		if got := servedHash(t, s, ctx, up.ID); got != sha(imgUpper) {
			t.Errorf("after deleting abc, ABC serves %s", got)
		}
	})
}

// TestFirmwareStoredUnderTheOldKeyStillServes: rows stored before files
// were keyed by something unique keep their key and still download; when
// two such rows share a file, deleting one does not take the other's file.
func TestFirmwareStoredUnderTheOldKeyStillServes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		s, files, ctx := newService(t, db)
		img := bytes.Repeat([]byte("old"), 4096)
		const oldKey = "firmware/xyz/2.0.0.bin"
		if err := files.Put(ctx, oldKey, img); err != nil {
			t.Fatal(err)
		}
		var ids []int
		for _, model := range []string{"XYZ", "xyz"} {
			f, err := db.Firmware.Create().SetModel(model).SetVersion("2.0.0").SetFileName("x.bin").
				SetSize(int64(len(img))).SetSha256(sha(img)).SetBlobKey(oldKey).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, f.ID)
		}
		if got := servedHash(t, s, ctx, ids[0]); got != sha(img) {
			t.Fatalf("old-key firmware serves %s, want %s", got, sha(img))
		}
		if err := s.Delete(ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
		if got := servedHash(t, s, ctx, ids[1]); got != sha(img) {
			t.Errorf("the other row of the shared old key serves %s", got)
		}
		if err := s.Delete(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := files.Get(ctx, oldKey); err != blob.ErrNotFound {
			t.Errorf("file of the last row left behind: %v", err)
		}
	})
}
