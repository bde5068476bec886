package sim

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestControlIgnoreCommands: POST /ignore-commands makes the device drop
// remote openings (to test the server's timeout) and ?on=0 undoes it; the
// status shows the setting.
func TestControlIgnoreCommands(t *testing.T) {
	d := New(Config{Server: "http://127.0.0.1:1", SIPAddr: "off"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(controlAPI([]*Device{d}))
	defer srv.Close()
	status := func() Status {
		res, err := http.Get(srv.URL + "/status")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var st []Status
		_ = json.NewDecoder(res.Body).Decode(&st)
		return st[0]
	}
	for _, tc := range []struct {
		query string
		want  bool
	}{{"", true}, {"?on=0", false}, {"?on=1", true}} {
		res, err := http.Post(srv.URL+"/ignore-commands"+tc.query, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if st := status(); res.StatusCode != http.StatusOK || st.Ignoring != tc.want {
			t.Errorf("ignore-commands%s: %d, ignoring %v", tc.query, res.StatusCode, st.Ignoring)
		}
	}
	// An ignored command changes nothing.
	d.remoteOpen([]byte(`{"type":"open","id":"c1","resident_id":3}`))
	if st := status(); st.LastOpen != nil || len(st.Unlocks) != 0 {
		t.Errorf("an ignored command opened: %+v", st)
	}
}
