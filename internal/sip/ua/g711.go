package ua

import "math"

// ulaw encodes one 16-bit linear sample as G.711 μ-law (PCMU).
func ulaw(s int16) byte {
	const bias, clip = 0x84, 32635
	v, sign := int(s), 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp, mask := 7, 0x4000
	for v&mask == 0 && exp > 0 {
		exp--
		mask >>= 1
	}
	return ^byte(sign | exp<<4 | (v>>(exp+3))&0x0F)
}

// alaw encodes one 16-bit linear sample as G.711 A-law (PCMA).
func alaw(s int16) byte {
	v, sign := int(s), 0x80
	if v < 0 {
		v, sign = -v-1, 0
	}
	v = min(v, 32635)
	var a int
	if v >= 256 {
		exp := 1
		for x := v >> 9; x > 0; x >>= 1 {
			exp++
		}
		a = exp<<4 | (v>>(exp+3))&0x0F
	} else {
		a = v >> 4
	}
	return byte(a) ^ byte(sign^0x55)
}

// toneFrame is 20 ms (160 samples at 8 kHz) of a 400 Hz tone, the ring-back
// pitch Chinese exchanges use, encoded with enc. 400 Hz fits the frame a
// whole number of times, so the same frame repeats without a click.
func toneFrame(enc func(int16) byte) []byte {
	f := make([]byte, samplesPerFrame)
	for i := range f {
		f[i] = enc(int16(8000 * math.Sin(2*math.Pi*400*float64(i)/8000)))
	}
	return f
}
