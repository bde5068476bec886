package app_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/internal/apptest"
)

// flatPNG returns a w×h PNG of one colour: a few kilobytes on the wire,
// w×h×4 bytes once decoded.
func flatPNG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// rgbaPNG returns a w×h RGBA PNG (4 bytes a pixel once decoded).
func rgbaPNG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 90, 200})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// TestHugePicturesRefusedFromHeader: a face or an information photo needs
// no 64 megapixels; such a picture is refused from its header, at once.
func TestHugePicturesRefusedFromHeader(t *testing.T) {
	t.Parallel()
	huge := flatPNG(t, 10000, 10000)
	face := flatPNG(t, 8000, 8000)
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "大图小区", "HP")
		m := a.Manager
		token := applyToken(t, m, a)
		anon := s.Client("phone browser")

		ct, body := multipartFields(map[string]string{"room_id": fmt.Sprint(a.RoomID), "name": "大图", "phone": "13100000010"}, [][]byte{huge})
		start := time.Now()
		r := anon.DoType("POST", "/app/v1/apply/"+token, ct, body)
		if r.Status != 422 || !strings.Contains(r.Detail(), "10000×10000") || !strings.Contains(r.Detail(), "第 1 张照片") {
			t.Errorf("10000×10000 photo: %d %s", r.Status, r.Body)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("refusing a 10000×10000 photo took %s: it was decoded", d)
		}

		var res residentView
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "张大图", "phone": "13800138010", "role": "业主"}).JSON(t, &res)
		ct, body = multipartBody("face.png", face, map[string]string{"consent": "true"})
		r = m.DoType("PUT", a.Path(fmt.Sprintf("/residents/%d/face", res.ID)), ct, body)
		if r.Status != 422 || !strings.Contains(r.Detail(), "8000×8000") {
			t.Errorf("8000×8000 face: %d %s", r.Status, r.Body)
		}
		// A phone camera's picture still goes through, stored smaller.
		ct, body = multipartBody("face.png", rgbaPNG(t, 3000, 4000), map[string]string{"consent": "true"})
		if r := m.DoType("PUT", a.Path(fmt.Sprintf("/residents/%d/face", res.ID)), ct, body); r.Status != 200 {
			t.Fatalf("3000×4000 face: %d %s", r.Status, r.Body)
		}
		photo := m.Must(200, "GET", a.Path(fmt.Sprintf("/residents/%d/face.jpg", res.ID)), nil)
		cfg, _, err := image.DecodeConfig(bytes.NewReader(photo.Body))
		if err != nil || cfg.Width != 768 || cfg.Height != 1024 {
			t.Errorf("stored face: %v %dx%d, want 768x1024", err, cfg.Width, cfg.Height)
		}

		// Ads: the screen rule stays; a picture beyond 16 megapixels is
		// refused even with 适应屏幕.
		ct, body = multipartBody("ad.png", huge, map[string]string{"fit": "true"})
		if r := m.DoType("PUT", a.Path("/ads/landscape/1"), ct, body); r.Status != 422 || !strings.Contains(r.Detail(), "10000×10000") {
			t.Errorf("10000×10000 ad: %d %s", r.Status, r.Body)
		}
	})
}

// TestRefusedApplicationsCountAgainstTheAddress: every submission that gets
// as far as the photos counts against the address, refused or not, so that
// broken photos cannot be sent without end.
func TestRefusedApplicationsCountAgainstTheAddress(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "限流小区", "RL")
		token := applyToken(t, a.Manager, a)
		anon := s.Client("phone browser")
		broken := jpegBytes(300, 300)
		broken = broken[:len(broken)/2]
		for i := range 10 {
			ct, body := multipartFields(map[string]string{"room_id": fmt.Sprint(a.RoomID), "name": "坏图", "phone": fmt.Sprintf("1350000%04d", i)}, [][]byte{broken})
			if r := anon.DoType("POST", "/app/v1/apply/"+token, ct, body); r.Status != 422 {
				t.Fatalf("broken photo %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		ct, body := applicationForm(a.RoomID, "正常", "13500009999", 1)
		if r := anon.DoType("POST", "/app/v1/apply/"+token, ct, body); r.Status != http.StatusTooManyRequests || !strings.Contains(r.Detail(), "频繁") {
			t.Fatalf("11th submission from one address after 10 refused: %d %s", r.Status, r.Body)
		}
	})
}

// TestConcurrentApplicationsFromOneAddress: twenty submissions at once from
// one address cannot all pass one count; at most ten are accepted.
func TestConcurrentApplicationsFromOneAddress(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "并发小区", "CC")
		token := applyToken(t, a.Manager, a)
		anon := s.Client("phone browser")
		statuses := make([]int, 20)
		var wg sync.WaitGroup
		for i := range statuses {
			ct, body := applicationForm(a.RoomID, "并发", fmt.Sprintf("1340000%04d", i), 1)
			wg.Go(func() { statuses[i] = anon.DoType("POST", "/app/v1/apply/"+token, ct, body).Status })
		}
		wg.Wait()
		accepted := 0
		for _, st := range statuses {
			switch st {
			case 201:
				accepted++
			case http.StatusTooManyRequests:
			default:
				t.Errorf("answer %d", st)
			}
		}
		if accepted == 0 || accepted > 10 {
			t.Errorf("%d of 20 concurrent submissions from one address accepted, want 1 to 10", accepted)
		}
	})
}
