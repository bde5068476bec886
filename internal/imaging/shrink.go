package imaging

import (
	"image"
	"image/draw"
	"math"
)

// shrink scales src down to w×h by area averaging: each output pixel is the
// mean of the source pixels it covers, weighted by how much of each it
// covers. It reads the source one row at a time and keeps three output rows
// of sums, so the only large allocation is the result; a general resampling
// kernel keeps a float buffer of output width × source height instead
// (hundreds of megabytes for a camera picture). w and h are at most the
// source's.
func shrink(src image.Image, w, h int) *image.RGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xs := spans(sw, w)
	ys := spans(sh, h)
	px, ok := src.(image.RGBA64Image)
	if !ok {
		px = toRGBA64(src)
	}
	row := make([]float64, w*4)  // this source row, reduced across
	cur := make([]float64, w*4)  // output row out
	next := make([]float64, w*4) // output row out+1
	out := 0
	emit := func() {
		o := dst.Pix[out*dst.Stride:]
		for i, v := range cur {
			o[i] = uint8(math.Min(math.Round(v/257), 255))
			cur[i] = 0
		}
		cur, next = next, cur
		out++
	}
	for y := range sh {
		clear(row)
		for x := range sw {
			c := px.RGBA64At(b.Min.X+x, b.Min.Y+y)
			s := xs[x]
			i := s.d * 4
			row[i] += s.w0 * float64(c.R)
			row[i+1] += s.w0 * float64(c.G)
			row[i+2] += s.w0 * float64(c.B)
			row[i+3] += s.w0 * float64(c.A)
			if s.w1 > 0 {
				row[i+4] += s.w1 * float64(c.R)
				row[i+5] += s.w1 * float64(c.G)
				row[i+6] += s.w1 * float64(c.B)
				row[i+7] += s.w1 * float64(c.A)
			}
		}
		s := ys[y]
		for s.d > out {
			emit()
		}
		for i, v := range row {
			cur[i] += s.w0 * v
		}
		if s.w1 > 0 {
			for i, v := range row {
				next[i] += s.w1 * v
			}
		}
	}
	for out < h {
		emit()
	}
	return dst
}

// span is where source pixel lands in the output: weight w0 in output pixel
// d and w1 in d+1. The weights of one output pixel add up to 1.
type span struct {
	d      int
	w0, w1 float64
}

// spans maps n source pixels onto m ≤ n output pixels.
func spans(n, m int) []span {
	out := make([]span, n)
	scale := float64(m) / float64(n) // output pixels per source pixel
	for i := range out {
		lo, hi := float64(i)*scale, float64(i+1)*scale
		d := min(int(lo), m-1)
		edge := float64(d + 1)
		if hi > edge && d+1 < m {
			out[i] = span{d: d, w0: edge - lo, w1: hi - edge}
		} else {
			out[i] = span{d: d, w0: hi - lo}
		}
	}
	return out
}

// toRGBA64 wraps an image without RGBA64At (none of the standard decoders
// returns one).
func toRGBA64(src image.Image) image.RGBA64Image {
	dst := image.NewRGBA64(src.Bounds())
	draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, draw.Src)
	return dst
}
