package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"linli/internal/apptest"
)

func adForm(name string, data []byte, fit bool) (string, []byte) {
	return multipartBody(name, data, map[string]string{"fit": fmt.Sprint(fit)})
}

func pictureJPEG(w, h int) []byte {
	var b bytes.Buffer
	_ = jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h)), &jpeg.Options{Quality: 70})
	return b.Bytes()
}

// withExif puts an Exif segment that names a place right after the JPEG's
// start marker.
func withExif(j []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), []byte("GPSLatitude 22.5431 N; GPSLongitude 114.0579 E")...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, j[2:]...)
}

type syncAnswer struct {
	Version int64
	Upserts []struct {
		Key, Kind, URL, SHA256, Title string
		Width, Height                 int
	}
	Deletes []string
}

func deviceSync(t *testing.T, s *apptest.Server, token string, since int64) syncAnswer {
	t.Helper()
	var a syncAnswer
	s.Client("device").DoHeaders("GET", fmt.Sprintf("/device/v1/sync?since=%d", since), map[string]string{"Authorization": "Bearer " + token}, nil).JSON(t, &a)
	return a
}

// TestDoorStationAds: pictures are checked by content and size, re-encoded
// without metadata, reach only door stations of their orientation (and only
// the chosen ones), and leave them when deleted.
func TestDoorStationAds(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "广告小区", "AD")
		b := s.NewCommunity(t, op, "别家广告", "AE")
		m := a.Manager
		inst := s.Client("installer")
		bind := func(c *apptest.Community, pw, serial string, slot map[string]any, orientation string) credentials {
			var cr credentials
			inst.Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": c.ID, "community_password": pw, "serial": serial,
				"slot": slot, "orientation": orientation}).JSON(t, &cr)
			return cr
		}
		land := bind(a, "pwADx9", "AD-LAND", map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 1}, "landscape")
		port := bind(a, "pwADx9", "AD-PORT", map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 2}, "portrait")
		wall := bind(a, "pwADx9", "AD-WALL", map[string]any{"kind": "wall", "index": 1}, "landscape")
		other := bind(b, "pwAEx9", "AE-LAND", map[string]any{"kind": "door", "unit_id": b.UnitID, "index": 1}, "landscape")

		put := func(o string, slot int, name string, data []byte, fit bool) apptest.Response {
			ct, body := adForm(name, data, fit)
			return m.DoType("PUT", a.Path(fmt.Sprintf("/ads/%s/%d", o, slot)), ct, body)
		}
		pngData := func() []byte {
			var buf bytes.Buffer
			_ = png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 200, 100)))
			return buf.Bytes()
		}()
		for _, c := range []struct {
			name string
			data []byte
			fit  bool
			want string
		}{
			{"flood.jpg", floodJPEG(), false, "超过上限"},
			{"half.jpg", pictureJPEG(640, 400)[:900], false, "损坏"},
			{"renamed.jpg", pngData, false, "内容却是PNG"},
			{"page.jpg", []byte("<html><body><script>alert(1)</script></body></html>"), false, "不是 JPEG 或 PNG"},
			{"big.jpg", pictureJPEG(1920, 1080), false, "1280×800"},
		} {
			if r := put("landscape", 1, c.name, c.data, c.fit); r.Status != 422 || !strings.Contains(string(r.Body), c.want) {
				t.Errorf("%s: %d %s, want 422 mentioning %q", c.name, r.Status, r.Body, c.want)
			}
		}
		if r := put("landscape", 1, "huge.jpg", bytes.Repeat([]byte{0xFF}, 11<<20), false); r.Status != 413 && r.Status != 422 {
			t.Errorf("an 11 MB body: %d", r.Status)
		} else if !hasHan(r.Detail()) {
			t.Errorf("an 11 MB body is refused without a Chinese message: %s", r.Body)
		}
		if r := put("landscape", 5, "a.jpg", pictureJPEG(100, 100), false); r.Status != 422 {
			t.Errorf("slot 5: %d", r.Status)
		}

		// Too large, fitted to the screen: 1920×1080 → 1280×720.
		if r := put("landscape", 1, "big.jpg", withExif(pictureJPEG(1920, 1080)), true); r.Status != 200 {
			t.Fatalf("fit: %d %s", r.Status, r.Body)
		}
		before := deviceSync(t, s, land.Token, 0)
		var entry *struct {
			Key, Kind, URL, SHA256, Title string
			Width, Height                 int
		}
		for i := range before.Upserts {
			if before.Upserts[i].Kind == "ad" {
				entry = &before.Upserts[i]
			}
		}
		if entry == nil || entry.Key != "ad:landscape:1" || entry.Width != 1280 || entry.Height != 720 {
			t.Fatalf("the landscape door station's ads: %+v", before.Upserts)
		}
		img := s.Client("device").DoHeaders("GET", entry.URL, map[string]string{"Authorization": "Bearer " + land.Token}, nil)
		sum := sha256.Sum256(img.Body)
		if img.Status != 200 || img.Header.Get("Content-Type") != "image/jpeg" || img.Header.Get("X-Content-Type-Options") != "nosniff" ||
			hex.EncodeToString(sum[:]) != entry.SHA256 {
			t.Fatalf("download: %d %q %q", img.Status, img.Header.Get("Content-Type"), img.Header.Get("X-Content-Type-Options"))
		}
		if bytes.Contains(img.Body, []byte("GPSLatitude")) || bytes.Contains(img.Body, []byte("Exif")) {
			t.Error("the stored picture keeps its Exif metadata")
		}
		for _, d := range []credentials{port, other} {
			if has := strings.Contains(fmt.Sprint(deviceSync(t, s, d.Token, 0).Upserts), "ad:"); has {
				t.Errorf("device %d got a landscape ad of community A", d.DeviceID)
			}
			if r := s.Client("device").DoHeaders("GET", entry.URL, map[string]string{"Authorization": "Bearer " + d.Token}, nil); r.Status != 404 {
				t.Errorf("device %d downloaded the ad: %d", d.DeviceID, r.Status)
			}
		}
		if !strings.Contains(fmt.Sprint(deviceSync(t, s, wall.Token, 0).Upserts), "ad:landscape:1") {
			t.Error("the landscape wall station did not get the ad")
		}

		// Only the chosen door station: the wall station drops it.
		w0 := deviceSync(t, s, wall.Token, 0)
		m.Must(200, "PUT", a.Path("/ads/landscape/targets"), map[string]any{"device_ids": []int{land.DeviceID}})
		if d := deviceSync(t, s, wall.Token, w0.Version); !strings.Contains(strings.Join(d.Deletes, ","), "ad:landscape:1") {
			t.Errorf("the unchosen wall station keeps the ad: %+v", d)
		}
		if r := m.Do("PUT", a.Path("/ads/landscape/targets"), map[string]any{"device_ids": []int{port.DeviceID}}); r.Status != 422 {
			t.Errorf("a portrait device chosen for landscape ads: %d", r.Status)
		}
		// Deleting withdraws it.
		l0 := deviceSync(t, s, land.Token, 0)
		m.Must(204, "DELETE", a.Path("/ads/landscape/1"), nil)
		if d := deviceSync(t, s, land.Token, l0.Version); len(d.Deletes) != 1 || d.Deletes[0] != "ad:landscape:1" {
			t.Errorf("after 删除: %+v", d)
		}
	})
}
