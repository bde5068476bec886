package imaging

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/internal/errs"
)

var faceLimits = Limits{MaxBytes: 5 << 20, MinWidth: 64, MinHeight: 64, MaxWidth: 4096, MaxHeight: 4096, MaxPixels: 16_000_000, Label: "人脸照片"}

func picture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func encodeJPEG(img image.Image) []byte {
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, nil)
	return b.Bytes()
}

// pngHeader is a PNG whose IHDR claims w×h pixels and has no pixel data.
func pngHeader(w, h uint32) []byte { return pngHeaderOf(w, h, 8, 2, 0) }

// pngHeaderOf is a PNG header of depth, colour type and interlace.
func pngHeaderOf(w, h uint32, depth, colorType, interlace byte) []byte {
	var b bytes.Buffer
	b.Write([]byte("\x89PNG\r\n\x1a\n"))
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9], ihdr[12] = depth, colorType, interlace
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// flatPNG is a w×h gray PNG of one shade: tiny on the wire, w×h bytes decoded.
func flatPNG(w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	return encodePNG(img)
}

func reencode(tb testing.TB, g *Gate, data []byte, l Limits, maxSide int) ([]byte, error) {
	tb.Helper()
	src := bytes.NewReader(data)
	h, err := Inspect("file", src, l)
	if err != nil {
		return nil, err
	}
	return g.JPEG(context.Background(), "file", src, h, l, maxSide, 85)
}

func TestInspectAndReencode(t *testing.T) {
	good := encodeJPEG(picture(200, 300))
	tests := []struct {
		name string
		data []byte
		want string // in the error; "" = accepted
	}{
		{"jpeg", good, ""},
		{"png", encodePNG(picture(100, 100)), ""},
		{"empty", nil, "为空"},
		{"html named jpg", []byte("<html><script>alert(1)</script></html>"), "不是 JPEG 或 PNG"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "不是 JPEG 或 PNG"},
		{"pixel flood", pngHeader(64000, 64000), "超过上限"},
		{"10000×10000, a few kilobytes", flatPNG(10000, 10000), "10000×10000 超过上限"},
		{"sides within, pixels beyond", pngHeader(4096, 4000), "超过上限"},
		{"too small", encodePNG(picture(10, 10)), "太小"},
		{"truncated", good[:len(good)/2], "损坏或不完整"},
		{"header only", pngHeader(1000, 1000), "损坏或不完整"},
		{"too many bytes", bytes.Repeat([]byte{0xff}, 6<<20), "太大"},
		{"too costly for the budget", pngHeaderOf(4000, 4000, 16, 6, 1), "解码需要约"},
	}
	g := NewGate(DefaultBudget, DefaultDecodes, time.Second)
	for _, tt := range tests {
		_, err := reencode(t, g, tt.data, faceLimits, 1024)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || errs.CodeOf(err) != errs.Invalid):
			t.Errorf("%s: %v, want an Invalid error containing %q", tt.name, err, tt.want)
		}
	}
	if err := Check("file", flatPNG(10000, 10000), faceLimits); err == nil || !strings.Contains(err.Error(), "超过上限") {
		t.Errorf("Check of 10000×10000: %v", err)
	}
}

func TestDecodeCostFromHeader(t *testing.T) {
	var progressive bytes.Buffer
	// The standard encoder writes baseline only; mark a copy's frame as
	// progressive (SOF2) to read its cost.
	base := encodeJPEG(picture(640, 480))
	i := bytes.Index(base, []byte{0xFF, 0xC0})
	progressive.Write(base[:i])
	progressive.Write([]byte{0xFF, 0xC2})
	progressive.Write(base[i+2:])
	tests := []struct {
		name string
		data []byte
		want int64
	}{
		{"gray png", flatPNG(1000, 1000), 1_000_000},
		{"rgba png", pngHeaderOf(1000, 1000, 8, 6, 0), 4_000_000},
		{"16-bit rgba png", pngHeaderOf(1000, 1000, 16, 6, 0), 8_000_000},
		{"interlaced rgb png", pngHeaderOf(1000, 1000, 8, 2, 1), 8_000_000},
		{"baseline jpeg 4:2:0", base, 640 * 480 * 3 / 2},
		{"progressive jpeg 4:2:0", progressive.Bytes(), 640 * 480 * 3 / 2 * 5},
	}
	for _, tt := range tests {
		h, err := Inspect("file", bytes.NewReader(tt.data), Limits{MaxBytes: 1 << 20, MaxWidth: 4096, MaxHeight: 4096, Label: "图片"})
		if err != nil || h.Cost != tt.want {
			t.Errorf("%s: cost %d, %v; want %d", tt.name, h.Cost, err, tt.want)
		}
	}
}

