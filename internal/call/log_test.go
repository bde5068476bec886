package call

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"testing"
	"time"

	"linli/internal/blob"
	"linli/internal/device"
	"linli/internal/errs"
	"linli/internal/record"
	"linli/internal/sip"
	"linli/internal/store"
	"linli/internal/storetest"
)

func snapshot(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 32, 32)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestCallRecords: every routed call leaves one 呼叫记录 that the
// signalling fills in (answered, ended, result, talk time) and that the
// door station's snapshot joins by Call-ID, whether the report arrives
// while the call rings, after it ended, or before the server saw the call.
// An unlock during the call names whoever answered it.
func TestCallRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		w := newWorld(t, db)
		e := w.estate(t, "记录小区", "")
		zhang := w.resident(t, e.room0502, "张三", "13800000001", true, false)
		// The same phone in another community: the app may sign in as that row.
		zhangElsewhere := w.resident(t, w.estate(t, "别处小区", "").room0502, "张三", "13800000001", true, false)
		_, acc := w.signIn(t, "13800000001")
		files, err := blob.NewDir(t.TempDir())
		w.must(t, err)
		records := record.NewService(db, files, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		log := NewLog(w.dir, records)
		ctx := context.Background()
		door := w.account(t, dev(e.door1))
		place, err := device.PlaceOf(w.ctx, db.Client, e.door1)
		w.must(t, err)
		list := func(f record.Filter) []record.Record {
			t.Helper()
			rs, _, err := records.List(w.ctx, e.c.ID, "call", f, 0, 50)
			w.must(t, err)
			return rs
		}
		byID := func(id int) record.Record {
			t.Helper()
			for _, r := range list(record.Filter{}) {
				if r.ID == id {
					return r
				}
			}
			t.Fatalf("record %d not listed", id)
			return record.Record{}
		}
		report := func(p device.Place, r record.Report) (record.Stored, error) {
			if r.Time.IsZero() {
				r.Time = time.Now()
			}
			return records.Ingest(w.ctx, p, r)
		}
		t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
		rt, err := w.dir.Route(ctx, door, "0502")
		w.must(t, err)

		// 1. Answered on the app; the snapshot arrives during the call.
		c := sip.Call{CallID: "call-1@10.0.0.5", Caller: door, Route: rt, StartedAt: t0}
		log.CallStarted(ctx, c)
		rs := list(record.Filter{})
		if len(rs) != 1 || rs[0].ResultName != "呼叫中" || rs[0].Callee != "【记录小区】-1区-1栋-1单元-0502" || rs[0].Target != "0502" ||
			rs[0].DeviceLabel != "【记录小区】-1区-1栋-1单元-门口机1" || !rs[0].OccurredAt.Equal(t0) {
			t.Fatalf("after the call started: %+v", rs)
		}
		first := rs[0].ID
		c.AnsweredAt, c.Answerer, c.AnswererID = t0.Add(5*time.Second), "张三", zhangElsewhere.ID
		log.CallAnswered(ctx, c)
		ev1 := record.Report{EventID: "ev-1", Kind: "call", Target: "0502", CallID: c.CallID, Snapshot: snapshot(t), Time: t0}
		st, err := report(place, ev1)
		if err != nil || st.ID != first || st.Duplicate {
			t.Fatalf("snapshot during the call: %+v, %v; want record %d", st, err, first)
		}
		// 通话中开锁 names the resident who answered.
		un, err := report(place, record.Report{EventID: "ev-2", Kind: "unlock", UnlockType: "call", CallID: c.CallID})
		w.must(t, err)
		c.EndedAt, c.Result, c.Code = t0.Add(70*time.Second), sip.ResultAnswered, 200
		log.CallEnded(ctx, c)
		r := byID(first)
		if !r.HasSnapshot || r.Answerer != "张三" || r.TalkSeconds != 65 || r.Result != "answered" || r.ResultName != "已接听" ||
			r.AnsweredAt == nil || r.EndedAt == nil || r.Monitor {
			t.Errorf("answered call: %+v", r)
		}
		// A retry of the snapshot report is recognised, not recorded twice.
		st, err = report(place, ev1)
		if err != nil || !st.Duplicate || st.ID != first {
			t.Errorf("retry: %+v, %v", st, err)
		}
		// The resident recorded is the phone's row in the called room, never
		// another community's.
		if ev, err := db.Event.Get(w.ctx, first); err != nil || ev.AnswererResidentID == nil || *ev.AnswererResidentID != zhang.ID {
			t.Errorf("answerer resident: %v, %v; want %d", ev.AnswererResidentID, err, zhang.ID)
		}
		if ev, err := db.Event.Get(w.ctx, un.ID); err != nil || ev.ResidentID == nil || *ev.ResidentID != zhang.ID {
			t.Errorf("unlock resident: %v, %v; want %d", ev.ResidentID, err, zhang.ID)
		}
		unlocks, _, err := records.List(w.ctx, e.c.ID, "unlock", record.Filter{}, 0, 10)
		w.must(t, err)
		if len(unlocks) != 1 || unlocks[0].ID != un.ID || unlocks[0].ResidentName != "张三" || unlocks[0].UnlockTypeName != "通话中开锁" {
			t.Errorf("unlock during the call: %+v", unlocks)
		}

		// 2. Missed; the snapshot arrives after the call ended.
		c2 := sip.Call{CallID: "call-2", Caller: door, Route: rt, StartedAt: t0.Add(time.Second)}
		log.CallStarted(ctx, c2)
		c2.EndedAt, c2.Result, c2.Code = t0.Add(31*time.Second), sip.ResultMissed, 480
		log.CallEnded(ctx, c2)
		st2, err := report(place, record.Report{EventID: "ev-3", Kind: "call", Target: "0502", CallID: "call-2", Snapshot: snapshot(t)})
		w.must(t, err)
		if r := byID(st2.ID); !r.HasSnapshot || r.Result != "missed" || r.ResultName != "未接听" || r.Answerer != "" || r.TalkSeconds != 0 {
			t.Errorf("missed call with a late snapshot: %+v", r)
		}

		// 3. The door station reports before the server saw the call.
		st3, err := report(place, record.Report{EventID: "ev-4", Kind: "call", Target: "502", CallID: "call-3", Snapshot: snapshot(t)})
		w.must(t, err)
		c3 := sip.Call{CallID: "call-3", Caller: door, Route: rt, StartedAt: t0.Add(2 * time.Second)}
		log.CallStarted(ctx, c3)
		c3.AnsweredAt, c3.Answerer = t0.Add(4*time.Second), "室内分机"
		log.CallAnswered(ctx, c3)
		c3.EndedAt, c3.Result, c3.Code = t0.Add(14*time.Second), sip.ResultAnswered, 200
		log.CallEnded(ctx, c3)
		if r := byID(st3.ID); !r.HasSnapshot || r.Answerer != "室内分机" || r.TalkSeconds != 10 || r.Callee == "" {
			t.Errorf("call reported first by the device: %+v", r)
		}
		un3, err := report(place, record.Report{EventID: "ev-5", Kind: "unlock", UnlockType: "call", CallID: "call-3"})
		w.must(t, err)
		if us, _, _ := records.List(w.ctx, e.c.ID, "unlock", record.Filter{}, 0, 10); us[0].ID != un3.ID || us[0].ResidentName != "室内分机" {
			t.Errorf("unlock during a call the monitor answered: %+v", us[0])
		}

		// Another device cannot claim the call; the same call is reported once.
		other, err := device.PlaceOf(w.ctx, db.Client, e.door2)
		w.must(t, err)
		if _, err := report(other, record.Report{EventID: "x-1", Kind: "call", CallID: "call-1@10.0.0.5"}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("another device's report of the call: %v", err)
		}
		if _, err := report(place, record.Report{EventID: "ev-9", Kind: "call", CallID: "call-1@10.0.0.5"}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("a second report of the same call: %v", err)
		}
		if _, err := report(place, record.Report{EventID: "sip:abc", Kind: "call"}); err == nil {
			t.Error("an event id in the server's own form was accepted")
		}
		// An old-style report without a call id is a record of its own.
		old, err := report(place, record.Report{EventID: "ev-old", Kind: "call", Target: "0502"})
		w.must(t, err)
		if r := byID(old.ID); r.ResultName != "" || r.Result != "" {
			t.Errorf("a device-only call record: %+v", r)
		}

		// 4. 监视 from the app: marked, never missed; an unlock names the watcher.
		app := w.account(t, acc.Username)
		mrt, err := w.dir.Route(ctx, app, "MD1")
		w.must(t, err)
		m := sip.Call{CallID: "mon-1", Caller: app, Route: mrt, StartedAt: t0.Add(3 * time.Second),
			AnsweredAt: t0.Add(3 * time.Second), Answerer: "门口机1"}
		log.CallStarted(ctx, m)
		m.EndedAt, m.Result, m.Code = t0.Add(33*time.Second), sip.ResultAnswered, 200
		log.CallEnded(ctx, m)
		mons := list(record.Filter{Result: "monitor"})
		if len(mons) != 1 || !mons[0].Monitor || mons[0].ResultName != "监视" || mons[0].DeviceLabel != "张三" || mons[0].TalkSeconds != 30 {
			t.Errorf("monitor sessions: %+v", mons)
		}
		if missed := list(record.Filter{Result: "missed"}); len(missed) != 1 || missed[0].ID != st2.ID {
			t.Errorf("missed calls: %+v", missed)
		}
		if _, err := report(place, record.Report{EventID: "ev-6", Kind: "unlock", UnlockType: "call", CallID: "mon-1"}); err != nil {
			t.Fatal(err)
		}
		if us, _, _ := records.List(w.ctx, e.c.ID, "unlock", record.Filter{}, 0, 10); us[0].ResidentName != "张三" {
			t.Errorf("unlock while the app watched: %+v", us[0])
		}
		if n := len(list(record.Filter{})); n != 5 {
			t.Errorf("%d call records, want 5 (three calls, one old report, one 监视)", n)
		}

		// A call whose end was never reported is closed after a while,
		// calls that ended are left alone.
		log.CallStarted(ctx, sip.Call{CallID: "lost", Caller: door, Route: rt, StartedAt: time.Now().Add(-record.StaleCall - time.Minute)})
		log.CallStarted(ctx, sip.Call{CallID: "ringing", Caller: door, Route: rt, StartedAt: time.Now()})
		if n, err := records.CloseStaleCalls(w.ctx); err != nil || n != 1 {
			t.Errorf("closed %d stale calls, %v; want 1", n, err)
		}
		for _, r := range list(record.Filter{}) {
			if r.Target == "0502" && r.ResultName == "呼叫中" && r.OccurredAt.Before(t0) {
				t.Errorf("a lost call is still ringing: %+v", r)
			}
		}

		// The export carries the new columns.
		var b bytes.Buffer
		w.must(t, records.Export(w.ctx, e.c.ID, "call", record.Filter{}, &b))
		if b.Len() == 0 {
			t.Error("empty export")
		}
	})
}

