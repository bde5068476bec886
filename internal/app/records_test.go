package app_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/storetest"
)

// eventForm builds a device event report.
func eventForm(fields map[string]string, snapshot []byte) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if snapshot != nil {
		fw, _ := mw.CreateFormFile("snapshot", "snap.jpg")
		_, _ = fw.Write(snapshot)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func snapshotJPEG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, h/2, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	return b.Bytes()
}

// boundDevice binds a door station of a's unit and returns its token.
func boundDevice(t *testing.T, s *apptest.Server, a *apptest.Community, password, serial string, index int) credentials {
	t.Helper()
	var cr credentials
	s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": password,
		"serial": serial, "slot": map[string]any{"kind": "door", "unit_id": a.UnitID, "index": index}}).JSON(t, &cr)
	return cr
}

func postEvent(s *apptest.Server, token string, fields map[string]string, snapshot []byte) apptest.Response {
	ct, body := eventForm(fields, snapshot)
	return s.Client("device").DoHeaders("POST", "/device/v1/events", map[string]string{"Authorization": "Bearer " + token, "Content-Type": ct}, body)
}

type recordList struct {
	Items []struct {
		ID             int
		DeviceLabel    string `json:"device_label"`
		UnlockTypeName string `json:"unlock_type_name"`
		ResidentName   string `json:"resident_name"`
		Target         string
		HasSnapshot    bool `json:"has_snapshot"`
	}
	Total int
}

func snapshotFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.Walk(filepath.Join(dir, "files", "snapshots"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestDeviceEvents: devices report calls and unlocks with snapshots;
// reports are idempotent under concurrency and across a restart; the
// manager lists, filters, opens the photo and exports.
func TestDeviceEvents(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			cfg := config.Config{DataDir: t.TempDir(), DBURL: b.URL(t), AdminAccount: "admin", AdminPassword: apptest.AdminInitial, MQTTAddr: "off"}
			s := apptest.StartWith(t, cfg)
			op := s.Operator()
			a := s.NewCommunity(t, op, "记录小区", "EV")
			other := s.NewCommunity(t, op, "别的小区", "EW")
			m := a.Manager
			var res struct{ ID int }
			m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "=刷卡人", "role": "业主"}).JSON(t, &res)
			m.Must(201, "POST", a.Path("/cards"), map[string]any{"number": "1A2B3C4D", "resident_id": res.ID})
			dev := boundDevice(t, s, a, "pwEVx9", "EV-DOOR-1", 1)
			foreign := boundDevice(t, s, other, "pwEWx9", "EW-DOOR-1", 1)
			snap := snapshotJPEG(320, 240)

			unlock := map[string]string{"event_id": "u-0001", "type": "unlock", "unlock_type": "card", "card": "1a2b3c4d", "time": "2026-01-28T16:53:01+08:00"}
			// The same report five times at once: one record.
			var wg sync.WaitGroup
			statuses := make([]int, 5)
			for i := range 5 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = postEvent(s, dev.Token, unlock, snap).Status
				}()
			}
			wg.Wait()
			created := 0
			for _, st := range statuses {
				if st == 201 {
					created++
				} else if st != 200 {
					t.Fatalf("concurrent reports answered %v", statuses)
				}
			}
			if created != 1 {
				t.Errorf("concurrent reports: %v, want exactly one 201", statuses)
			}
			var list recordList
			m.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &list)
			if list.Total != 1 || list.Items[0].UnlockTypeName != "刷卡" || list.Items[0].ResidentName != "=刷卡人" || !list.Items[0].HasSnapshot ||
				!strings.Contains(list.Items[0].DeviceLabel, "【记录小区】-1区-1栋-1单元-门口机1") {
				t.Fatalf("unlock records: %+v", list)
			}
			if n := snapshotFiles(t, cfg.DataDir); n != 1 {
				t.Errorf("%d snapshot files, want 1", n)
			}
			// Same id, other content: refused.
			changed := map[string]string{"event_id": "u-0001", "type": "unlock", "unlock_type": "face", "time": "2026-01-28T16:53:01+08:00"}
			if r := postEvent(s, dev.Token, changed, nil); r.Status != 409 {
				t.Errorf("same id, other content: %d %s", r.Status, r.Body)
			}

			// The photo, as a JPEG that the browser must not sniff.
			r := m.Do("GET", a.Path(fmt.Sprintf("/records/%d/snapshot", list.Items[0].ID)), nil)
			if r.Status != 200 || r.Header.Get("Content-Type") != "image/jpeg" || r.Header.Get("X-Content-Type-Options") != "nosniff" || !bytes.Equal(r.Body, snap) {
				t.Errorf("snapshot: %d %q %q", r.Status, r.Header.Get("Content-Type"), r.Header.Get("X-Content-Type-Options"))
			}
			if r := other.Manager.Do("GET", a.Path(fmt.Sprintf("/records/%d/snapshot", list.Items[0].ID)), nil); r.Status != 404 {
				t.Errorf("another community's manager opened the photo: %d", r.Status)
			}

			// A device reports only as itself: B's device lands in B.
			postEvent(s, foreign.Token, map[string]string{"event_id": "u-0001", "type": "unlock", "unlock_type": "password", "time": "2026-01-28T17:00:00+08:00"}, nil)
			m.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &list)
			if list.Total != 1 {
				t.Errorf("B's device report reached A: %d records", list.Total)
			}

			// Calls, the time range and the place filter.
			for i, at := range []string{"2026-01-28T16:43:01+08:00", "2026-01-28T16:43:34+08:00", "2026-02-01T09:00:00+08:00"} {
				postEvent(s, dev.Token, map[string]string{"event_id": fmt.Sprintf("c-%d", i), "type": "call", "target": "0502", "time": at}, snapshotJPEG(64, 48))
			}
			m.Must(200, "GET", a.Path("/records/calls?from=2026-01-28T00:00:00%2B08:00&to=2026-01-29T00:00:00%2B08:00"), nil).JSON(t, &list)
			if list.Total != 2 || list.Items[0].Target != "0502" {
				t.Errorf("calls on 2026-01-28: %+v", list)
			}
			m.Must(200, "GET", a.Path(fmt.Sprintf("/records/calls?unit_id=%d", a.UnitID)), nil).JSON(t, &list)
			if list.Total != 3 {
				t.Errorf("calls of the unit: %d", list.Total)
			}
			m.Must(200, "GET", a.Path(fmt.Sprintf("/records/calls?unit_id=%d", a.UnitID+1000)), nil).JSON(t, &list)
			if list.Total != 0 {
				t.Errorf("calls of another unit: %d", list.Total)
			}
			if r := m.Do("GET", a.Path("/records/calls?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"), nil); r.Status != 422 {
				t.Errorf("a range that ends before it starts: %d", r.Status)
			}

			// The export escapes text that a spreadsheet would run.
			x := m.Must(200, "GET", a.Path("/records/unlocks/export.xlsx"), nil)
			if sheet := unzipSheet(t, x.Body); !strings.Contains(sheet, "&#39;=刷卡人") || !strings.Contains(sheet, "2026-01-28 16:53:01") {
				t.Errorf("the exported resident name is not escaped: %s", unzipSheet(t, x.Body))
			}

			// Bad reports and pictures are refused with a reason.
			png1 := func() []byte {
				var b bytes.Buffer
				_ = png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 32, 32)))
				return b.Bytes()
			}()
			for _, c := range []struct {
				name   string
				fields map[string]string
				snap   []byte
				want   string
			}{
				{"no id", map[string]string{"type": "call", "time": "2026-01-28T16:43:01+08:00"}, nil, "event_id"},
				{"bad type", map[string]string{"event_id": "x1", "type": "ring", "time": "2026-01-28T16:43:01+08:00"}, nil, "事件类型"},
				{"bad time", map[string]string{"event_id": "x2", "type": "call", "time": "昨天"}, nil, "RFC 3339"},
				{"bare number", map[string]string{"event_id": "x3", "type": "unlock", "unlock_type": "3", "time": "2026-01-28T16:43:01+08:00"}, nil, "开锁类型"},
				{"png", map[string]string{"event_id": "x4", "type": "call", "time": "2026-01-28T16:43:01+08:00"}, png1, "JPEG"},
				{"html", map[string]string{"event_id": "x5", "type": "call", "time": "2026-01-28T16:43:01+08:00"}, []byte("<html><script>alert(1)</script></html>"), "JPEG"},
				{"truncated", map[string]string{"event_id": "x6", "type": "call", "time": "2026-01-28T16:43:01+08:00"}, snap[:len(snap)/2], "损坏"},
				{"pixel flood", map[string]string{"event_id": "x7", "type": "call", "time": "2026-01-28T16:43:01+08:00"}, floodJPEG(), "超过上限"},
			} {
				r := postEvent(s, dev.Token, c.fields, c.snap)
				if r.Status != 422 || !strings.Contains(string(r.Body), c.want) {
					t.Errorf("%s: %d %s, want 422 mentioning %q", c.name, r.Status, r.Body, c.want)
				}
			}

			// An upload cut off halfway leaves no record and no file.
			before := snapshotFiles(t, cfg.DataDir)
			cutUpload(t, s.URL, dev.Token, map[string]string{"event_id": "cut-1", "type": "call", "time": "2026-01-28T18:00:00+08:00"}, snapshotJPEG(640, 480))
			m.Must(200, "GET", a.Path("/records/calls"), nil).JSON(t, &list)
			if list.Total != 3 || snapshotFiles(t, cfg.DataDir) != before {
				t.Errorf("after a cut-off upload: %d calls, %d files (before %d)", list.Total, snapshotFiles(t, cfg.DataDir), before)
			}

			// After a restart the same report is still recognised.
			s.Stop()
			s = apptest.StartWith(t, cfg)
			if r := postEvent(s, dev.Token, unlock, snap); r.Status != 200 || !strings.Contains(string(r.Body), `"duplicate":true`) {
				t.Errorf("the same report after a restart: %d %s", r.Status, r.Body)
			}
			m2 := s.Client("manager")
			m2.Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
			m2.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &list)
			if list.Total != 1 {
				t.Errorf("%d unlock records after the restart, want 1", list.Total)
			}
		})
	}
}