func TestJPEGScalesAndStrips(t *testing.T) {
	src := encodeJPEG(picture(2000, 1000))
	// Prepend an EXIF-like APP1 segment after SOI to check it is dropped.
	withExif := append([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10}, append([]byte("Exif\x00\x00GPS-SECRET"), src[2:]...)...)
	out, err := reencode(t, NewGate(DefaultBudget, DefaultDecodes, time.Second), withExif, faceLimits, 1024)
	if err != nil {
		t.Fatal(err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
	if err != nil || format != "jpeg" || cfg.Width != 1024 || cfg.Height != 512 {
		t.Fatalf("re-encoded: %v %s %dx%d", err, format, cfg.Width, cfg.Height)
	}
	if bytes.Contains(out, []byte("GPS-SECRET")) {
		t.Fatal("metadata survived re-encoding")
	}
}

func TestShrinkAverages(t *testing.T) {
	// A 3×3 checkerboard of black and white, shrunk to 2×2: every output
	// pixel covers 2.25 source pixels, so all are gray between the two.
	src := image.NewGray(image.Rect(0, 0, 300, 300))
	for y := range 300 {
		for x := range 300 {
			if (x+y)%2 == 0 {
				src.Pix[y*300+x] = 255
			}
		}
	}
	out := shrink(src, 7, 5)
	if out.Bounds().Dx() != 7 || out.Bounds().Dy() != 5 {
		t.Fatalf("size %v", out.Bounds())
	}
	for i := 0; i < len(out.Pix); i += 4 {
		if r, a := out.Pix[i], out.Pix[i+3]; r < 120 || r > 135 || a != 255 {
			t.Fatalf("pixel %d: %v, want mid gray, opaque", i/4, out.Pix[i:i+4])
		}
	}
	flat := shrink(picture(64, 64), 64, 64)
	if flat.RGBAAt(10, 20) != (color.RGBA{10, 20, 128, 255}) {
		t.Errorf("same size changed a pixel: %v", flat.RGBAAt(10, 20))
	}
}

// TestReencodeMemory: shrinking a camera picture allocates about the
// decoded picture, not a float buffer of output width × source height
// (which was 32 bytes × 1024 × 4000 = 131 MB here).
func TestReencodeMemory(t *testing.T) {
	data := flatPNG(4000, 4000)
	g := NewGate(DefaultBudget, DefaultDecodes, time.Second)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := reencode(t, g, data, faceLimits, 1024); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 40<<20 {
		t.Errorf("re-encoding a 4000×4000 gray PNG allocated %d MB", n>>20)
	}
}

// TestGateBoundsDecodes: decodes at once never reserve more than the
// budget; a decode that finds no room in time is answered 503.
func TestGateBoundsDecodes(t *testing.T) {
	data := encodeJPEG(picture(1500, 1500))
	h, err := Inspect("file", bytes.NewReader(data), faceLimits)
	if err != nil {
		t.Fatal(err)
	}
	one := cost(h, 1024)
	for _, tt := range []struct {
		name    string
		g       *Gate
		decodes int
	}{
		{"memory for two at once", NewGate(2*one+one/2, 8, time.Minute), 2},
		{"three slots", NewGate(100*one, 3, time.Minute), 3},
	} {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := reencode(t, tt.g, data, faceLimits, 1024); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		reserved, decodes := tt.g.Peak()
		if decodes != tt.decodes || reserved > tt.g.Budget() {
			t.Errorf("%s: at most %d decodes and %d bytes at once, want %d and at most %d", tt.name, decodes, reserved, tt.decodes, tt.g.Budget())
		}
	}

	busy := NewGate(one, 1, 50*time.Millisecond)
	if err := busy.acquire(context.Background(), one); err != nil {
		t.Fatal(err)
	}
	_, err = reencode(t, busy, data, faceLimits, 1024)
	if errs.CodeOf(err) != errs.Unavailable || !strings.Contains(err.Error(), "请稍等") {
		t.Errorf("no room: %v, want Unavailable", err)
	}
	busy.release(one)
	if _, err := reencode(t, busy, data, faceLimits, 1024); err != nil {
		t.Errorf("after release: %v", err)
	}
}

// FuzzInspect: door stations and browsers send any bytes; the header check
// never panics and accepts nothing beyond the limits.
func FuzzInspect(f *testing.F) {
	f.Add(encodeJPEG(picture(40, 30)))
	f.Add(encodePNG(picture(20, 20)))
	f.Add(pngHeaderOf(100, 100, 16, 6, 1))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xEE, 0x00, 0x0E, 'A', 'd', 'o', 'b', 'e', 0, 0, 0, 0, 0, 0, 0xFF, 0xC2, 0, 11, 8, 0, 16, 0, 16, 1, 1, 0x11, 0})
	l := Limits{MaxBytes: 1 << 20, MaxWidth: 4096, MaxHeight: 4096, MaxPixels: 10_000_000, Label: "图片"}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := Inspect("file", bytes.NewReader(data), l)
		if err != nil {
			return
		}
		if h.Width > l.MaxWidth || h.Height > l.MaxHeight || h.Width*h.Height > l.MaxPixels || h.Cost < 0 {
			t.Fatalf("accepted %+v", h)
		}
	})
}

// TestTooLargeNamesOnlyKnownSizes checks that an upload cut off one byte past
// the limit (by io.LimitReader) is refused without a size, which would be
// the limit's, and a whole upload with its own size.
func TestTooLargeNamesOnlyKnownSizes(t *testing.T) {
	limits := Limits{MaxBytes: 1 << 20, MinWidth: 16, MinHeight: 16, MaxWidth: 4096, MaxHeight: 4096, Label: "抓拍照片"}
	tests := []struct {
		name string
		size int
		want string
	}{
		{"cut off by the reader", 1<<20 + 1, "抓拍照片太大（最大 1.0 MB）"},
		{"whole upload", 3 << 20, "抓拍照片太大：3.1 MB，最大 1.0 MB"},
	}
	for _, tt := range tests {
		err := Check("snapshot", bytes.Repeat([]byte{0xff}, tt.size), limits)
		if err == nil || errs.CodeOf(err) != errs.Invalid || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an Invalid error containing %q", tt.name, err, tt.want)
		}
	}
}
