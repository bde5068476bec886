// Command measure-images measures what pictures cost the server: for each
// path that decodes uploaded pictures it starts the real binary on a fresh
// SQLite data directory, sets up what the path needs through the API, waits
// for the server to settle (idle RSS), fires 20 concurrent worst-case
// requests and reports the peak RSS above idle. It is run by
// scripts/measure-images.sh with the path of a built linli binary.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	concurrent   = 20
	adminInitial = "Measure-Admin-1"
	adminNew     = "Measure-Images-2026"
	managerPass  = "Manager-Images-2026"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: measure-images path/to/linli")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "measure-images:", err)
		os.Exit(1)
	}
}

// payloads, made once: the 64-megapixel pictures of the reported attack
// and the worst pictures each path still accepts (the most pixels allowed,
// four bytes a pixel once decoded, padded to the most bytes allowed).
type payloads struct {
	attack, worst5MB, worst10MB []byte
}

func run(bin string) error {
	fmt.Println("making pictures…")
	attack := flatPNG(10000, 10000, 0)
	p := payloads{
		attack:    attack,
		worst5MB:  flatPNG(4120, 4120, 5<<20-64<<10),
		worst10MB: flatPNG(4120, 4120, 10<<20-64<<10),
	}
	fmt.Printf("attack picture 10000×10000: %d KB; accepted worst 4120×4120 RGBA: %d KB and %d KB\n\n",
		len(p.attack)>>10, len(p.worst5MB)>>10, len(p.worst10MB)>>10)
	fmt.Printf("%-44s %8s %8s %10s %8s  %s\n", "path (20 concurrent requests)", "idle", "peak", "above idle", "time", "answers")
	for _, m := range []struct {
		name string
		fire func(s *server, i int) (int, error)
	}{
		{"apply: 3 × 10000×10000 PNG (the attack)", func(s *server, i int) (int, error) { return s.apply(i, p.attack) }},
		{"apply: 3 × 4120×4120 RGBA PNG, 5 MB each", func(s *server, i int) (int, error) { return s.apply(i, p.worst5MB) }},
		{"face: 10000×10000 PNG (the attack)", func(s *server, i int) (int, error) { return s.face(i, p.attack) }},
		{"face: 4120×4120 RGBA PNG, 5 MB", func(s *server, i int) (int, error) { return s.face(i, p.worst5MB) }},
		{"ad (fit): 4120×4120 RGBA PNG, 10 MB", func(s *server, i int) (int, error) { return s.ad(i, p.worst10MB) }},
		{"all three paths at once, worst accepted", func(s *server, i int) (int, error) {
			switch i % 3 {
			case 0:
				return s.apply(i, p.worst5MB)
			case 1:
				return s.face(i, p.worst5MB)
			}
			return s.ad(i, p.worst10MB)
		}},
	} {
		if err := measure(bin, m.name, m.fire); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	return nil
}

func measure(bin, name string, fire func(s *server, i int) (int, error)) error {
	dir, err := os.MkdirTemp("", "linli-measure-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := start(bin, dir)
	if err != nil {
		return err
	}
	if err := s.setup(); err != nil {
		s.stop()
		return err
	}
	// Start again on the same data, so that idle is not inflated by what
	// setting up cost (password hashing takes 64 MiB a time); sessions and
	// the link are in the database.
	s.stop()
	again, err := start(bin, dir)
	if err != nil {
		return err
	}
	defer again.stop()
	s.cmd, s.base = again.cmd, again.base
	time.Sleep(3 * time.Second)
	idle := s.rss()
	s.resetPeak()
	peak := idle
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			peak = max(peak, s.rss())
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	began := time.Now()
	answers := make([]string, concurrent)
	var wg sync.WaitGroup
	for i := range concurrent {
		wg.Go(func() {
			code, err := fire(s, i)
			answers[i] = strconv.Itoa(code)
			if err != nil {
				answers[i] = "error: " + err.Error()
			}
		})
	}
	wg.Wait()
	took := time.Since(began)
	close(done)
	<-sampled
	peak = max(peak, s.peakRSS())
	fmt.Printf("%-44s %5d MiB %5d MiB %6d MiB %7.1fs  %s\n", name, idle>>20, peak>>20, (peak-idle)>>20, took.Seconds(), summary(answers))
	return nil
}

func summary(answers []string) string {
	n := map[string]int{}
	for _, a := range answers {
		n[a]++
	}
	var out []string
	for a, c := range n {
		out = append(out, fmt.Sprintf("%d× %s", c, a))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// server is a running linli with a community, its manager and residents.
type server struct {
	cmd       *exec.Cmd
	base      string
	op, mgr   *http.Client
	cid, room int
	token     string
	residents []int
}

var listening = regexp.MustCompile(`msg="linli listening" http=(http://[0-9.:]+)`)

func start(bin, dir string) (*server, error) {
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "LINLI_HTTP_ADDR=127.0.0.1:0", "LINLI_MQTT_ADDR=off",
		"LINLI_DATA_DIR="+filepath.Join(dir, "data"), "LINLI_ADMIN_PASSWORD="+adminInitial, "LINLI_LOG_LEVEL=info")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			s.base = m[1]
			break
		}
	}
	if s.base == "" {
		s.stop()
		return nil, errors.New("the server did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
}

func (s *server) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (s *server) rss() int64 { return s.status("VmRSS") }

// resetPeak clears the kernel's high-water mark of the process's RSS, so
// that peakRSS catches a peak between two samples.
func (s *server) resetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0)
}

func (s *server) peakRSS() int64 { return s.status("VmHWM") }

func newClient(local string) *http.Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{Timeout: 10 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	return &http.Client{Jar: jar, Timeout: 5 * time.Minute, Transport: &http.Transport{DialContext: d.DialContext}}
}

// call sends body (JSON unless contentType is set) and decodes the answer
// into out when it is 2xx.
func (s *server) call(c *http.Client, method, path, contentType string, body any, out any) (int, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r, contentType = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.base+path, r)
	if err != nil {
		return 0, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, nil
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// must is call that fails unless the answer is want.
func (s *server) must(c *http.Client, want int, method, path string, body, out any) error {
	code, err := s.call(c, method, path, "", body, out)
	if err == nil && code != want {
		err = fmt.Errorf("%s %s: %d, want %d", method, path, code, want)
	}
	return err
}

// setup signs in as the operator (changing the initial password), adds a
// community with one room and its manager (changing 123456), the residents
// for face uploads and the public application link.
func (s *server) setup() error {
	s.op, s.mgr = newClient(""), newClient("")
	var id struct {
		ID int `json:"id"`
	}
	steps := []func() error{
		func() error {
			return s.must(s.op, 200, "POST", "/api/v1/session", map[string]any{"account": "admin", "password": adminInitial}, nil)
		},
		func() error {
			return s.must(s.op, 200, "PUT", "/api/v1/me/password", map[string]any{"old_password": adminInitial, "new_password": adminNew}, nil)
		},
		func() error {
			err := s.must(s.op, 201, "POST", "/api/v1/communities", map[string]any{"name": "图片测量小区", "region_code": "440306", "address": "宝安大道 1 号", "community_password": "pwMx9a"}, &id)
			s.cid = id.ID
			return err
		},
		func() error {
			return s.must(s.op, 201, "POST", s.path("/areas"), map[string]any{"number": 1}, &id)
		},
		func() error {
			return s.must(s.op, 201, "POST", s.path("/buildings"), map[string]any{"area_id": id.ID, "number": 1}, &id)
		},
		func() error {
			return s.must(s.op, 201, "POST", s.path("/units"), map[string]any{"building_id": id.ID, "number": 1, "device_count": 1}, &id)
		},
		func() error {
			err := s.must(s.op, 201, "POST", s.path("/rooms"), map[string]any{"unit_id": id.ID, "floor": 5, "number": 2}, &id)
			s.room = id.ID
			return err
		},
		func() error {
			return s.must(s.op, 201, "POST", "/api/v1/accounts", map[string]any{"account": "mgrimages", "name": "图片经理", "phone": "13800000000", "community_ids": []int{s.cid}}, nil)
		},
		func() error {
			return s.must(s.mgr, 200, "POST", "/api/v1/session", map[string]any{"account": "mgrimages", "password": "123456"}, nil)
		},
		func() error {
			return s.must(s.mgr, 200, "PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": managerPass}, nil)
		},
		func() error {
			var link struct{ URL string }
			err := s.must(s.mgr, 200, "GET", s.path("/application-link"), nil, &link)
			_, s.token, _ = strings.Cut(link.URL, "/h5/apply/")
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	for i := range concurrent {
		if err := s.must(s.mgr, 201, "POST", s.path("/residents"), map[string]any{"room_id": s.room, "name": fmt.Sprintf("测量%d", i), "phone": fmt.Sprintf("1380000%04d", i), "role": "业主"}, &id); err != nil {
			return err
		}
		s.residents = append(s.residents, id.ID)
	}
	return nil
}

func (s *server) path(rest string) string {
	return fmt.Sprintf("/api/v1/communities/%d%s", s.cid, rest)
}

// apply submits an application with three photos from its own address
// (127.0.0.i+2), as twenty phones behind twenty addresses would.
func (s *server) apply(i int, photo []byte) (int, error) {
	ct, body := form(map[string]string{"room_id": strconv.Itoa(s.room), "name": "申请人", "phone": fmt.Sprintf("1390000%04d", i)}, "photos", photo, photo, photo)
	return s.call(newClient(fmt.Sprintf("127.0.0.%d", i+2)), "POST", "/app/v1/apply/"+s.token, ct, body, nil)
}

func (s *server) face(i int, photo []byte) (int, error) {
	ct, body := form(map[string]string{"consent": "true", "permanent": "true"}, "file", photo)
	return s.call(s.mgr, "PUT", s.path(fmt.Sprintf("/residents/%d/face", s.residents[i])), ct, body, nil)
}

func (s *server) ad(i int, picture []byte) (int, error) {
	ct, body := form(map[string]string{"fit": "true"}, "file", picture)
	return s.call(s.mgr, "PUT", s.path(fmt.Sprintf("/ads/landscape/%d", i%4+1)), ct, body, nil)
}

func form(fields map[string]string, fileField string, files ...[]byte) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for i, f := range files {
		fw, _ := mw.CreateFormFile(fileField, fmt.Sprintf("photo%d.png", i+1))
		_, _ = fw.Write(f)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// flatPNG returns a w×h RGBA PNG of one translucent colour (four bytes a
// pixel once decoded, a few kilobytes on the wire), padded with an
// ancillary chunk to size bytes when size is larger.
func flatPNG(w, h, size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	c := color.NRGBA{R: 200, G: 120, B: 40, A: 200}
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	_ = enc.Encode(&b, img)
	data := b.Bytes()
	pad := size - len(data) - 12
	if pad <= 0 {
		return data
	}
	// After the signature (8) and IHDR (25), a chunk decoders skip.
	chunk := make([]byte, 8+pad+4)
	binary.BigEndian.PutUint32(chunk, uint32(pad))
	copy(chunk[4:], "zpAd")
	binary.BigEndian.PutUint32(chunk[8+pad:], crc32.ChecksumIEEE(chunk[4:8+pad]))
	return append(append(append([]byte{}, data[:33]...), chunk...), data[33:]...)
}
