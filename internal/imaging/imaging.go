// Package imaging accepts uploaded pictures safely: the format is decided by
// content (JPEG or PNG), the header is checked against size limits before any
// pixel is decoded, and the picture is re-encoded as JPEG, which drops all
// metadata (location, camera, embedded thumbnails).
package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // registers PNG decoding

	"golang.org/x/image/draw"

	"linli/internal/errs"
)

// Limits bound what Decode accepts.
type Limits struct {
	MaxBytes            int // the upload itself
	MinWidth, MinHeight int
	MaxWidth, MaxHeight int // of the header, before decoding
	Label               string
}

// Decode checks data and decodes it. field names the form field in errors.
//
// Errors: errs.Invalid with a Chinese reason (not an image, wrong format,
// too large in bytes or pixels, too small, truncated).
func Decode(field string, data []byte, l Limits) (image.Image, error) {
	if err := Check(field, data, l); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, errs.Fieldf(field, "%s已损坏或不完整，无法读取", l.Label)
	}
	return img, nil
}

// Check checks data's size, format and header against l without decoding
// the pixels.
//
// Errors: errs.Invalid with a Chinese reason.
func Check(field string, data []byte, l Limits) error {
	if len(data) == 0 {
		return errs.Fieldf(field, "%s为空，请重新选择图片", l.Label)
	}
	if len(data) > l.MaxBytes {
		return errs.Fieldf(field, "%s太大：%.1f MB，最大 %.1f MB", l.Label, float64(len(data))/1e6, float64(l.MaxBytes)/1e6)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return errs.Fieldf(field, "%s不是 JPEG 或 PNG 图片（按文件内容判断，与扩展名无关）", l.Label)
	}
	if format != "jpeg" && format != "png" {
		return errs.Fieldf(field, "%s格式为 %s，只支持 JPEG 或 PNG", l.Label, format)
	}
	if cfg.Width > l.MaxWidth || cfg.Height > l.MaxHeight {
		return errs.Fieldf(field, "%s尺寸 %d×%d 超过上限 %d×%d", l.Label, cfg.Width, cfg.Height, l.MaxWidth, l.MaxHeight)
	}
	if cfg.Width < l.MinWidth || cfg.Height < l.MinHeight {
		return errs.Fieldf(field, "%s尺寸 %d×%d 太小，至少 %d×%d", l.Label, cfg.Width, cfg.Height, l.MinWidth, l.MinHeight)
	}
	return nil
}

// JPEG re-encodes img as JPEG, scaled down so that neither side exceeds
// maxSide (0: no scaling).
func JPEG(img image.Image, maxSide, quality int) ([]byte, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if maxSide > 0 && (w > maxSide || h > maxSide) {
		if w >= h {
			w, h = maxSide, h*maxSide/w
		} else {
			w, h = w*maxSide/h, maxSide
		}
		dst := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
		draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		img = dst
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("imaging: encode: %w", err)
	}
	return buf.Bytes(), nil
}
