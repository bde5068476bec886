// Package imaging accepts uploaded pictures safely: the format is decided by
// content (JPEG or PNG), the header is checked against the limits of the
// picture's use before any pixel is decoded, decoding waits for room in a
// memory budget shared by the whole server (Gate), and the picture is
// re-encoded as JPEG, which drops all metadata (location, camera, embedded
// thumbnails).
package imaging

import (
	"bytes"
	"image"
	_ "image/jpeg" // registers JPEG decoding
	_ "image/png"  // registers PNG decoding
	"io"

	"linli/internal/errs"
)

// What a phone camera takes (4000×3000, 4624×3472): the most that a face,
// an ID or an information photo needs, and a bound on what its decoding
// costs.
const (
	CameraSide   = 5000
	CameraPixels = 17_000_000
)

// Limits bound what a use accepts.
type Limits struct {
	MaxBytes            int // the upload itself
	MinWidth, MinHeight int
	MaxWidth, MaxHeight int // of the header, before decoding
	MaxPixels           int // width × height; 0: MaxWidth × MaxHeight
	Label               string
}

// Header is what the header of a picture tells before decoding.
type Header struct {
	Format        string // "jpeg" or "png"
	Width, Height int
	Size          int64 // bytes of the upload
	// Cost is the memory, in bytes, that decoding the picture takes.
	Cost int64
}

// Inspect checks src's size, format and header against l without decoding
// the pixels, and leaves src at its start. field names the form field in
// errors.
//
// Errors: errs.Invalid with a Chinese reason (empty, too many bytes, not
// JPEG or PNG, too many or too few pixels, too costly to decode).
func Inspect(field string, src io.ReadSeeker, l Limits) (Header, error) {
	size, err := src.Seek(0, io.SeekEnd)
	if err != nil {
		return Header{}, err
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return Header{}, err
	}
	if size == 0 {
		return Header{}, errs.Fieldf(field, "%s为空，请重新选择图片", l.Label)
	}
	if size > int64(l.MaxBytes) {
		return Header{}, tooLarge(field, l.Label, size, l.MaxBytes)
	}
	cfg, format, err := image.DecodeConfig(src)
	if err != nil {
		return Header{}, errs.Fieldf(field, "%s不是 JPEG 或 PNG 图片（按文件内容判断，与扩展名无关）", l.Label)
	}
	if format != "jpeg" && format != "png" {
		return Header{}, errs.Fieldf(field, "%s格式为 %s，只支持 JPEG 或 PNG", l.Label, format)
	}
	h := Header{Format: format, Width: cfg.Width, Height: cfg.Height, Size: size}
	maxPixels := l.MaxPixels
	if maxPixels == 0 {
		maxPixels = l.MaxWidth * l.MaxHeight
	}
	if h.Width > l.MaxWidth || h.Height > l.MaxHeight || h.Width*h.Height > maxPixels {
		return Header{}, errs.Fieldf(field, "%s尺寸 %d×%d 超过上限 %d×%d（%d 万像素）：请缩小后再上传", l.Label, h.Width, h.Height, l.MaxWidth, l.MaxHeight, maxPixels/10000)
	}
	if h.Width < l.MinWidth || h.Height < l.MinHeight {
		return Header{}, errs.Fieldf(field, "%s尺寸 %d×%d 太小，至少 %d×%d", l.Label, h.Width, h.Height, l.MinWidth, l.MinHeight)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return Header{}, err
	}
	if h.Cost, err = decodeCost(src, h); err != nil {
		return Header{}, errs.Fieldf(field, "%s已损坏或不完整，无法读取", l.Label)
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return Header{}, err
	}
	return h, nil
}

// tooLarge refuses an upload of size bytes, more than max. An upload read
// through io.LimitReader(r, max+1) (a snapshot of 30 MB) arrives as exactly
// max+1 bytes, which is not its size: then only the limit is named.
func tooLarge(field, label string, size int64, max int) error {
	if size == int64(max)+1 {
		return errs.Fieldf(field, "%s太大（最大 %.1f MB）", label, float64(max)/1e6)
	}
	return errs.Fieldf(field, "%s太大：%.1f MB，最大 %.1f MB", label, float64(size)/1e6, float64(max)/1e6)
}

// Check checks data's size, format and header against l without decoding
// the pixels.
//
// Errors: errs.Invalid with a Chinese reason.
func Check(field string, data []byte, l Limits) error {
	_, err := Inspect(field, bytes.NewReader(data), l)
	return err
}
