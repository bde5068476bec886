package webcall

import (
	"sync"

	"linli/internal/media"
)

// view is a page's WebRTC connection in a call or 监视 session: its relay
// viewer (replaced when the page offers again) and whether the page's
// microphone goes to the station. Both kinds of leg embed it.
type view struct {
	mu     sync.Mutex
	viewer *media.Viewer
	talk   bool
	ended  bool
}

// attach answers the page's offer on st, in place of an earlier viewer;
// over is the message when the leg has ended.
func (w *view) attach(st *media.Stream, name, sdp, over string) (string, error) {
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		return "", errText(over)
	}
	old := w.viewer
	w.mu.Unlock()
	if old != nil {
		old.Close()
	}
	v, answer, err := st.AddViewer(sdp, media.ViewerOptions{Name: name})
	if err != nil {
		return "", err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		v.Close()
		return "", errText(over)
	}
	w.viewer = v
	v.SetTalk(w.talk)
	return answer, nil
}

// setTalk starts or stops sending the page's microphone upstream.
func (w *view) setTalk(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.talk = on
	if w.viewer != nil {
		w.viewer.SetTalk(on)
	}
}

// finish ends the view and closes its viewer; false when it had ended.
func (w *view) finish() bool {
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		return false
	}
	w.ended = true
	v := w.viewer
	w.mu.Unlock()
	if v != nil {
		v.Close()
	}
	return true
}
