package app_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/blob"
	"linli/internal/config"
	"linli/internal/storetest"
)

// TestOrphanFilesSwept: for every kind of stored file (snapshots, faces,
// ads, application photos, firmware), a file no row refers to that is older
// than the grace period is removed, as is a half-written file a crash left;
// a fresh orphan and every file a row refers to stay, however old.
func TestOrphanFilesSwept(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "清理小区", "OR")
		m := a.Manager

		// One stored file of each kind, each with its row.
		image := make([]byte, 4096)
		_, _ = rand.Read(image)
		if _, r := uploadFirmware(t, op, "OR-MODEL", "1.0.0", image); r.Status != 201 {
			t.Fatalf("firmware: %d %s", r.Status, r.Body)
		}
		ct, body := adForm("ad.jpg", pictureJPEG(640, 400), false)
		if r := m.DoType("PUT", a.Path("/ads/landscape/1"), ct, body); r.Status != 200 {
			t.Fatalf("ad: %d %s", r.Status, r.Body)
		}
		var res struct{ ID int }
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "王五", "role": "业主"}).JSON(t, &res)
		ct, body = faceForm(true)
		if r := m.DoType("PUT", a.Path(fmt.Sprintf("/residents/%d/face", res.ID)), ct, body); r.Status != 200 {
			t.Fatalf("face: %d %s", r.Status, r.Body)
		}
		ct, body = applicationForm(a.RoomID, "申请人", "13168035109", 1)
		if r := s.Client("phone").DoType("POST", "/app/v1/apply/"+applyToken(t, m, a), ct, body); r.Status != 201 {
			t.Fatalf("application: %d %s", r.Status, r.Body)
		}
		dev := boundDevice(t, s, a, "pwORx9", "OR-DOOR-1", 1)
		if r := postEvent(s, dev.Token, map[string]string{"event_id": "or-1", "type": "call", "target": "0502",
			"time": "2026-11-28T10:00:00+08:00"}, snapshotJPEG(64, 48)); r.Status != 201 {
			t.Fatalf("event: %d %s", r.Status, r.Body)
		}

		root := filepath.Join(s.DataDir(), "files")
		kept := storedFiles(t, root)
		for _, kind := range []string{"snapshots/", "faces/", "ads/", "applications/", "firmware/"} {
			if !hasPrefix(kept, kind) {
				t.Fatalf("no %s file was stored: %v", kind, kept)
			}
		}
		old := time.Now().Add(-blob.OrphanGrace - time.Hour)
		for _, k := range kept { // old, but their rows keep them
			age(t, root, k, old)
		}
		oldOrphans := []string{
			fmt.Sprintf("snapshots/%d/202611/%d-%s.jpg", a.ID, dev.DeviceID, strings.Repeat("a", 32)),
			fmt.Sprintf("faces/%d/%d-0011223344556677.jpg", a.ID, res.ID), // the resident's previous photo
			fmt.Sprintf("faces/%d/99999-0011223344556677.jpg", a.ID),      // a resident that never was
			fmt.Sprintf("ads/%d/landscape-2-0011223344556677.jpg", a.ID),
			fmt.Sprintf("applications/%d/crashed-upload.jpg", a.ID),
			"firmware/0123456789abcdef0123456789abcdef.bin",
			"firmware/or-model/0.9.0.bin", // under the old model/version key
		}
		var freshOrphans []string
		for _, k := range oldOrphans {
			plant(t, root, k, old)
			fresh := strings.Replace(k, ".", "-fresh.", 1)
			plant(t, root, fresh, time.Now())
			freshOrphans = append(freshOrphans, fresh)
		}
		halfWritten := filepath.Join(root, "snapshots", ".tmp-12345")
		if err := os.WriteFile(halfWritten, []byte("half"), 0o640); err != nil {
			t.Fatal(err)
		}
		_ = os.Chtimes(halfWritten, old, old)

		n, err := s.App.SweepFiles(context.Background(), time.Now().Add(-blob.OrphanGrace))
		if err != nil || n != len(oldOrphans)+1 {
			t.Errorf("SweepFiles = %d, %v; want %d removed", n, err, len(oldOrphans)+1)
		}
		left := storedFiles(t, root)
		for _, k := range oldOrphans {
			if contains(left, k) {
				t.Errorf("old orphan %s left", k)
			}
		}
		for _, k := range append(kept, freshOrphans...) {
			if !contains(left, k) {
				t.Errorf("%s removed", k)
			}
		}
		if _, err := os.Stat(halfWritten); !os.IsNotExist(err) {
			t.Error("half-written file left")
		}
		m.Must(200, "GET", a.Path(fmt.Sprintf("/residents/%d/face.jpg", res.ID)), nil)
	})
}

func storedFiles(t *testing.T, root string) []string {
	t.Helper()
	var keys []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func age(t *testing.T, root, key string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(key)), at, at); err != nil {
		t.Fatal(err)
	}
}

func plant(t *testing.T, root, key string, at time.Time) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("orphan"), 0o640); err != nil {
		t.Fatal(err)
	}
	age(t, root, key, at)
}

func hasPrefix(keys []string, prefix string) bool {
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func contains(keys []string, key string) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

// TestOrphanSweepSparesFilesOfAnotherDatabase: a SQLite installation's data
// directory started on a new, empty PostgreSQL database (a migration begun
// the wrong way round) keeps every stored file; the sweep says why.
func TestOrphanSweepSparesFilesOfAnotherDatabase(t *testing.T) {
	t.Parallel()
	bs := storetest.Backends()
	if len(bs) < 2 {
		t.Skip("needs TEST_POSTGRES_URL: the files of a SQLite installation meet a new PostgreSQL database")
	}
	first := apptest.Start(t, bs[0])
	op := first.Operator()
	a := first.NewCommunity(t, op, "迁移小区", "MG")
	if _, r := uploadFirmware(t, op, "MG-MODEL", "1.0.0", []byte("firmware image")); r.Status != 201 {
		t.Fatalf("firmware: %d %s", r.Status, r.Body)
	}
	var res struct{ ID int }
	a.Manager.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "赵六", "role": "业主"}).JSON(t, &res)
	ct, body := faceForm(true)
	if r := a.Manager.DoType("PUT", a.Path(fmt.Sprintf("/residents/%d/face", res.ID)), ct, body); r.Status != 200 {
		t.Fatalf("face: %d %s", r.Status, r.Body)
	}
	first.Stop()
	root := filepath.Join(first.DataDir(), "files")
	stored := storedFiles(t, root)
	for _, k := range stored {
		age(t, root, k, time.Now().Add(-blob.OrphanGrace-time.Hour))
	}

	second := apptest.StartWith(t, config.Config{DataDir: first.DataDir(), DBURL: bs[1].URL(t), AdminAccount: "admin",
		AdminPassword: apptest.AdminInitial, MQTTAddr: "off"})
	n, err := second.App.SweepFiles(context.Background(), time.Now().Add(-blob.OrphanGrace))
	if n != 0 || !errors.Is(err, blob.ErrForeignFiles) {
		t.Errorf("SweepFiles = %d, %v; want nothing removed and ErrForeignFiles", n, err)
	}
	if left := storedFiles(t, root); len(left) != len(stored) {
		t.Errorf("%d of %d stored files left", len(left), len(stored))
	}
}
