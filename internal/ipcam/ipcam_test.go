package ipcam_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"linli/internal/fakecam"
	"linli/internal/ipcam"
)

func startCamera(t *testing.T, cfg fakecam.Config) *fakecam.Camera {
	t.Helper()
	cam, err := fakecam.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cam.Close)
	return cam
}

func TestProbe(t *testing.T) {
	cam := startCamera(t, fakecam.Config{Name: "GATE 1"})
	ctx := context.Background()
	info, err := ipcam.Probe(ipcam.AllowLoopback(ctx), cam.Addr(), "admin", "admin123")
	if err != nil {
		t.Fatal(err)
	}
	if info.Manufacturer != "Linli" || info.Model != "FakeCam-1" || info.ProfileToken != "main" || info.Width != 640 ||
		info.StreamURI != cam.RTSPURL() || info.SnapshotURI != cam.SnapshotURL() || info.Serial != "FC-GATE 1" {
		t.Errorf("probe: %+v", info)
	}

	if _, err := ipcam.Probe(ipcam.AllowLoopback(ctx), cam.Addr(), "admin", "wrong"); !errors.Is(err, ipcam.ErrAuth) {
		t.Errorf("wrong password: %v", err)
	}
	// A port nothing listens on.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	if _, err := ipcam.Probe(ipcam.AllowLoopback(ctx), dead, "admin", "admin123"); !errors.Is(err, ipcam.ErrUnreachable) {
		t.Errorf("unreachable: %v", err)
	}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>router</html>", http.StatusNotFound)
	}))
	defer web.Close()
	if _, err := ipcam.Probe(ipcam.AllowLoopback(ctx), strings.TrimPrefix(web.URL, "http://"), "admin", "admin123"); !errors.Is(err, ipcam.ErrNotONVIF) {
		t.Errorf("not onvif: %v", err)
	}
	mjpeg := startCamera(t, fakecam.Config{NoH264: true})
	if _, err := ipcam.Probe(ipcam.AllowLoopback(ctx), mjpeg.Addr(), "admin", "admin123"); !errors.Is(err, ipcam.ErrNoH264) {
		t.Errorf("no h264: %v", err)
	}
}

