package record

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/blob"
	"linli/internal/community"
	"linli/internal/device"
	entevent "linli/internal/ent/event"
	"linli/internal/httpapi"
	"linli/internal/storetest"
)

// eventServer is POST /device/v1/events of one community's door station,
// in process, on a store of its own.
type eventServer struct {
	name    string
	handler http.Handler
	records *Service
	place   device.Place
}

// Place is where the door station stands.
func (es *eventServer) Place(context.Context) (device.Place, error) { return es.place, nil }

// CountUse counts nothing: passes are not fuzzed here.
func (es *eventServer) CountUse(context.Context, int, int, int, string, time.Time) error { return nil }

// newEventServer builds the event API on backend b behind the real access
// gate, with a device resolver that accepts every token as the door station.
func newEventServer(tb testing.TB, b storetest.Backend) *eventServer {
	tb.Helper()
	db := storetest.Open(tb, b)
	files, err := blob.NewDir(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := actor.AsSystem(context.Background())
	name, code, addr := "模糊小区", "440306", "x路1号"
	c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
	if err != nil {
		tb.Fatal(err)
	}
	es := &eventServer{name: b.Name, place: device.Place{CommunityID: c.ID, DeviceID: 1, Label: "【模糊小区】-1区-1栋-1单元-门口机1"}}
	es.records = NewService(db, files, es, es, logger)
	door := actor.Actor{Kind: actor.Device, DeviceID: es.place.DeviceID, Communities: []int{c.ID}}
	asDoor := func(ctx context.Context, _ string) (context.Context, error) { return actor.With(ctx, door), nil }
	mux := http.NewServeMux()
	api := httpapi.NewAPI(mux, "test", logger)
	api.UseMiddleware(auth.Gate(api, asDoor, asDoor))
	es.records.Register(api)
	es.handler = mux
	return es
}

// fuzzEvent is one report as the fuzzer varies it: the form fields (an
// empty one is left out), the snapshot file, or a raw body that replaces
// the whole form.
type fuzzEvent struct {
	eventID, kind, at, unlockType, card, residentID, target, callID, passID string
	snapshot, raw                                                           []byte
}

// fuzzBoundary is the boundary of raw bodies.
const fuzzBoundary = "linli-fuzz-boundary"

func (e fuzzEvent) body() (string, []byte) {
	if len(e.raw) > 0 {
		return "multipart/form-data; boundary=" + fuzzBoundary, e.raw
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range [][2]string{{"event_id", e.eventID}, {"type", e.kind}, {"time", e.at}, {"unlock_type", e.unlockType},
		{"card", e.card}, {"resident_id", e.residentID}, {"target", e.target}, {"call_id", e.callID}, {"pass_id", e.passID}} {
		if f[1] != "" {
			_ = mw.WriteField(f[0], f[1])
		}
	}
	if len(e.snapshot) > 0 {
		fw, _ := mw.CreateFormFile("snapshot", "snap.jpg")
		_, _ = fw.Write(e.snapshot)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// FuzzEventForm posts device event reports built from the fuzzer's fields
// and bytes: never a panic or a 5xx, every refusal a problem document with
// a Chinese detail, every accepted event stored with its snapshot. The
// seeds in testdata/fuzz/FuzzEventForm are call and unlock events with and
// without snapshots, bad times, huge fields and broken multipart bodies.
func FuzzEventForm(f *testing.F) {
	var servers []*eventServer
	for _, b := range storetest.Backends() {
		servers = append(servers, newEventServer(f, b))
	}
	f.Fuzz(func(t *testing.T, eventID, kind, at, unlockType, card, residentID, target, callID, passID string, snapshot, raw []byte) {
		e := fuzzEvent{eventID, kind, at, unlockType, card, residentID, target, callID, passID, snapshot, raw}
		ct, body := e.body()
		for _, es := range servers {
			es.post(t, ct, body, e.kind, e.snapshot, len(e.raw) == 0)
		}
	})
}

// post sends one report and checks the answer; kind and snapshot are what
// a well-formed form carried.
func (es *eventServer) post(t *testing.T, contentType string, body []byte, kind string, snapshot []byte, formed bool) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/device/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer fuzz")
	rec := httptest.NewRecorder()
	es.handler.ServeHTTP(rec, req)
	switch {
	case rec.Code >= 500:
		t.Fatalf("%s: %d %s", es.name, rec.Code, rec.Body)
	case rec.Code >= 400:
		var p huma.ErrorModel
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("%s: %d answered as %q: %s", es.name, rec.Code, ct, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || !hasHan(p.Detail) {
			t.Fatalf("%s: %d without a Chinese detail: %s", es.name, rec.Code, rec.Body)
		}
		return
	case rec.Code != http.StatusOK && rec.Code != http.StatusCreated:
		t.Fatalf("%s: unexpected %d %s", es.name, rec.Code, rec.Body)
	}
	var st Stored
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.ID == 0 {
		t.Fatalf("%s: accepted without a record: %s", es.name, rec.Body)
	}
	if !formed {
		return // the raw body's kind and photo are not known here
	}
	ctx := actor.AsSystem(context.Background())
	ev, err := es.records.db.Event.Query().Where(entevent.ID(st.ID), entevent.CommunityID(es.place.CommunityID),
		entevent.KindEQ(entevent.Kind(kind))).Only(ctx)
	if err != nil {
		t.Fatalf("%s: accepted event %d is not a %s record: %v", es.name, st.ID, kind, err)
	}
	if v := viewOf(ev); v.ID != st.ID || v.DeviceLabel != es.place.Label {
		t.Fatalf("%s: event %d reads back as %+v", es.name, st.ID, v)
	}
	got, err := es.records.Snapshot(ctx, es.place.CommunityID, st.ID)
	switch {
	case len(snapshot) == 0 && err == nil:
		t.Fatalf("%s: event %d without a photo has one", es.name, st.ID)
	case len(snapshot) > 0 && (err != nil || !bytes.Equal(got, snapshot)):
		t.Fatalf("%s: event %d does not give back its photo: %v", es.name, st.ID, err)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
