// Package clip holds the door station's camera picture for the simulator,
// tests and benchmarks: four seconds of H.264 constrained baseline video,
// 640×480 at 25 frames a second and about 1 Mbit/s, with a keyframe (and
// its SPS and PPS) every second. It was made once with Debian's ffmpeg:
//
//	ffmpeg -f lavfi -i testsrc2=size=640x480:rate=25 -t 4 -c:v libx264 \
//	  -profile:v baseline -level 3.1 -pix_fmt yuv420p -b:v 1M -maxrate 1M \
//	  -bufsize 500k -g 25 -keyint_min 25 -sc_threshold 0 \
//	  -x264-params repeat-headers=1:slices=1 -bsf:v h264_mp4toannexb \
//	  -f h264 door.h264
package clip

import (
	"bytes"
	_ "embed"
	"sync"
)

// FPS is the clip's frame rate; a frame lasts 90000/FPS ticks of the RTP
// video clock.
const FPS = 25

//go:embed testdata/door.h264
var doorH264 []byte

// Frame is one access unit: its NAL units without start codes, in order.
type Frame struct {
	NALs [][]byte
	Key  bool // an IDR picture, preceded by SPS and PPS
}

// Size is the frame's payload in bytes.
func (f Frame) Size() int {
	n := 0
	for _, u := range f.NALs {
		n += len(u)
	}
	return n
}

var (
	once   sync.Once
	frames []Frame
)

// Door returns the clip's frames. The slice is shared: do not modify it.
func Door() []Frame {
	once.Do(func() { frames = Split(doorH264) })
	return frames
}

// AnnexB returns the clip as an H.264 Annex B byte stream.
func AnnexB() []byte { return doorH264 }

// Split cuts an Annex B stream into access units: parameter sets and SEI
// gather until the next slice, which ends the unit (one slice per picture,
// as the clip was made).
func Split(stream []byte) []Frame {
	var out []Frame
	var cur Frame
	for _, n := range nalUnits(stream) {
		if len(n) == 0 {
			continue
		}
		cur.NALs = append(cur.NALs, n)
		switch n[0] & 0x1f {
		case 5:
			cur.Key = true
			fallthrough
		case 1:
			out = append(out, cur)
			cur = Frame{}
		}
	}
	return out
}

// nalUnits splits at 3- and 4-byte start codes.
func nalUnits(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+3 <= len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				out = append(out, bytes.TrimRight(b[start:i], "\x00"))
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}