func TestHost(t *testing.T) {
	for in, want := range map[string]string{
		"192.168.1.64":      "192.168.1.64:80",
		"192.168.1.64:8080": "192.168.1.64:8080",
		"http://cam.local:8899/onvif/device_service": "cam.local:8899",
		"http://10.0.0.2":      "10.0.0.2:80",
		"[::1]:80":             "[::1]:80",
		"rtsp://10.0.0.2":      "",
		"http://u:p@10.0.0.2":  "",
		"10.0.0.2:99999":       "",
		"":                     "",
		"http://10.0.0.2/?x=1": "",
	} {
		got, err := ipcam.Host(in)
		if want == "" && err == nil || want != "" && got != want {
			t.Errorf("Host(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSnapshotDigest(t *testing.T) {
	cam := startCamera(t, fakecam.Config{Name: "GATE 2"})
	data, err := ipcam.Snapshot(ipcam.AllowLoopback(context.Background()), cam.SnapshotURL(), "admin", "admin123")
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 1000 || data[0] != 0xff || data[1] != 0xd8 {
		t.Errorf("snapshot: %d bytes", len(data))
	}
	if _, err := ipcam.Snapshot(ipcam.AllowLoopback(context.Background()), cam.SnapshotURL(), "admin", "nope"); !errors.Is(err, ipcam.ErrAuth) {
		t.Errorf("wrong password: %v", err)
	}
}

func TestRTSP(t *testing.T) {
	for _, udp := range []bool{false, true} {
		t.Run(map[bool]string{false: "TCP", true: "UDP"}[udp], func(t *testing.T) { testRTSP(t, udp) })
	}
}

// testRTSP plays the fake camera over TCP (it offers no UDP) or UDP.
func testRTSP(t *testing.T, udp bool) {
	cam := startCamera(t, fakecam.Config{UDP: udp})
	ctx := context.Background()
	if _, err := ipcam.Dial(ipcam.AllowLoopback(ctx), cam.RTSPURL(), "admin", "bad", slog.New(slog.DiscardHandler)); !errors.Is(err, ipcam.ErrAuth) {
		t.Errorf("wrong password: %v", err)
	}
	s, err := ipcam.Dial(ipcam.AllowLoopback(ctx), cam.RTSPURL(), "admin", "admin123", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if s.AudioPT() != 0 {
		t.Errorf("audio pt %d", s.AudioPT())
	}
	if want := map[bool]string{false: "TCP", true: "UDP"}[udp]; s.Transport() != want {
		t.Errorf("transport %s, want %s", s.Transport(), want)
	}
	var video, audio, keys atomic.Int64
	if err := s.Play(func(p *rtp.Packet) {
		video.Add(1)
		if len(p.Payload) > 0 && (p.Payload[0]&0x1f == 24 || p.Payload[0]&0x1f == 7) {
			keys.Add(1)
		}
	}, func(*rtp.Packet) { audio.Add(1) }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for video.Load() < 100 || audio.Load() < 20 || keys.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("video %d audio %d keyframes %d", video.Load(), audio.Load(), keys.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if cam.ActiveSessions() != 1 {
		t.Errorf("sessions %d", cam.ActiveSessions())
	}
	s.Close()
	for cam.ActiveSessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the camera's session did not end")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestParameterSetsBeforeKeyframes: a camera that announces SPS and PPS only
// in its SDP still gets them in front of every IDR, with the IDR's
// timestamp, and the sequence numbers stay continuous.
func TestParameterSetsBeforeKeyframes(t *testing.T) {
	cam := startCamera(t, fakecam.Config{NoInbandParams: true, NoAudio: true})
	s, err := ipcam.Dial(ipcam.AllowLoopback(context.Background()), cam.RTSPURL(), "admin", "admin123", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if sps, pps := s.ParameterSets(); sps == nil || pps == nil {
		t.Fatal("the SDP has no parameter sets")
	}
	type seen struct {
		seq      uint16
		ts       uint32
		nal      byte // type of the first NAL (FU-A: of the fragment)
		stapSPS  bool
		fuaStart bool
	}
	var mu sync.Mutex
	var got []seen
	if err := s.Play(func(p *rtp.Packet) {
		x := seen{seq: p.SequenceNumber, ts: p.Timestamp, nal: p.Payload[0] & 0x1f}
		switch x.nal {
		case 24:
			x.stapSPS = p.Payload[3]&0x1f == 7
		case 28:
			x.fuaStart = p.Payload[1]&0x80 != 0
			x.nal = p.Payload[1] & 0x1f
		}
		mu.Lock()
		got = append(got, x)
		mu.Unlock()
	}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	idrs := 0
	for idrs < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d keyframes after 30 s", idrs)
		}
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		idrs = 0
		for i, x := range got {
			if x.nal == 5 && x.fuaStart {
				idrs++
				if i == 0 || !got[i-1].stapSPS || got[i-1].ts != x.ts {
					t.Errorf("IDR at %d without the parameter sets in front", i)
				}
			}
			if i > 0 && x.seq != got[i-1].seq+1 {
				t.Errorf("sequence %d after %d", x.seq, got[i-1].seq)
			}
		}
		mu.Unlock()
	}
}

// TestRTSPRedirectRefused: a DESCRIBE redirect to another host is not
// followed, so the camera's credentials go nowhere else.
func TestRTSPRedirectRefused(t *testing.T) {
	elsewhere, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skip("127.0.0.2 is not available:", err)
	}
	defer elsewhere.Close()
	var reached atomic.Int64
	go func() {
		for {
			c, err := elsewhere.Accept()
			if err != nil {
				return
			}
			reached.Add(1)
			c.Close()
		}
	}()
	camera, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer camera.Close()
	go func() {
		for {
			c, err := camera.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					req, err := readRTSPRequest(r)
					if err != nil {
						return
					}
					switch req.method {
					case "OPTIONS":
						fmt.Fprintf(c, "RTSP/1.0 200 OK\r\nCSeq: %s\r\nPublic: DESCRIBE, SETUP, PLAY\r\n\r\n", req.cseq)
					default:
						fmt.Fprintf(c, "RTSP/1.0 302 Found\r\nCSeq: %s\r\nLocation: rtsp://%s/stolen\r\n\r\n", req.cseq, elsewhere.Addr())
					}
				}
			}()
		}
	}()
	_, err = ipcam.Dial(ipcam.AllowLoopback(context.Background()), "rtsp://"+camera.Addr().String()+"/live", "admin", "secret", slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("a redirect to another host was followed")
	}
	if reached.Load() != 0 {
		t.Error("the client connected to the other host")
	}
}

type rtspRequest struct{ method, cseq string }

func readRTSPRequest(r *bufio.Reader) (rtspRequest, error) {
	var req rtspRequest
	line, err := r.ReadString('\n')
	if err != nil {
		return req, err
	}
	req.method, _, _ = strings.Cut(line, " ")
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			return req, err
		}
		h = strings.TrimSpace(h)
		if h == "" {
			return req, nil
		}
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "CSeq") {
			req.cseq = strings.TrimSpace(v)
		}
	}
}

// TestHTTPRedirectsRefused: neither ONVIF nor the snapshot follow a
// redirect to another host.
func TestHTTPRedirectsRefused(t *testing.T) {
	var reached atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	if _, err := ipcam.Probe(ipcam.AllowLoopback(context.Background()), strings.TrimPrefix(redirect.URL, "http://"), "admin", "pw"); err == nil {
		t.Error("probe through a redirect succeeded")
	}
	if _, err := ipcam.Snapshot(ipcam.AllowLoopback(context.Background()), redirect.URL+"/snapshot.jpg", "admin", "pw"); err == nil {
		t.Error("snapshot through a redirect succeeded")
	}
	if reached.Load() != 0 {
		t.Errorf("the other host was asked %d times", reached.Load())
	}
}

// TestGuard: the server does not knock on this machine's own services (unless
// allowed) nor on link-local and multicast addresses for a camera, whether
// given or answered by a camera.
func TestGuard(t *testing.T) {
	cam, err := fakecam.Start(fakecam.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	ctx := context.Background()
	for _, hp := range []string{cam.Addr(), "169.254.169.254:80", "[fe80::1]:80", "224.0.0.1:80", "0.0.0.0:80"} {
		if _, err := ipcam.Probe(ctx, hp, "admin", "admin123"); !errors.Is(err, ipcam.ErrForbidden) {
			t.Errorf("probe %s: %v, want ErrForbidden", hp, err)
		}
	}
	if _, err := ipcam.Snapshot(ctx, cam.SnapshotURL(), "admin", "admin123"); !errors.Is(err, ipcam.ErrForbidden) {
		t.Errorf("snapshot on loopback: %v", err)
	}
	if _, err := ipcam.Dial(ctx, cam.RTSPURL(), "admin", "admin123", slog.New(slog.DiscardHandler)); !errors.Is(err, ipcam.ErrForbidden) {
		t.Errorf("stream on loopback: %v", err)
	}
	if _, err := ipcam.Probe(ipcam.AllowLoopback(ctx), cam.Addr(), "admin", "admin123"); err != nil {
		t.Errorf("probe on loopback when allowed: %v", err)
	}
}