// TestCallRecordRace: the server's start of a call and the door station's
// report of it arriving at the same moment still make one record, with the
// snapshot.
func TestCallRecordRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		w := newWorld(t, db)
		e := w.estate(t, "并发小区", "")
		w.resident(t, e.room0502, "张三", "13800000001", true, false)
		w.signIn(t, "13800000001")
		files, err := blob.NewDir(t.TempDir())
		w.must(t, err)
		records := record.NewService(db, files, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		log := NewLog(w.dir, records)
		door := w.account(t, dev(e.door1))
		place, err := device.PlaceOf(w.ctx, db.Client, e.door1)
		w.must(t, err)
		rt, err := w.dir.Route(context.Background(), door, "0502")
		w.must(t, err)
		const calls = 10
		for i := range calls {
			id := fmt.Sprintf("race-%d", i)
			done := make(chan error, 1)
			go func() {
				_, err := records.Ingest(w.ctx, place, record.Report{EventID: "ev-" + id, Kind: "call", Time: time.Now(), CallID: id, Snapshot: snapshot(t)})
				done <- err
			}()
			log.CallStarted(context.Background(), sip.Call{CallID: id, Caller: door, Route: rt, StartedAt: time.Now()})
			if err := <-done; err != nil {
				t.Errorf("%s: the report failed: %v", id, err)
			}
		}
		rs, total, err := records.List(w.ctx, e.c.ID, "call", record.Filter{}, 0, 50)
		w.must(t, err)
		if total != calls {
			t.Fatalf("%d records for %d calls", total, calls)
		}
		for _, r := range rs {
			if !r.HasSnapshot || r.Callee == "" {
				t.Errorf("record lacks the snapshot or the callee: %+v", r)
			}
		}
	})
}
