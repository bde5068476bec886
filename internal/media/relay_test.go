package media

import (
	"testing"
)

// TestDeviceToBrowser: a door station's clip and G.711 reach a browser,
// which decodes whole frames including a keyframe.
func TestDeviceToBrowser(t *testing.T) {
	r := newTestRelay(t, Config{})
	rs, err := r.NewRTPStream(1, "door")
	if err != nil {
		t.Fatal(err)
	}
	d := newFakeDevice(t, 0)
	rs.Start(d.peer())
	d.send(t, rs.Audio(), rs.Video(), nil, nil)

	b, v := watch(t, rs.Stream(), ViewerOptions{Name: "console"})
	waitFor(t, "a keyframe and 30 frames at the browser", func() bool {
		return b.keyframes.Load() >= 1 && b.frames.Load() >= 30
	})
	waitFor(t, "audio at the browser", func() bool { return b.audioPackets.Load() >= 25 })
	if s := v.Stats(); s.VideoSent == 0 || s.AudioSent == 0 {
		t.Errorf("viewer stats %+v", s)
	}
	if s := rs.Stats(); s.VideoPackets == 0 || s.AudioPackets == 0 {
		t.Errorf("stream stats %+v", s)
	}
	if got := r.Stats(); got.Streams != 1 || got.Viewers != 1 || got.Ports != 4 {
		t.Errorf("relay stats %+v", got)
	}
	rs.Close()
	<-v.Done()
	if got := r.Stats(); got != (RelayStats{}) {
		t.Errorf("after close: %+v", got)
	}
}
