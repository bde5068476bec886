package imaging

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
)

// decodeCost returns the bytes that decoding the picture at src takes with
// the standard decoders: the decoded image itself, plus what the format
// keeps while decoding (a progressive JPEG holds every DCT coefficient as an
// int32; an interlaced PNG decodes each pass into an image of its own).
func decodeCost(src io.Reader, h Header) (int64, error) {
	if h.Format == "png" {
		return pngCost(src, h)
	}
	return jpegCost(src, h)
}

// pngCost reads the IHDR chunk: the decoded image has 1, 2, 4 or 8 bytes a
// pixel by colour type and depth.
func pngCost(src io.Reader, h Header) (int64, error) {
	var head [29]byte // signature, IHDR length and type, IHDR fields
	if _, err := io.ReadFull(src, head[:]); err != nil {
		return 0, err
	}
	depth, colorType, interlace := head[24], head[25], head[28]
	per := int64(4)
	switch colorType {
	case 0: // gray
		per = 1
	case 3: // palette
		per = 1
	}
	if depth == 16 {
		per *= 2
		if colorType == 0 {
			per = 2
		}
	}
	cost := int64(h.Width) * int64(h.Height) * per
	if interlace == 1 {
		cost *= 2
	}
	return cost, nil
}

var errNoFrame = errors.New("imaging: no JPEG frame header")

// jpegCost walks the JPEG markers to the frame header (SOFn): the decoded
// image keeps each component at its sampling (one byte a sample; CMYK
// pictures are converted, which holds both forms), and a progressive one
// also keeps four bytes a sample of coefficients until the end.
func jpegCost(src io.Reader, h Header) (int64, error) {
	r := bufio.NewReader(src)
	rgb := false // Adobe's transform 0: the decoder converts to RGBA
	var soi [2]byte
	if _, err := io.ReadFull(r, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return 0, errNoFrame
	}
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, errNoFrame
		}
		if b != 0xFF {
			continue
		}
		m, err := r.ReadByte()
		for err == nil && m == 0xFF {
			m, err = r.ReadByte()
		}
		if err != nil {
			return 0, errNoFrame
		}
		if m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8) {
			continue // no length follows
		}
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return 0, errNoFrame
		}
		n := int(binary.BigEndian.Uint16(l[:])) - 2
		if n < 0 {
			return 0, errNoFrame
		}
		isFrame := m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC
		if m == 0xEE && n >= 12 {
			seg := make([]byte, n)
			if _, err := io.ReadFull(r, seg); err != nil {
				return 0, errNoFrame
			}
			rgb = string(seg[:5]) == "Adobe" && seg[11] == 0
			continue
		}
		if !isFrame {
			if _, err := r.Discard(n); err != nil {
				return 0, errNoFrame
			}
			continue
		}
		seg := make([]byte, n)
		if _, err := io.ReadFull(r, seg); err != nil || n < 6 {
			return 0, errNoFrame
		}
		comps := int(seg[5])
		if comps < 1 || comps > 4 || n < 6+3*comps {
			return 0, errNoFrame
		}
		progressive := m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
		return frameCost(h, seg[6:6+3*comps], comps, progressive, rgb), nil
	}
}

func frameCost(h Header, comps []byte, n int, progressive, rgb bool) int64 {
	// Planes are allocated in whole 16×16 blocks.
	w, ht := int64(h.Width+15)&^15, int64(h.Height+15)&^15
	px := w * ht
	hmax, vmax := int64(1), int64(1)
	for i := range n {
		hmax = max(hmax, int64(comps[3*i+1]>>4))
		vmax = max(vmax, int64(comps[3*i+1]&0x0F))
	}
	var samples int64
	for i := range n {
		hs, vs := max(int64(comps[3*i+1]>>4), 1), max(int64(comps[3*i+1]&0x0F), 1)
		samples += px * hs * vs / (hmax * vmax)
	}
	cost := samples
	if n == 4 || (n == 3 && rgb) {
		cost += px * 4 // converted to CMYK or RGBA
	}
	if progressive {
		cost += samples * 4
	}
	return cost
}
