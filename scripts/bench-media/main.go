// Command bench-media measures the media relay under load: N simulated
// door stations (the door clip at 25 frames a second, about 1 Mbit/s, and
// G.711 at 50 packets a second) each watched by one simulated browser (a
// pion PeerConnection). The relay runs in a child process (this binary
// with -relay) so that its CPU and memory are read from /proc alone; the
// load runs here. Per N it prints relay CPU % (of one core, over the
// window), RSS, CPU and memory per call, packet loss from the devices to
// the browsers, and the jitter the relay adds (RFC 3550 interarrival jitter
// of the audio at the browser against a direct copy of the same packets).
//
//	go run ./scripts/bench-media -n 10,50,100 -window 20s
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"linli/internal/media"
)

func main() {
	relay := flag.Bool("relay", false, "run as the relay process (internal)")
	ns := flag.String("n", "10,50,100", "comma-separated numbers of concurrent calls")
	window := flag.Duration("window", 20*time.Second, "measurement window per N")
	flag.Parse()
	var err error
	if *relay {
		err = runRelay()
	} else {
		err = run(*ns, *window)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-media:", err)
		os.Exit(1)
	}
}

type result struct {
	n                          int
	cpu                        float64 // % of one core
	rssMB, idleMB              float64
	sentV, recvV, sentA, recvA int64
	jitA, jitDirect, jitV      float64 // ms
}

func run(nlist string, window time.Duration) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-relay")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("relay did not start: %w", err)
	}
	ctl := &control{base: "http://" + strings.TrimSpace(strings.TrimPrefix(line, "control "))}
	pid := cmd.Process.Pid
	fmt.Fprintf(os.Stderr, "relay pid %d at %s\n", pid, ctl.base)

	var results []result
	for _, f := range strings.Split(nlist, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad -n %q", f)
		}
		res, err := measure(ctl, pid, n, window)
		if err != nil {
			return fmt.Errorf("with %d calls: %w", n, err)
		}
		results = append(results, res)
	}
	printTable(results, window)
	return nil
}

func measure(ctl *control, pid, n int, window time.Duration) (result, error) {
	res := result{n: n}
	res.idleMB = rssMB(pid)
	api, err := browserAPI()
	if err != nil {
		return res, err
	}
	frames := clipPackets()
	var (
		devices []*device
		viewers []*viewer
		wg      sync.WaitGroup
		stop    = make(chan struct{})
	)
	defer func() {
		close(stop)
		for _, d := range devices {
			d.close()
		}
		for _, v := range viewers {
			_ = v.pc.Close()
		}
		wg.Wait()
		_ = ctl.post("/reset", nil, nil)
	}()
	for i := range n {
		var si streamInfo
		if err := ctl.post("/streams", nil, &si); err != nil {
			return res, err
		}
		d, err := newDevice(si.Audio, si.Video)
		if err != nil {
			return res, err
		}
		devices = append(devices, d)
		peer := media.Peer{Audio: addrOf(d.audio), AudioPT: 0, Video: addrOf(d.video), VideoPT: 96}
		if err := ctl.post(fmt.Sprintf("/streams/%d/start", si.ID), peer, nil); err != nil {
			return res, err
		}
		d.run(frames, stop, &wg)
		v, err := newViewer(api)
		if err != nil {
			return res, err
		}
		viewers = append(viewers, v)
		offer, err := v.offer()
		if err != nil {
			return res, err
		}
		var answer string
		if err := ctl.post(fmt.Sprintf("/streams/%d/viewers", si.ID), offer, &answer); err != nil {
			return res, fmt.Errorf("viewer %d: %w", i, err)
		}
		if err := v.pc.SetRemoteDescription(webrtcAnswer(answer)); err != nil {
			return res, err
		}
	}
	for i, v := range viewers {
		select {
		case <-v.connected:
		case <-time.After(60 * time.Second):
			return res, fmt.Errorf("browser %d did not connect", i)
		}
	}
	time.Sleep(3 * time.Second) // warm-up: keyframes reached, interceptors settled

	for i, d := range devices {
		viewers[i].video.open(d.nextVideo.Load())
		viewers[i].audio.open(d.nextAudio.Load())
	}
	cpu0, t0 := cpuTicks(pid), time.Now()
	time.Sleep(window)
	cpu1, t1 := cpuTicks(pid), time.Now()
	res.rssMB = rssMB(pid)
	// Stop sending, close the windows where the devices stopped, and let
	// what is in flight arrive.
	for _, d := range devices {
		d.paused.Store(true)
	}
	time.Sleep(100 * time.Millisecond) // a send in progress finishes
	for i, d := range devices {
		v := viewers[i]
		res.sentV += int64(uint16(d.nextVideo.Load()) - uint16(v.video.start.Load()))
		res.sentA += int64(uint16(d.nextAudio.Load()) - uint16(v.audio.start.Load()))
		v.video.end.Store(d.nextVideo.Load())
		v.audio.end.Store(d.nextAudio.Load())
	}
	time.Sleep(2 * time.Second)
	for _, v := range viewers {
		res.recvV += v.video.count.Load()
		res.recvA += v.audio.count.Load()
	}
	res.cpu = float64(cpu1-cpu0) / clockTicks / t1.Sub(t0).Seconds() * 100
	for _, d := range devices {
		res.jitDirect += d.directStats.ms() / float64(n)
	}
	for _, v := range viewers {
		res.jitA += v.audioJitter.ms() / float64(n)
		res.jitV += v.videoJitter.ms() / float64(n)
	}
	return res, nil
}

func printTable(rs []result, window time.Duration) {
	fmt.Printf("\nMedia relay, %d s window per N (CPU %% of one core; loss = sent by devices vs received by browsers; "+
		"jitter = RFC 3550 interarrival, mean over calls; added = browser audio minus direct audio)\n\n", int(window.Seconds()))
	fmt.Println("| calls | relay CPU % | CPU %/call | relay RSS MB | MB/call | video pkts sent | video loss % | audio pkts sent | audio loss % | audio jitter ms (browser / direct / added) | video jitter ms |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
	for _, r := range rs {
		fmt.Printf("| %d | %.1f | %.2f | %.1f | %.2f | %d | %.3f | %d | %.3f | %.2f / %.2f / %+.2f | %.2f |\n",
			r.n, r.cpu, r.cpu/float64(r.n), r.rssMB, (r.rssMB-r.idleMB)/float64(r.n),
			r.sentV, loss(r.sentV, r.recvV), r.sentA, loss(r.sentA, r.recvA),
			r.jitA, r.jitDirect, r.jitA-r.jitDirect, r.jitV)
	}
}

func loss(sent, recv int64) float64 {
	if sent == 0 {
		return 0
	}
	return float64(sent-recv) / float64(sent) * 100
}

// control talks to the relay process.
type control struct{ base string }

func (c *control) post(path string, body, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	resp, err := http.Post(c.base+path, "application/octet-stream", rd)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New(strings.TrimSpace(string(data)))
	}
	switch o := out.(type) {
	case nil:
	case *string:
		*o = string(data)
	default:
		return json.Unmarshal(data, o)
	}
	return nil
}
