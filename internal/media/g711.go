package media

import "sync"

// G.711 µ-law ⇄ A-law by way of 16-bit linear samples, for a browser
// whose microphone codec differs from the device's (a viewer answered
// before the device chose). The tables are built once.
var (
	g711Once               sync.Once
	ulawToAlaw, alawToUlaw [256]byte
)

// convertG711 converts payload to the law of payload type to (0 µ, 8 A).
func convertG711(payload []byte, to uint8) []byte {
	g711Once.Do(func() {
		for i := range 256 {
			ulawToAlaw[i] = linearToAlaw(ulawToLinear(byte(i)))
			alawToUlaw[i] = linearToUlaw(alawToLinear(byte(i)))
		}
	})
	table := &alawToUlaw
	if to == 8 {
		table = &ulawToAlaw
	}
	out := make([]byte, len(payload))
	for i, b := range payload {
		out[i] = table[b]
	}
	return out
}

func ulawToLinear(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func linearToUlaw(s int16) byte {
	const bias, clip = 0x84, 32635
	x := int(s)
	sign := byte(0)
	if x < 0 {
		x, sign = -x, 0x80
	}
	x = min(x, clip) + bias
	exp := byte(7)
	for mask := 0x4000; x&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := byte(x>>(exp+3)) & 0x0f
	return ^(sign | exp<<4 | mant)
}

func alawToLinear(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0f) << 4
	seg := (a & 0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

func linearToAlaw(s int16) byte {
	x := int(s)
	mask := byte(0xd5)
	if x < 0 {
		x, mask = -x-1, 0x55
	}
	x = min(x, 32767)
	seg := byte(0)
	for v := x >> 8; v > 0 && seg < 7; v >>= 1 {
		seg++
	}
	var a byte
	if seg == 0 {
		a = byte(x>>4) & 0x0f
	} else {
		a = seg<<4 | byte(x>>(seg+3))&0x0f
	}
	return a ^ mask
}
