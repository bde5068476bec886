package sim

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"linli/internal/sip/ua"
)

func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want ua.AnswerPolicy
		ok   bool
	}{
		{"auto", ua.AnswerPolicy{Mode: "auto"}, true},
		{"never", ua.AnswerPolicy{Mode: "never"}, true},
		{"after:5", ua.AnswerPolicy{Mode: "after", Delay: 5 * time.Second}, true},
		{"reject", ua.AnswerPolicy{Mode: "reject", Code: 486}, true},
		{"reject:603", ua.AnswerPolicy{Mode: "reject", Code: 603}, true},
		{"reject:404", ua.AnswerPolicy{}, false},
		{"after", ua.AnswerPolicy{}, false},
		{"after:-1", ua.AnswerPolicy{}, false},
		{"sometimes", ua.AnswerPolicy{}, false},
	} {
		got, err := parseAnswer(tc.spec)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %+v %v", tc.spec, got, err)
		}
	}
}

// TestInitialAnswer: stations answer monitoring calls at once whatever
// -answer says; indoor monitors follow it.
func TestInitialAnswer(t *testing.T) {
	after := ua.AnswerPolicy{Mode: ua.AnswerAfter, Delay: time.Second}
	for _, tc := range []struct {
		kind   string
		answer ua.AnswerPolicy
		want   string
	}{
		{"door", after, ua.AnswerAuto},
		{"wall", ua.AnswerPolicy{Mode: ua.AnswerNever}, ua.AnswerAuto},
		{"management", ua.AnswerPolicy{Mode: ua.AnswerReject}, ua.AnswerAuto},
		{"indoor", after, ua.AnswerAfter},
		{"indoor", ua.AnswerPolicy{}, ua.AnswerAuto},
	} {
		if got := initialAnswer(Config{Slot: Slot{Kind: tc.kind}, Answer: tc.answer}); got.Mode != tc.want {
			t.Errorf("%s with %+v answers %q, want %q", tc.kind, tc.answer, got.Mode, tc.want)
		}
	}
}

// TestControlWithoutSIP: a device started with -sip off answers the call
// actions with 409 and a reason, and keeps the old call report.
func TestControlWithoutSIP(t *testing.T) {
	d := New(Config{Server: "http://127.0.0.1:1", SIPAddr: "off"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(controlAPI([]*Device{d}))
	defer srv.Close()
	for _, path := range []string{"/call?to=0502", "/unlock", "/unlock?via=info", "/hangup", "/answer-mode?mode=auto"} {
		res, err := http.Post(srv.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error string }
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		want := http.StatusConflict
		if strings.HasPrefix(path, "/answer-mode") {
			want = http.StatusBadRequest
		}
		if res.StatusCode != want || !strings.Contains(body.Error, "SIP") {
			t.Errorf("POST %s: %d %q", path, res.StatusCode, body.Error)
		}
	}
	res, err := http.Post(srv.URL+"/answer-mode?mode=after", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("after without seconds: %d", res.StatusCode)
	}
	res, err = http.Get(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var st []Status
	_ = json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if len(st) != 1 || st[0].SIP != nil {
		t.Errorf("status with SIP off: %+v", st)
	}
}
