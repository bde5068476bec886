package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"linli/internal/actor"
	"linli/internal/apptest"
	"linli/internal/fakecam"
)

// startFakeCamera starts a fake ONVIF camera on loopback for the test.
func startFakeCamera(tb testing.TB, name string) *fakecam.Camera {
	tb.Helper()
	cam, err := fakecam.Start(fakecam.Config{Name: name, Username: "admin", Password: "Cam-Pass-9"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cam.Close)
	return cam
}

type apiCamera struct {
	ID           int
	Name         string
	Address      string
	Username     string
	Manufacturer string
	Model        string
	StreamURI    string `json:"stream_uri"`
	HasSnapshot  bool   `json:"has_snapshot"`
	Width        int
	Status       string
	LastError    string `json:"last_error"`
}

// TestCameras: staff add a camera that answers over ONVIF, and only one
// that does (a wrong password, an unreachable or non-camera address are
// refused with a reason on the form and leave nothing behind); the
// password is sealed in the database; the snapshot is served; staff of
// another community see nothing of it.
func TestCameras(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "监控小区", "CA")
		b := s.NewCommunity(t, op, "别的监控小区", "CB")
		cam := startFakeCamera(t, "GATE CAM")
		m := a.Manager

		// Refusals: nothing stored, the reason names the field.
		dead, _ := net.Listen("tcp", "127.0.0.1:0")
		deadAddr := dead.Addr().String()
		dead.Close()
		for _, tc := range []struct {
			body  map[string]any
			field string
			says  string
		}{
			{map[string]any{"name": "大门", "address": cam.Addr(), "username": "admin", "password": "wrong"}, "password", "密码错误"},
			{map[string]any{"name": "大门", "address": deadAddr, "username": "admin", "password": "Cam-Pass-9"}, "address", "无法连接"},
			{map[string]any{"name": "大门", "address": strings.TrimPrefix(s.URL, "http://"), "username": "admin", "password": "x"}, "address", "ONVIF"},
			{map[string]any{"name": "大门", "address": "rtsp://" + cam.Addr(), "username": "admin", "password": "x"}, "address", "地址格式"},
			{map[string]any{"name": "", "address": cam.Addr(), "username": "admin", "password": "x"}, "name", "名称"},
			{map[string]any{"name": "大门", "address": cam.Addr(), "username": "admin"}, "password", "密码"},
		} {
			r := m.Do("POST", a.Path("/cameras"), tc.body)
			if r.Status != 422 || !strings.Contains(r.Detail(), tc.says) || !strings.Contains(string(r.Body), `"body.`+tc.field+`"`) {
				t.Errorf("add %v: %d %s, want 422 on %s saying %s", tc.body, r.Status, r.Body, tc.field, tc.says)
			}
		}
		var page struct {
			Items []apiCamera
			Total int
		}
		m.Must(200, "GET", a.Path("/cameras"), nil).JSON(t, &page)
		if page.Total != 0 {
			t.Fatalf("a refused camera was stored: %+v", page.Items)
		}

		var c apiCamera
		m.Must(201, "POST", a.Path("/cameras"), map[string]any{"name": "大门", "address": "http://" + cam.Addr(), "username": "admin", "password": "Cam-Pass-9"}).JSON(t, &c)
		if c.Address != cam.Addr() || c.Manufacturer != "Linli" || c.Model != "FakeCam-1" || c.StreamURI != cam.RTSPURL() ||
			!c.HasSnapshot || c.Width != 640 || c.Status != "正常" {
			t.Errorf("added: %+v", c)
		}
		if r := m.Do("POST", a.Path("/cameras"), map[string]any{"name": "大门", "address": cam.Addr(), "username": "admin", "password": "Cam-Pass-9"}); r.Status != 422 || !strings.Contains(r.Detail(), "同名") {
			t.Errorf("same name: %d %s", r.Status, r.Body)
		}

		// Sealed at rest: the raw column does not hold the password.
		var raw []byte
		row := s.App.Store().DB.QueryRow(fmt.Sprintf("SELECT password_sealed FROM cameras WHERE id = %d", c.ID))
		if err := row.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) == 0 || bytes.Contains(raw, []byte("Cam-Pass-9")) {
			t.Errorf("password not sealed: %q", raw)
		}
		if r := m.Must(200, "GET", a.Path(fmt.Sprintf("/cameras/%d", c.ID)), nil); strings.Contains(string(r.Body), "Cam-Pass-9") {
			t.Errorf("the password is shown: %s", r.Body)
		}

		// Snapshot: a JPEG fetched with digest authentication, cached briefly.
		r := m.Must(200, "GET", a.Path(fmt.Sprintf("/cameras/%d/snapshot.jpg", c.ID)), nil)
		if r.Header.Get("Content-Type") != "image/jpeg" || !bytes.HasPrefix(r.Body, []byte{0xff, 0xd8}) {
			t.Errorf("snapshot: %s %d bytes", r.Header.Get("Content-Type"), len(r.Body))
		}
		m.Must(200, "GET", a.Path(fmt.Sprintf("/cameras/%d/snapshot.jpg", c.ID)), nil)
		if cam.Snapshots() != 1 {
			t.Errorf("camera asked for %d snapshots, want 1 (cached)", cam.Snapshots())
		}

		// Another community's staff: 404 everywhere, and not in their list.
		for _, req := range [][2]string{{"GET", ""}, {"GET", "/snapshot.jpg"}, {"POST", "/refresh"}, {"PATCH", ""}, {"DELETE", ""}} {
			var body any
			if req[0] == "PATCH" {
				body = map[string]any{"name": "偷改"}
			}
			if r := b.Manager.Do(req[0], a.Path(fmt.Sprintf("/cameras/%d%s", c.ID, req[1])), body); r.Status != 404 {
				t.Errorf("manager B %s %s: %d %s", req[0], req[1], r.Status, r.Body)
			}
			if r := b.Manager.Do(req[0], b.Path(fmt.Sprintf("/cameras/%d%s", c.ID, req[1])), body); r.Status != 404 {
				t.Errorf("manager B via own community %s %s: %d %s", req[0], req[1], r.Status, r.Body)
			}
			m.Must(200, "GET", a.Path(fmt.Sprintf("/cameras/%d", c.ID)), nil)
		}
		b.Manager.Must(200, "GET", b.Path("/cameras"), nil).JSON(t, &page)
		if page.Total != 0 {
			t.Errorf("B sees A's cameras: %+v", page.Items)
		}

		// Update: a new password is checked first; a name alone is not.
		if r := m.Do("PATCH", a.Path(fmt.Sprintf("/cameras/%d", c.ID)), map[string]any{"password": "bad"}); r.Status != 422 {
			t.Errorf("update with a wrong password: %d %s", r.Status, r.Body)
		}
		m.Must(200, "PATCH", a.Path(fmt.Sprintf("/cameras/%d", c.ID)), map[string]any{"name": "东门"}).JSON(t, &c)
		if c.Name != "东门" {
			t.Errorf("renamed: %+v", c)
		}

		// A door station that offers ONVIF: the camera may name it, in its
		// own community only.
		door := boundDevice(t, s, a, "pwCAx9", "SN-CAM-DOOR", 1)
		other := boundDevice(t, s, b, "pwCBx9", "SN-CAM-OTHER", 1)
		if r := m.Do("PATCH", a.Path(fmt.Sprintf("/cameras/%d", c.ID)), map[string]any{"device_id": other.DeviceID}); r.Status != 422 ||
			!strings.Contains(string(r.Body), "body.device_id") {
			t.Errorf("a door station of another community: %d %s", r.Status, r.Body)
		}
		var linked struct {
			DeviceID *int `json:"device_id"`
		}
		m.Must(200, "PATCH", a.Path(fmt.Sprintf("/cameras/%d", c.ID)), map[string]any{"device_id": door.DeviceID}).JSON(t, &linked)
		if linked.DeviceID == nil || *linked.DeviceID != door.DeviceID {
			t.Errorf("linked to the door station: %+v", linked)
		}
		linked.DeviceID = nil
		m.Must(200, "PATCH", a.Path(fmt.Sprintf("/cameras/%d", c.ID)), map[string]any{"device_id": 0}).JSON(t, &linked)
		if linked.DeviceID != nil {
			t.Errorf("unlinked: %+v", linked)
		}

		// Refresh: a camera gone is a status, not an error.
		m.Must(200, "POST", a.Path(fmt.Sprintf("/cameras/%d/refresh", c.ID)), nil).JSON(t, &c)
		if c.Status != "正常" {
			t.Errorf("refresh: %+v", c)
		}
		cam.Close()
		m.Must(200, "POST", a.Path(fmt.Sprintf("/cameras/%d/refresh", c.ID)), nil).JSON(t, &c)
		if c.LastError == "" || c.Status != c.LastError || !hasHan(c.Status) {
			t.Errorf("refresh of a camera gone: %+v", c)
		}

		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/cameras/%d", c.ID)), nil)
		if n := s.App.Store().Camera.Query().CountX(actor.AsSystem(context.Background())); n != 0 {
			t.Errorf("%d cameras left", n)
		}
	})
}
