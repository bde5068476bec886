package mqtt

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Presence is what the connection to an external broker asks of the
// device domain after its session was lost: while the server had no
// session, devices' last wills and announcements reached nobody.
type Presence interface {
	// ResyncPresence asks every device for its status and, after a grace
	// window, marks 离线 those not heard since lostAt. It returns nil once
	// done, or ctx's error when ctx ended first.
	ResyncPresence(ctx context.Context, lostAt time.Time) error
}

// resyncer remembers when the server's broker session was lost and runs
// the presence resync once a new session is set up. A loss during a
// resync cancels it, and the next one starts over from the earlier loss,
// so that a device that went away during either outage is caught.
type resyncer struct {
	presence Presence // nil: no resync
	logger   *slog.Logger

	mu sync.Mutex
	// setUp says that a session was set up once: the end of a later one
	// is a loss. The first connection is none, nor is a session the broker
	// ends before this instance subscribed. up says that the current
	// session is set up.
	setUp, up, closed bool
	// downGen is the number of the last session that ended: a set-up
	// finishing after its session ended does not count.
	downGen int64
	// lostAt is the earliest loss not yet resynced (zero: none).
	lostAt  time.Time
	current *resync // the running resync; nil: none
	running sync.WaitGroup
}

// resync is one run of the presence resync.
type resync struct {
	cancel context.CancelFunc
	// lostSince is the first loss while it ran: what is left to resync
	// when it finished all the same.
	lostSince time.Time
}

// lost records that session number gen ended at.
func (r *resyncer) lost(at time.Time, gen int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.up, r.downGen = false, gen
	if !r.setUp || r.closed {
		return
	}
	if r.lostAt.IsZero() {
		r.lostAt = at
	}
	if c := r.current; c != nil {
		if c.lostSince.IsZero() {
			c.lostSince = at
		}
		c.cancel()
	}
	r.logger.Warn("mqtt: lost the session with the broker; device presence is checked again once it is back", "lost_at", r.lostAt)
}

// ready starts the resync after session number gen was set up, when one
// was lost before.
func (r *resyncer) ready(gen int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen <= r.downGen {
		return
	}
	r.setUp, r.up = true, true
	r.start()
}

// start runs the resync of the loss at lostAt on a session that is set
// up, unless one runs. The caller holds mu.
func (r *resyncer) start() {
	if r.closed || !r.up || r.presence == nil || r.lostAt.IsZero() || r.current != nil {
		return
	}
	lostAt := r.lostAt
	ctx, cancel := context.WithCancel(context.Background())
	run := &resync{cancel: cancel}
	r.current = run
	r.running.Add(1)
	go func() {
		defer r.running.Done()
		defer cancel()
		err := r.presence.ResyncPresence(ctx, lostAt)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.current = nil
		if err != nil && ctx.Err() == nil {
			// The database failed; the next session tries again.
			r.logger.Error("mqtt: presence resync", "err", err)
			return
		}
		if err == nil {
			r.lostAt = run.lostSince
		}
		// A loss while it ran leaves a resync to do; the session may
		// already be back.
		r.start()
	}()
}

// close cancels a running resync and waits for it; none starts after.
func (r *resyncer) close() {
	r.mu.Lock()
	r.closed = true
	if r.current != nil {
		r.current.cancel()
	}
	r.mu.Unlock()
	r.running.Wait()
}
