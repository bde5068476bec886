package peers

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"linli/internal/clip"
)

// DoorConfig is a third-party door station's SIP account.
type DoorConfig struct {
	Server   string // the SIP server, host:port (UDP)
	Username string
	Password string
	// Dir holds baresip's configuration and the clip; empty: a temporary
	// directory that Close removes.
	Dir string
}

// StartDoor starts baresip as a door station: it registers with the
// server as Username (digest with Password), and its calls carry the door
// camera clip (made into an MP4 with ffmpeg, read by baresip's avformat
// module and encoded again by avcodec as H.264, packetization-mode 1) and
// a 440 Hz tone as G.711. Wait for EventRegistered before dialling.
func StartDoor(ctx context.Context, cfg DoorConfig) (*Baresip, error) {
	if err := Available(true, "avformat.so", "avcodec.so", "g711.so", "aufile.so", "ctrl_tcp.so", "menu.so", "fakevideo.so"); err != nil {
		return nil, err
	}
	dir, own, err := workDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	mp4 := filepath.Join(dir, "door.mp4")
	if err := clipMP4(ctx, dir, mp4); err != nil {
		cleanup(dir, own)
		return nil, err
	}
	lines := []string{
		"module g711.so",
		"module aufile.so",
		"module aubridge.so",
		"module avcodec.so",
		"module avformat.so",
		"module fakevideo.so",
		"module_app account.so",
		"audio_player aubridge,speaker",
		"audio_alert aubridge,alert",
		"audio_source aufile," + filepath.Join(dir, "tone.wav"),
		"video_source avformat," + mp4,
		"video_display fakevideo,nil",
		"video_size 640x480",
		"video_fps 25",
		"video_bitrate 1000000",
	}
	// One account: registration every 60 s, G.711 only; video: what avcodec offers (H.264 in packetization-mode 0 and 1, first).
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;regint=60;audio_codecs=PCMU/8000/1,PCMA/8000/1\n",
		cfg.Username, cfg.Server, cfg.Password)
	b, err := start(ctx, baresipConfig{dir: dir, lines: lines, accounts: account,
		files: map[string][]byte{"tone.wav": ToneWAV(30)}}, own)
	if err != nil {
		cleanup(dir, own)
		return nil, err
	}
	return b, nil
}

// StartMonitor starts baresip as an indoor monitor that answers every call
// at once, on its own address (no registration): G.711 with a tone as
// microphone and, with video, H.264 decoded by avcodec with a camera and
// screen (fakevideo) that need no hardware. Call it at
// sip:monitor@SIPAddr().
func StartMonitor(ctx context.Context, dir string, video bool) (*Baresip, error) {
	modules := []string{"g711.so", "aufile.so", "aubridge.so", "ctrl_tcp.so", "menu.so"}
	if video {
		modules = append(modules, "avcodec.so", "fakevideo.so")
	}
	if err := Available(false, modules...); err != nil {
		return nil, err
	}
	dir, own, err := workDir(dir)
	if err != nil {
		return nil, err
	}
	lines := []string{
		"module g711.so",
		"module aufile.so",
		"module aubridge.so",
		"module_app account.so",
		"audio_player aubridge,speaker",
		"audio_source aufile," + filepath.Join(dir, "tone.wav"),
		"audio_alert aubridge,alert",
	}
	if video {
		lines = append(lines, "module avcodec.so", "module fakevideo.so", "video_source fakevideo,nil", "video_display fakevideo,nil")
	}
	accounts := "<sip:monitor@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU/8000/1,PCMA/8000/1\n"
	b, err := start(ctx, baresipConfig{dir: dir, lines: lines, accounts: accounts,
		files: map[string][]byte{"tone.wav": ToneWAV(30)}}, own)
	if err != nil {
		cleanup(dir, own)
		return nil, err
	}
	return b, nil
}

func workDir(dir string) (string, bool, error) {
	if dir != "" {
		return dir, false, nil
	}
	d, err := os.MkdirTemp("", "linli-baresip-")
	return d, true, err
}

func cleanup(dir string, own bool) {
	if own {
		_ = os.RemoveAll(dir)
	}
}

// clipMP4 writes the door clip into an MP4 container (the H.264 stream
// copied, not encoded again).
func clipMP4(ctx context.Context, dir, mp4 string) error {
	raw := filepath.Join(dir, "door.h264")
	if err := os.WriteFile(raw, clip.AnnexB(), 0o600); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
		"-f", "h264", "-framerate", fmt.Sprint(clip.FPS), "-i", raw, "-c", "copy", mp4)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("peers: ffmpeg: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ToneWAV is secs seconds of a 440 Hz tone, 8 kHz 16-bit mono.
func ToneWAV(secs int) []byte {
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
