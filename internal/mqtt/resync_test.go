package mqtt

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// resyncCall is one ResyncPresence the test answers.
type resyncCall struct {
	ctx    context.Context
	lostAt time.Time
	result chan error
}

// heldPresence hands every resync to the test, which decides how it ends.
type heldPresence struct{ calls chan resyncCall }

func (p heldPresence) ResyncPresence(ctx context.Context, lostAt time.Time) error {
	c := resyncCall{ctx: ctx, lostAt: lostAt, result: make(chan error)}
	p.calls <- c
	return <-c.result
}

// TestResyncAfterLosses follows the sessions of one instance: the first
// connection is no loss, a loss is resynced once the next session is set
// up, a loss during a resync cancels it and the next starts over from the
// earlier loss, and a set-up that finished after its session ended does
// not count. Every expected resync names the loss it is for, so a
// resync started where none should be shows as the wrong loss.
func TestResyncAfterLosses(t *testing.T) {
	p := heldPresence{calls: make(chan resyncCall)}
	r := &resyncer{presence: p, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	at := func(s int) time.Time { return time.Date(2026, 12, 1, 10, 0, s, 0, time.UTC) }
	next := func(want time.Time) resyncCall {
		t.Helper()
		select {
		case c := <-p.calls:
			if !c.lostAt.Equal(want) {
				t.Fatalf("resync for the loss at %s, want %s", c.lostAt.Format(time.TimeOnly), want.Format(time.TimeOnly))
			}
			return c
		case <-time.After(10 * time.Second):
			t.Fatalf("no resync for the loss at %s", want.Format(time.TimeOnly))
			return resyncCall{}
		}
	}
	cancelled := func(c resyncCall) {
		t.Helper()
		select {
		case <-c.ctx.Done():
			c.result <- c.ctx.Err()
		case <-time.After(10 * time.Second):
			t.Fatal("a loss did not cancel the running resync")
		}
	}

	// The broker ends the first session before it is set up (the server's
	// role was just added): no loss.
	r.lost(at(1), 1)
	r.ready(2)
	// The broker restarts.
	r.lost(at(2), 2)
	r.ready(3)
	first := next(at(2))
	// It restarts again during the grace window: the resync is cancelled
	// and starts over from the first loss.
	r.lost(at(3), 3)
	cancelled(first)
	r.ready(4)
	next(at(2)).result <- nil
	// A later loss is resynced from its own time.
	r.lost(at(4), 4)
	r.ready(5)
	c := next(at(4))
	// Session 6 ends while its set-up finishes; only session 7 resyncs.
	r.lost(at(5), 5)
	cancelled(c)
	running := func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.current != nil
	}
	for running() {
		time.Sleep(time.Millisecond)
	}
	r.lost(at(6), 6)
	r.ready(6)
	if running() {
		t.Fatal("a resync started on a session that had ended")
	}
	r.ready(7)
	c = next(at(4))
	// A resync that stored its update although a loss came meanwhile
	// leaves that loss to resync.
	r.lost(at(8), 7)
	<-c.ctx.Done()
	c.result <- nil
	r.ready(8)
	c = next(at(8))
	// Close cancels the running resync and waits for it.
	closed := make(chan struct{})
	go func() { r.close(); close(closed) }()
	cancelled(c)
	<-closed
	r.lost(at(9), 8)
	r.ready(9)
	if running() {
		t.Fatal("a resync started after close")
	}
}