// floodJPEG is a JPEG whose header claims 64,000 × 64,000 pixels.
func floodJPEG() []byte {
	data := snapshotJPEG(16, 16)
	for i := 0; i+8 < len(data); i++ {
		if data[i] == 0xFF && (data[i+1] == 0xC0 || data[i+1] == 0xC2) {
			data[i+5], data[i+6] = 0xFA, 0x00 // height 64000
			data[i+7], data[i+8] = 0xFA, 0x00 // width 64000
			break
		}
	}
	return data
}

// cutUpload sends half of a report with a snapshot and ends the connection
// there, as a device losing power would, then waits until the server is
// done with the request: it has answered and closed its side.
func cutUpload(t *testing.T, base, token string, fields map[string]string, snapshot []byte) {
	t.Helper()
	ct, body := eventForm(fields, snapshot)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /device/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", token, ct, len(body))
	_, _ = conn.Write(body[:len(body)/2])
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	// A reset counts as the server's close too.
	if _, err := io.Copy(io.Discard, conn); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server did not finish with a cut-off upload")
	}
}

// unzipSheet returns the XML of the first worksheet of a workbook.
func unzipSheet(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			return string(b)
		}
	}
	t.Fatal("no sheet1 in the workbook")
	return ""
}

// TestEventFromTheFuture: a device whose clock runs ahead does not put its
// events above every other record for years: such an event is kept at the
// time it arrived, and a resend is still the same report.
func TestEventFromTheFuture(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		a := s.NewCommunity(t, s.Operator(), "时钟小区", "CK")
		dev := boundDevice(t, s, a, "pwCKx9", "CK-DOOR-1", 1)
		ev := map[string]string{"event_id": "f-1", "type": "unlock", "unlock_type": "button", "time": "2099-01-01T00:00:00Z"}
		before := time.Now()
		if r := postEvent(s, dev.Token, ev, nil); r.Status != 201 {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
		if r := postEvent(s, dev.Token, ev, nil); r.Status != 200 {
			t.Fatalf("the same report again: %d %s", r.Status, r.Body)
		}
		var list struct {
			Items []struct {
				OccurredAt time.Time `json:"occurred_at"`
			}
		}
		a.Manager.Must(200, "GET", a.Path("/records/unlocks"), nil).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].OccurredAt.Year() != before.Year() || list.Items[0].OccurredAt.Before(before.Add(-time.Minute)) {
			t.Fatalf("records: %+v", list.Items)
		}
	})
}
