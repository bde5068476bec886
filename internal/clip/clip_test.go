package clip

import "testing"

func TestDoorClip(t *testing.T) {
	fs := Door()
	if len(fs) != 4*FPS {
		t.Fatalf("%d frames, want %d", len(fs), 4*FPS)
	}
	keys := 0
	for i, f := range fs {
		if f.Key {
			keys++
			if i%FPS != 0 {
				t.Errorf("keyframe at %d, want one every %d frames", i, FPS)
			}
			if t0 := f.NALs[0][0] & 0x1f; t0 != 7 {
				t.Errorf("keyframe %d starts with NAL type %d, want SPS (7)", i, t0)
			}
		}
		if f.Size() == 0 {
			t.Errorf("frame %d is empty", i)
		}
	}
	if keys != 4 {
		t.Errorf("%d keyframes, want 4", keys)
	}
}
