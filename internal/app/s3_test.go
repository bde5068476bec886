package app_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"linli/internal/apptest"
	"linli/internal/blob/blobtest"
	"linli/internal/config"
	"linli/internal/storetest"
)

// s3Config is a server configuration whose files are kept in srv's bucket
// under prefix, on the last backend (PostgreSQL when there is one).
func s3Config(t testing.TB, srv *blobtest.Server, prefix string) config.Config {
	backends := storetest.Backends()
	return config.Config{DataDir: t.TempDir(), DBURL: backends[len(backends)-1].URL(t), AdminAccount: "admin",
		AdminPassword: apptest.AdminInitial, MQTTAddr: "off", SIPAddr: "off",
		BlobURL: srv.URL(prefix), S3AccessKeyID: srv.Credentials.AccessKeyID, S3SecretAccessKey: srv.Credentials.SecretAccessKey}
}

const storeDown = "文件存储暂不可用，请稍后重试"

// TestFilesOnS3: with LINLI_BLOB_URL every upload (firmware, snapshot, ad,
// face) lands in the bucket and nothing in the data directory, and comes
// back whole, firmware by range requests too. With the store stopped,
// uploads and downloads answer 503 with the reason and leave no row behind,
// /readyz shows files down, and requests that need no file still work;
// once the store is back, uploads work again.
func TestFilesOnS3(t *testing.T) {
	t.Parallel()
	srv := blobtest.Start(t)
	cfg := s3Config(t, srv, "estate")
	s := apptest.StartWith(t, cfg)
	op := s.Operator()
	a := s.NewCommunity(t, op, "云存储小区", "SS")
	m := a.Manager

	// Firmware, downloaded whole and by ranges.
	image := make([]byte, 3<<20+77)
	_, _ = rand.Read(image)
	fwID, r := uploadFirmware(t, op, "S3-DOOR", "1.0.0", image)
	if r.Status != 201 {
		t.Fatalf("firmware upload: %d %s", r.Status, r.Body)
	}
	var dev credentials
	s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwSSx9",
		"serial": "SS-DOOR-1", "model": "S3-DOOR", "slot": map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 1}}).JSON(t, &dev)
	device := s.Client("device")
	auth := map[string]string{"Authorization": "Bearer " + dev.Token}
	fwPath := fmt.Sprintf("/device/v1/firmware/%d", fwID)
	if r := device.DoHeaders("GET", fwPath, auth, nil); r.Status != 200 || !bytes.Equal(r.Body, image) {
		t.Fatalf("firmware download: %d, %d bytes, equal %v", r.Status, len(r.Body), bytes.Equal(r.Body, image))
	}
	for _, c := range []struct {
		header     string
		start, end int // inclusive
	}{
		{"bytes=1000-1999", 1000, 1999},
		{"bytes=3145700-", 3145700, len(image) - 1}, // across the 3 MiB mark, to the end
		{"bytes=-10", len(image) - 10, len(image) - 1},
	} {
		r := device.DoHeaders("GET", fwPath, map[string]string{"Authorization": "Bearer " + dev.Token, "Range": c.header}, nil)
		want := fmt.Sprintf("bytes %d-%d/%d", c.start, c.end, len(image))
		if r.Status != 206 || r.Header.Get("Content-Range") != want || !bytes.Equal(r.Body, image[c.start:c.end+1]) {
			t.Errorf("Range %s: %d %q, %d bytes; want 206 %q", c.header, r.Status, r.Header.Get("Content-Range"), len(r.Body), want)
		}
	}

	// A snapshot, an ad and a face.
	snap := snapshotJPEG(320, 240)
	if r := postEvent(s, dev.Token, map[string]string{"event_id": "s3-1", "type": "unlock", "unlock_type": "card", "card": "0A0B0C0D",
		"time": "2026-11-28T10:00:00+08:00"}, snap); r.Status != 201 {
		t.Fatalf("event: %d %s", r.Status, r.Body)
	}
	var list recordList
	m.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &list)
	if list.Total != 1 || !list.Items[0].HasSnapshot {
		t.Fatalf("records: %+v", list)
	}
	snapPath := a.Path(fmt.Sprintf("/records/%d/snapshot", list.Items[0].ID))
	if r := m.Do("GET", snapPath, nil); r.Status != 200 || !bytes.Equal(r.Body, snap) {
		t.Fatalf("snapshot download: %d, %d bytes", r.Status, len(r.Body))
	}
	ct, body := adForm("ad.jpg", pictureJPEG(640, 400), false)
	if r := m.DoType("PUT", a.Path("/ads/landscape/1"), ct, body); r.Status != 200 {
		t.Fatalf("ad: %d %s", r.Status, r.Body)
	}
	if r := m.Do("GET", a.Path("/ads/landscape/1/image"), nil); r.Status != 200 || !bytes.HasPrefix(r.Body, []byte{0xFF, 0xD8}) {
		t.Fatalf("ad image: %d %.100s", r.Status, r.Body)
	}
	var res, other struct{ ID int }
	m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "云存储", "role": "业主"}).JSON(t, &res)
	m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "断存储", "role": "业主"}).JSON(t, &other)
	ct, body = faceForm(true)
	if r := m.DoType("PUT", a.Path(fmt.Sprintf("/residents/%d/face", res.ID)), ct, body); r.Status != 200 {
		t.Fatalf("face: %d %s", r.Status, r.Body)
	}
	if r := m.Do("GET", a.Path(fmt.Sprintf("/residents/%d/face.jpg", res.ID)), nil); r.Status != 200 || !bytes.HasPrefix(r.Body, []byte{0xFF, 0xD8}) {
		t.Fatalf("face photo: %d %.100s", r.Status, r.Body)
	}

	// Everything is in the bucket under the prefix, nothing on disk.
	names, err := srv.ObjectNames(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"estate/firmware/", "estate/snapshots/", "estate/ads/", "estate/faces/"} {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, kind) }) {
			t.Errorf("no object under %s: %v", kind, names)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "files")); len(entries) != 0 {
		t.Errorf("files written to the data directory: %v", entries)
	}
	probe := s.Client("probe")
	type ready struct {
		Status string
		Checks map[string]struct{ Status, Message string }
	}
	var rd ready
	probe.Must(200, "GET", "/readyz", nil).JSON(t, &rd)
	if rd.Checks["files"].Status != "ok" {
		t.Errorf("/readyz: %+v", rd)
	}

	// The store goes down.
	srv.Stop()
	unavailable := func(what string, r apptest.Response) {
		t.Helper()
		if r.Status != 503 || r.Detail() != storeDown {
			t.Errorf("%s with the store down: %d %s; want 503 %q", what, r.Status, r.Body, storeDown)
		}
	}
	unavailable("event with a snapshot", postEvent(s, dev.Token, map[string]string{"event_id": "s3-2", "type": "unlock",
		"unlock_type": "card", "card": "0A0B0C0D", "time": "2026-11-28T10:01:00+08:00"}, snap))
	_, r = uploadFirmware(t, op, "S3-DOOR", "2.0.0", image)
	unavailable("firmware upload", r)
	ct, body = adForm("ad.jpg", pictureJPEG(640, 400), false)
	unavailable("ad upload", m.DoType("PUT", a.Path("/ads/landscape/2"), ct, body))
	ct, body = faceForm(true)
	unavailable("face upload", m.DoType("PUT", a.Path(fmt.Sprintf("/residents/%d/face", other.ID)), ct, body))
	unavailable("snapshot download", m.Do("GET", snapPath, nil))
	unavailable("firmware download", device.DoHeaders("GET", fwPath, map[string]string{"Authorization": "Bearer " + dev.Token, "Range": "bytes=0-99"}, nil))
	unavailable("face photo", m.Do("GET", a.Path(fmt.Sprintf("/residents/%d/face.jpg", res.ID)), nil))

	// No row points at a file that was not stored.
	m.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &list)
	if list.Total != 1 {
		t.Errorf("records after failed uploads: %d, want 1", list.Total)
	}
	var fws struct{ Items []struct{ Version string } }
	op.Must(200, "GET", "/api/v1/firmware", nil).JSON(t, &fws)
	if len(fws.Items) != 1 {
		t.Errorf("firmware after a failed upload: %+v", fws.Items)
	}
	if r := m.Do("GET", a.Path("/ads/landscape/2/image"), nil); r.Status != 404 {
		t.Errorf("ad slot 2 after a failed upload: %d %s", r.Status, r.Body)
	}
	if r := m.Do("GET", a.Path(fmt.Sprintf("/residents/%d/face.jpg", other.ID)), nil); r.Status != 404 {
		t.Errorf("face after a failed upload: %d %s", r.Status, r.Body)
	}

	// Readiness says so; what needs no file goes on.
	if r := probe.Do("GET", "/readyz", nil); r.Status != 503 {
		t.Errorf("/readyz with the store down: %d %s", r.Status, r.Body)
	} else {
		r.JSON(t, &rd)
		if rd.Checks["files"].Status == "ok" || rd.Checks["database"].Status != "ok" {
			t.Errorf("/readyz with the store down: %+v", rd)
		}
	}
	if r := postEvent(s, dev.Token, map[string]string{"event_id": "s3-3", "type": "unlock", "unlock_type": "card", "card": "0A0B0C0D",
		"time": "2026-11-28T10:02:00+08:00"}, nil); r.Status != 201 {
		t.Errorf("event without a snapshot with the store down: %d %s", r.Status, r.Body)
	}
	m.Must(200, "GET", a.Path("/residents"), nil)

	// Back again.
	srv.Restart()
	if r := postEvent(s, dev.Token, map[string]string{"event_id": "s3-2", "type": "unlock", "unlock_type": "card", "card": "0A0B0C0D",
		"time": "2026-11-28T10:01:00+08:00"}, snap); r.Status != 201 {
		t.Errorf("event retried once the store is back: %d %s", r.Status, r.Body)
	}
	if _, r := uploadFirmware(t, op, "S3-DOOR", "2.0.0", image); r.Status != 201 {
		t.Errorf("firmware once the store is back: %d %s", r.Status, r.Body)
	}
	probe.Must(200, "GET", "/readyz", nil)
}
