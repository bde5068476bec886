package sim

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPassesOffline: a door station checks a pass's window and uses from
// its whitelist alone, and locks the keypad after 5 wrong PINs in a row.
func TestPassesOffline(t *testing.T) {
	d := New(Config{Server: "http://127.0.0.1:1", Serial: "SIM-P"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.http.Timeout = 100 * time.Millisecond
	now := time.Now()
	from, to, later := now.Add(-time.Minute), now.Add(time.Hour), now.Add(30*time.Minute)
	d.whitelist["pass:1"] = Entry{Key: "pass:1", Kind: "pass", PassID: 1, PIN: "123456", QR: "LINLI-PASS:a", MaxUses: 2, Uses: 1, ValidFrom: &from, ValidUntil: &to}
	d.whitelist["pass:2"] = Entry{Key: "pass:2", Kind: "pass", PassID: 2, PIN: "654321", QR: "LINLI-PASS:b", ValidFrom: &later, ValidUntil: &to}
	ctx := context.Background()

	if r := d.ScanQR(ctx, "LINLI-PASS:a"); !r.Opened || r.PassID != 1 {
		t.Fatalf("first QR scan: %+v", r)
	}
	if r := d.ScanQR(ctx, "LINLI-PASS:a"); r.Opened || !strings.Contains(r.Reason, "用完") {
		t.Errorf("a pass the server counted once and the door used once, of 2 uses: %+v", r)
	}
	if r := d.ScanQR(ctx, "LINLI-PASS:b"); r.Opened || !strings.Contains(r.Reason, "未到") {
		t.Errorf("a pass before its window: %+v", r)
	}
	if r := d.ScanQR(ctx, "LINLI-PASS:x"); r.Opened {
		t.Errorf("an unknown QR code opened: %+v", r)
	}
	for i := 1; i <= PINFailures; i++ {
		r := d.EnterPIN(ctx, "000000")
		if r.Opened || (i < PINFailures) != (r.Reason == "密码错误") {
			t.Errorf("wrong PIN %d: %+v", i, r)
		}
	}
	if r := d.EnterPIN(ctx, "654321"); r.Opened || !strings.Contains(r.Reason, "秒后再试") {
		t.Errorf("a PIN during the lockout: %+v", r)
	}
	d.mu.Lock()
	d.passes.lockedUntil = time.Now() // the minute is over
	d.mu.Unlock()
	if r := d.EnterPIN(ctx, "654321"); r.Opened || !strings.Contains(r.Reason, "未到") {
		t.Errorf("the right PIN of a pass before its window, after the lockout: %+v", r)
	}
	// A right PIN resets the count: four wrong ones do not lock again.
	for range PINFailures - 1 {
		d.EnterPIN(ctx, "999999")
	}
	d.EnterPIN(ctx, "654321")
	if r := d.EnterPIN(ctx, "999999"); r.Reason != "密码错误" {
		t.Errorf("wrong PINs are counted across a right one: %+v", r)
	}
	if st := d.Status(); len(st.Unlocks) != 1 || st.Unlocks[0].Type != "qrcode" || st.Unlocks[0].PassID != 1 {
		t.Errorf("unlocks: %+v", st.Unlocks)
	}
}

// TestPassControl: POST /qr and POST /pin take the code as JSON or in the
// query and answer whether the door opened.
func TestPassControl(t *testing.T) {
	d := New(Config{Server: "http://127.0.0.1:1", Serial: "SIM-PC"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.http.Timeout = 100 * time.Millisecond
	to := time.Now().Add(time.Hour)
	d.whitelist["pass:3"] = Entry{Key: "pass:3", Kind: "pass", PassID: 3, PIN: "246810", QR: "LINLI-PASS:c", ValidUntil: &to}
	srv := httptest.NewServer(controlAPI([]*Device{d}))
	defer srv.Close()
	for _, tc := range []struct {
		path, body string
		opened     bool
	}{
		{"/qr", `{"code":"LINLI-PASS:c"}`, true},
		{"/qr?code=LINLI-PASS:nope", "", false},
		{"/pin", `{"pin":"246810"}`, true},
		{"/pin?pin=246811", "", false},
	} {
		res, err := http.Post(srv.URL+tc.path, "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		var r PassResult
		_ = json.NewDecoder(res.Body).Decode(&r)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || r.Opened != tc.opened || !r.Opened && r.Reason == "" {
			t.Errorf("POST %s %s: %d %+v", tc.path, tc.body, res.StatusCode, r)
		}
	}
}
