package imaging

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"linli/internal/errs"
)

var faceLimits = Limits{MaxBytes: 5 << 20, MinWidth: 64, MinHeight: 64, MaxWidth: 6000, MaxHeight: 6000, Label: "人脸照片"}

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
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.Write([]byte("\x89PNG\r\n\x1a\n"))
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestDecode(t *testing.T) {
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
		{"too small", encodePNG(picture(10, 10)), "太小"},
		{"truncated", good[:len(good)/2], "损坏或不完整"},
		{"too many bytes", bytes.Repeat([]byte{0xff}, 6<<20), "太大"},
	}
	for _, tt := range tests {
		_, err := Decode("file", tt.data, faceLimits)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || errs.CodeOf(err) != errs.Invalid):
			t.Errorf("%s: %v, want an Invalid error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestJPEGScalesAndStrips(t *testing.T) {
	src := encodeJPEG(picture(2000, 1000))
	// Prepend an EXIF-like APP1 segment after SOI to check it is dropped.
	withExif := append([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10}, append([]byte("Exif\x00\x00GPS-SECRET"), src[2:]...)...)
	img, err := Decode("file", withExif, faceLimits)
	if err != nil {
		t.Fatal(err)
	}
	out, err := JPEG(img, 1024, 85)
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
