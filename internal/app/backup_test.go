package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/backup"
	"linli/internal/config"
	"linli/internal/secret"
	"linli/internal/storetest"
)

// TestBackupAndRestore backs up a running SQLite server while requests
// write to it, restores the archive into a new data directory and starts a
// server there: the community, the resident, the sealed ID number and the
// face photo are back. A corrupt archive is refused and the target keeps
// what it had.
func TestBackupAndRestore(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	op := s.Operator()
	a := s.NewCommunity(t, op, "备份小区", "BK")
	m := a.Manager
	var r residentView
	m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "张备份", "phone": "13800138001",
		"role": "业主", "id_number": testIDNumber}).JSON(t, &r)
	facePath := a.Path(fmt.Sprintf("/residents/%d/face", r.ID))
	if ct, body := faceForm(true); m.DoType("PUT", facePath, ct, body).Status != 200 {
		t.Fatal("face upload refused")
	}
	photo := m.Must(200, "GET", a.Path(fmt.Sprintf("/residents/%d/face.jpg", r.ID)), nil).Body

	// Residents keep being added while the backup runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	writer := s.Client("writer")
	writer.Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
	var written []int
	var started atomic.Bool
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			res := writer.Do("POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": fmt.Sprintf("写入%d", i), "role": "业主"})
			written = append(written, res.Status)
			started.Store(true)
		}
	})
	apptest.Eventually(t, 10*time.Second, "a write under way", started.Load)
	archive := filepath.Join(t.TempDir(), "linli-backup.tar.gz")
	made, err := backup.Create(context.Background(), backup.Source{DataDir: s.DataDir(), Version: "test"}, archive)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	for _, st := range written {
		if st != 201 {
			t.Fatalf("a write during the backup answered %d", st)
		}
	}
	if made.Database != "sqlite" || made.Key != backup.KeyInArchive || made.Files() < 1 {
		t.Fatalf("manifest: %+v", made)
	}

	target := filepath.Join(t.TempDir(), "restored")
	if _, err := backup.Restore(context.Background(), archive, target, false); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if _, err := backup.Restore(context.Background(), archive, target, false); err == nil || !strings.Contains(err.Error(), "已有数据库") {
		t.Fatalf("restore over a database without -force: %v", err)
	}
	key, _ := os.ReadFile(filepath.Join(s.DataDir(), secret.KeyFile))
	if got, _ := os.ReadFile(filepath.Join(target, secret.KeyFile)); !bytes.Equal(got, key) {
		t.Fatal("the data key was not restored")
	}

	// A corrupt archive (a flipped byte, a cut) changes nothing.
	data, _ := os.ReadFile(archive)
	before, _ := os.ReadFile(filepath.Join(target, "linli.db"))
	flipped := bytes.Clone(data)
	flipped[len(flipped)/2] ^= 0xff
	for name, bad := range map[string][]byte{"flipped": flipped, "cut": data[:len(data)*2/3], "empty": nil} {
		p := filepath.Join(t.TempDir(), name+".tar.gz")
		_ = os.WriteFile(p, bad, 0o600)
		if _, err := backup.Restore(context.Background(), p, target, true); err == nil || !strings.Contains(err.Error(), "无效或已损坏") {
			t.Errorf("restore of a %s archive: %v", name, err)
		}
		if after, _ := os.ReadFile(filepath.Join(target, "linli.db")); !bytes.Equal(after, before) {
			t.Fatalf("a %s archive changed the target", name)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(target, ".re*")); len(left) > 0 {
		t.Errorf("staging directories left: %v", left)
	}

	// -force replaces what a backup holds and leaves anything else.
	keep := filepath.Join(target, "keep.txt")
	_ = os.WriteFile(keep, []byte("mine"), 0o600)
	_ = os.WriteFile(filepath.Join(target, "linli.db-wal"), []byte("stale journal"), 0o600)
	if _, err := backup.Restore(context.Background(), archive, target, true); err != nil {
		t.Fatalf("restore -force: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("restore removed a file it does not own: %v", err)
	}
	if _, err := os.Stat(filepath.Join(target, "linli.db-wal")); err == nil {
		t.Error("restore left a stale SQLite journal beside the restored database")
	}

	s2 := apptest.StartWith(t, config.Config{DataDir: target, AdminAccount: "admin", AdminPassword: apptest.AdminInitial,
		MQTTAddr: "off", SIPAddr: "off"})
	m2 := s2.Client("manager after restore")
	m2.Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
	var list struct {
		Total int `json:"total"`
	}
	m2.Must(200, "GET", a.Path("/residents?q=张备份"), nil).JSON(t, &list)
	if list.Total != 1 {
		t.Fatalf("restored residents named 张备份: %d", list.Total)
	}
	var revealed struct {
		IDNumber string `json:"id_number"`
	}
	m2.Must(200, "POST", a.Path(fmt.Sprintf("/residents/%d/id-number/reveal", r.ID)), nil).JSON(t, &revealed)
	if revealed.IDNumber != testIDNumber {
		t.Errorf("restored ID number: %q", revealed.IDNumber)
	}
	if got := m2.Must(200, "GET", a.Path(fmt.Sprintf("/residents/%d/face.jpg", r.ID)), nil).Body; !bytes.Equal(got, photo) {
		t.Errorf("restored face photo: %d bytes, want %d", len(got), len(photo))
	}
}
