package media

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromiumPage is a WHEP-style viewer as the console will have it: video
// recvonly, the microphone sendrecv, a complete offer, and the answer from
// the server. It reports what the video element shows.
const chromiumPage = `<!doctype html><meta charset="utf-8"><video id="v" muted autoplay playsinline></video>
<script>
const report = (o) => fetch('/result', {method: 'POST', body: JSON.stringify(o)});
(async () => {
  try {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', {direction: 'recvonly'});
    const mic = await navigator.mediaDevices.getUserMedia({audio: true});
    pc.addTransceiver(mic.getAudioTracks()[0], {direction: 'sendrecv'});
    pc.ontrack = (e) => { if (e.track.kind === 'video') document.getElementById('v').srcObject = new MediaStream([e.track]); };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((ok) => {
      if (pc.iceGatheringState === 'complete') return ok();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && ok();
      setTimeout(ok, 2000);
    });
    const res = await fetch('/offer', {method: 'POST', body: pc.localDescription.sdp});
    if (!res.ok) return report({error: await res.text()});
    await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
    for (;;) {
      await new Promise((ok) => setTimeout(ok, 250));
      const r = {state: pc.connectionState};
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') Object.assign(r, {frames: s.framesDecoded, keyframes: s.keyFramesDecoded, width: s.frameWidth, height: s.frameHeight});
        if (s.type === 'inbound-rtp' && s.kind === 'audio') r.audio = s.packetsReceived;
        if (s.type === 'outbound-rtp' && s.kind === 'audio') r.mic = s.packetsSent;
      });
      const v = document.getElementById('v');
      r.videoWidth = v.videoWidth;
      if (r.frames >= 50 && r.audio >= 50 && r.mic >= 50) return report(r);
    }
  } catch (e) { report({error: String(e)}); }
})();
</script>`

// TestChromium: the real browser watches a door station and talks to it.
func TestChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed")
	}
	r := newTestRelay(t, Config{})
	rs, d := startDevice(t, r, 0)
	results := make(chan map[string]any, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/":
			_, _ = io.WriteString(w, chromiumPage)
		case "/offer":
			offer, _ := io.ReadAll(req.Body)
			_, answer, err := rs.Stream().AddViewer(string(offer), ViewerOptions{Talk: true, Name: "chromium"})
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, answer)
		case "/result":
			var m map[string]any
			_ = json.NewDecoder(req.Body).Decode(&m)
			select {
			case results <- m:
			default:
			}
		default:
			http.NotFound(w, req)
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--no-first-run",
		"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
		"--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
		"--user-data-dir="+t.TempDir(), srv.URL+"/")
	// Its own process group, killed whole: no renderer outlives the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()

	var res map[string]any
	select {
	case res = <-results:
	case <-time.After(90 * time.Second):
		t.Fatalf("no result from chromium; its stderr:\n%s", tail(stderr.String(), 2000))
	}
	t.Logf("chromium: %v", res)
	if e, ok := res["error"]; ok {
		t.Fatalf("page error: %v", e)
	}
	num := func(k string) float64 { f, _ := res[k].(float64); return f }
	if num("width") != 640 || num("height") != 480 || num("videoWidth") != 640 || num("keyframes") < 1 {
		t.Errorf("video not shown at 640×480 with a keyframe: %v", res)
	}
	waitFor(t, "chromium's microphone at the door station", func() bool { return len(d.talkPackets()) >= 25 })
	for _, p := range d.talkPackets() {
		if p.PayloadType != 0 {
			t.Fatalf("talk packet with payload type %d", p.PayloadType)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
