package app_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/apptest"
	"linli/internal/sim"
)

// cutOnce breaks the first firmware download after a number of bytes, as a
// lost network would, and records every Range header it saw.
type cutOnce struct {
	mu     sync.Mutex
	cut    bool
	after  int64
	ranges []string
}

func (c *cutOnce) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/device/v1/firmware/") {
		return res, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ranges = append(c.ranges, req.Header.Get("Range"))
	if !c.cut {
		c.cut = true
		res.Body = &cutBody{ReadCloser: res.Body, left: c.after}
	}
	return res, nil
}

type cutBody struct {
	io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

func deviceRow(t *testing.T, c *apptest.Client, a *apptest.Community, serial string) doorRow {
	t.Helper()
	row, ok := findDoor(t, c, a, serial)
	if !ok {
		t.Fatalf("device %s not in the list", serial)
	}
	return row
}

func uploadFirmware(t *testing.T, op *apptest.Client, model, version string, image []byte) (int, apptest.Response) {
	t.Helper()
	ct, body := multipartBody("fw-"+version+".bin", image, map[string]string{"model": model, "version": version})
	r := op.DoType("POST", "/api/v1/firmware", ct, body)
	var v struct{ ID int }
	if r.Status == 201 {
		r.JSON(t, &v)
	}
	return v.ID, r
}

// TestFirmwareUpgrade uploads firmware, upgrades a simulated door station
// whose download breaks halfway (it resumes with a range request), then
// shows a corrupted image and a downgrade refused by the device as failed.
func TestFirmwareUpgrade(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "升级小区", "UP")
		m := a.Manager
		image := make([]byte, 1<<20+12345)
		_, _ = rand.Read(image)

		// Uploading: versions of a model only increase; bad input is refused.
		v2, r := uploadFirmware(t, op, "LINLI-SIM", "2.0.0", image)
		if r.Status != 201 || !strings.Contains(string(r.Body), `"sha256"`) {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		for _, c := range []struct{ model, version, want string }{
			{"LINLI-SIM", "2.0.0", "新版本必须更高"},
			{"LINLI-SIM", "1.9.9", "新版本必须更高"},
			{"LINLI-SIM", "2.0", "新版本必须更高"},
			{"LINLI-SIM", "abc", "版本号格式"},
			{"bad model!", "1.0", "型号"},
		} {
			if _, r := uploadFirmware(t, op, c.model, c.version, image[:100]); r.Status != 422 || !strings.Contains(r.Detail()+string(r.Body), c.want) {
				t.Errorf("upload %s %s: %d %s, want 422 %q", c.model, c.version, r.Status, r.Body, c.want)
			}
		}
		if _, r := uploadFirmware(t, op, "LINLI-SIM", "9.0.0", nil); r.Status != 422 || !strings.Contains(string(r.Body), "空") {
			t.Errorf("empty firmware: %d %s", r.Status, r.Body)
		}

		cut := &cutOnce{after: 100_000}
		d := sim.New(sim.Config{Server: s.URL, MQTTAddr: s.App.MQTTAddr().String(), CommunityID: a.ID, Password: "pwUPx9",
			Slot: sim.Slot{Kind: "door", UnitID: a.UnitID, Index: 1}, Serial: "UPG-0001", Firmware: "1.0.0",
			HTTPClient: &http.Client{Transport: cut, Timeout: 10 * time.Second}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err := d.Bind(context.Background()); err != nil {
			t.Fatal(err)
		}
		id := d.Status().DeviceID
		start := func(fw int) apptest.Response {
			return m.Do("POST", a.Path("/devices/upgrade"), map[string]any{"device_ids": []int{id}, "firmware_id": fw})
		}
		if r := start(v2); r.Status != 409 || !strings.Contains(r.Detail(), "离线") {
			t.Fatalf("upgrade of an offline device: %d %s", r.Status, r.Body)
		}
		runSim(t, d)
		waitFor(t, "the device 在线", func() bool { return deviceStatus(t, m, a, "UPG-0001") == "online" })

		otherFW, _ := uploadFirmware(t, op, "OTHER-MODEL", "5.0", image[:10])
		if r := start(otherFW); r.Status != 422 || !strings.Contains(r.Detail(), "型号") {
			t.Fatalf("another model's firmware: %d %s", r.Status, r.Body)
		}
		m.Must(202, "POST", a.Path("/devices/upgrade"), map[string]any{"device_ids": []int{id}, "firmware_id": v2})
		if r := start(v2); r.Status != 409 {
			t.Errorf("a second upgrade while one runs: %d %s", r.Status, r.Body)
		}
		waitFor(t, "the upgrade succeeds", func() bool {
			row := deviceRow(t, m, a, "UPG-0001")
			return row.Upgrade != nil && row.Upgrade.State == "succeeded"
		})
		if row := deviceRow(t, m, a, "UPG-0001"); row.Firmware != "2.0.0" || row.Upgrade.Progress != 100 {
			t.Errorf("after the upgrade: %+v %+v", row, row.Upgrade)
		}
		if st := d.Status(); st.Firmware != "2.0.0" {
			t.Errorf("device firmware %q", st.Firmware)
		}
		cut.mu.Lock()
		resumed := false
		for _, rg := range cut.ranges {
			// Chunks start at multiples of 256 KiB; the resumed one does not.
			var from int64
			fmt.Sscanf(rg, "bytes=%d-", &from)
			resumed = resumed || from%(256<<10) != 0
		}
		cut.mu.Unlock()
		if !resumed {
			t.Errorf("the broken download was not resumed from where it stopped: %v", cut.ranges)
		}
		if r := start(v2); r.Status != 409 || !strings.Contains(r.Detail(), "不允许降级或重复升级") {
			t.Errorf("upgrade to the version it has: %d %s", r.Status, r.Body)
		}

		// A corrupted image fails the hash check on the device.
		v3, _ := uploadFirmware(t, op, "LINLI-SIM", "3.0.0", image)
		fw, err := s.App.Store().Firmware.Get(actor.AsSystem(context.Background()), v3)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(s.DataDir(), "files", filepath.FromSlash(fw.BlobKey))
		bad := append([]byte{}, image...)
		bad[len(bad)/2] ^= 0xFF
		if err := os.WriteFile(path, bad, 0o640); err != nil {
			t.Fatal(err)
		}
		m.Must(202, "POST", a.Path("/devices/upgrade"), map[string]any{"device_ids": []int{id}, "firmware_id": v3})
		waitFor(t, "the corrupted upgrade shown failed", func() bool {
			row := deviceRow(t, m, a, "UPG-0001")
			return row.Upgrade != nil && row.Upgrade.State == "failed" && strings.Contains(row.Upgrade.Message, "SHA-256")
		})
		if row := deviceRow(t, m, a, "UPG-0001"); row.Firmware != "2.0.0" || d.Status().Firmware != "2.0.0" {
			t.Errorf("a failed upgrade changed the firmware: %q / %q", row.Firmware, d.Status().Firmware)
		}

		// Flashed on site to a newer version than the server knows: the
		// device itself refuses the downgrade.
		d.Flash("9.0.0")
		v4, _ := uploadFirmware(t, op, "LINLI-SIM", "4.0.0", image[:1000])
		m.Must(202, "POST", a.Path("/devices/upgrade"), map[string]any{"device_ids": []int{id}, "firmware_id": v4})
		waitFor(t, "the downgrade shown failed", func() bool {
			row := deviceRow(t, m, a, "UPG-0001")
			return row.Upgrade != nil && row.Upgrade.State == "failed" && strings.Contains(row.Upgrade.Message, "拒绝降级")
		})

		// A device downloads only firmware of its own model, and only with
		// its token; ranges are served as 206.
		var other struct{ Token string }
		s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{
			"community_id": a.ID, "community_password": "pwUPx9", "serial": "OTHER-0001", "model": "OTHER-MODEL",
			"slot": map[string]any{"kind": "wall", "index": 1}}).JSON(t, &other)
		dl := func(fw int, rng string) apptest.Response {
			return s.Client("device").DoHeaders("GET", fmt.Sprintf("/device/v1/firmware/%d", fw),
				map[string]string{"Authorization": "Bearer " + other.Token, "Range": rng}, nil)
		}
		if r := dl(v3, ""); r.Status != 404 {
			t.Errorf("another model's firmware downloaded: %d", r.Status)
		}
		if r := dl(otherFW, "bytes=2-5"); r.Status != 206 || string(r.Body) != string(image[2:6]) {
			t.Errorf("range download: %d %q", r.Status, r.Body)
		}
		if r := op.Do("DELETE", fmt.Sprintf("/api/v1/firmware/%d", v4), nil); r.Status != 204 {
			t.Errorf("delete firmware after the upgrade ended: %d %s", r.Status, r.Body)
		}
	})
}
