package ua

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startBaresip runs baresip as an auto-answering indoor monitor on
// 127.0.0.1:port: no sound card (a WAV file of a 440 Hz tone as
// microphone, the audio bridge as loudspeaker), G.711 only, loopback only.
func startBaresip(t *testing.T, port int, video bool) *peer {
	t.Helper()
	bin := requirePeer(t, "baresip", "baresip")
	dir := t.TempDir()
	config := strings.Join([]string{
		"sip_listen 127.0.0.1:" + strconv.Itoa(port),
		"module_path /usr/lib/baresip/modules",
		"module g711.so",
		"module aufile.so",
		"module aubridge.so",
		"module_app account.so",
		"audio_player aubridge,speaker",
		"audio_source aufile," + filepath.Join(dir, "tone.wav"),
		"audio_alert aubridge,alert",
		"sip_trans_def udp",
		"rtp_stats yes",
		"",
	}, "\n")
	if video {
		// libavcodec decodes H.264; fakevideo is a camera and a screen
		// that need no hardware.
		config += "module avcodec.so\nmodule fakevideo.so\nvideo_source fakevideo,nil\nvideo_display fakevideo,nil\n"
	}
	accounts := "<sip:monitor@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU/8000/1,PCMA/8000/1\n"
	for name, body := range map[string]string{"config": config, "accounts": accounts, "tone.wav": string(toneWAV(30))} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := startPeer(t, dir, bin, "-f", dir, "-v", "-n", "127.0.0.1")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.out.String(), "baresip is ready") {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not start:\n%s", p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p
}

func TestInteropCallBaresip(t *testing.T) {
	port := freePort(t)
	p := startBaresip(t, port, false)
	door := newAgent(t, Config{Username: "d7"})
	c, err := door.Call(t.Context(), "sip:monitor@127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Answered():
	case <-c.Done():
		t.Fatalf("baresip refused: %+v\n%s", c.Info(), p.out.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("baresip did not answer: %+v\n%s", c.Info(), p.out.String())
	}
	// baresip's sine reaches the door, the door's tone reaches baresip.
	waitFor(t, 5*time.Second, "baresip's audio", func() bool { return c.Info().PacketsReceived >= 50 })
	if err := c.SendDTMF(t.Context(), "5", "rtp"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	c.Hangup()
	waitDone(t, c, 5*time.Second)
	info := c.Info()
	if info.Reason != "本方挂断" {
		t.Errorf("BYE not confirmed: %+v", info)
	}
	// baresip prints its own count when the call ends:
	//   packets:             75           67   (transmit, receive)
	var stats []string
	waitFor(t, 5*time.Second, "baresip's RTP summary", func() bool {
		for line := range strings.Lines(p.out.String()) {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "packets:" {
				stats = f[1:]
				return true
			}
		}
		return false
	})
	sent, _ := strconv.Atoi(stats[0])
	received, _ := strconv.Atoi(stats[1])
	t.Logf("door sent %d and received %d RTP packets; baresip sent %d and received %d", info.PacketsSent, info.PacketsReceived, sent, received)
	if received < int(info.PacketsSent)-2 || info.PacketsReceived < int64(sent)-2 {
		t.Errorf("packets lost on loopback:\n%s", p.out.String())
	}
	if !strings.Contains(p.out.String(), "received event: '5'") {
		t.Errorf("baresip did not see the RFC 4733 key:\n%s", p.out.String())
	}
}

// toneWAV is secs seconds of a 440 Hz tone, 8 kHz 16-bit mono.
func toneWAV(secs int) []byte {
	n := 8000 * secs
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 16000)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i := range n {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(int16(8000*math.Sin(2*math.Pi*440*float64(i)/8000))))
	}
	return b
}

// TestInteropVideoBaresip: baresip decodes the door's H.264 clip with
// libavcodec (it reports the picture size only for a stream it decodes)
// and sends its own video back.
func TestInteropVideoBaresip(t *testing.T) {
	port := freePort(t)
	p := startBaresip(t, port, true)
	door := newAgent(t, Config{Username: "d7", Video: true})
	c, err := door.Call(t.Context(), "sip:monitor@127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Answered():
	case <-time.After(10 * time.Second):
		t.Fatalf("baresip did not answer: %+v\n%s", c.Info(), p.out.String())
	}
	waitFor(t, 10*time.Second, "baresip decoding the door's video", func() bool {
		return strings.Contains(p.out.String(), "video: receiving with resolution 640 x 480")
	})
	waitFor(t, 10*time.Second, "baresip's video", func() bool { return c.Info().VideoReceived >= 10 })
	c.Hangup()
	waitDone(t, c, 5*time.Second)
	info := c.Info()
	t.Logf("door sent %d and received %d H.264 packets", info.VideoSent, info.VideoReceived)
	waitFor(t, 5*time.Second, "baresip's decoder summary", func() bool {
		return strings.Contains(p.out.String(), "avcodec: decoder stats")
	})
	if !strings.Contains(p.out.String(), "lost_fragments:0") {
		t.Errorf("baresip lost fragments:\n%s", p.out.String())
	}
}
