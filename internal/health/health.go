// Package health answers the probes of process supervisors and load
// balancers: /healthz (the process is up) and /readyz (the parts a request
// needs answer: database, MQTT broker, file store). Both are plain handlers
// outside the API: public, without a session, not in the OpenAPI document.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Timeout bounds each check, so that a hung database cannot hang the probe.
const Timeout = 2 * time.Second

// ErrDisabled is what a check returns for a part that is turned off by
// configuration (the MQTT broker with LINLI_MQTT_ADDR=off): it is reported
// but does not make the server unready.
var ErrDisabled = errors.New("health: disabled")

// Check is one part of readiness.
type Check struct {
	// Key names the part in the answer: database, mqtt, files.
	Key string
	// Down is the Chinese text shown when the part does not answer.
	Down string
	// Probe returns nil when the part works; it must honour ctx.
	Probe func(ctx context.Context) error
}

// Result is the state of one part in a /readyz answer.
type Result struct {
	Status  string `json:"status"`            // ok, down or disabled
	Message string `json:"message,omitempty"` // why the part is down, in Chinese
}

// Report is the body of a /readyz answer.
type Report struct {
	Status string            `json:"status"` // ok or unavailable
	Checks map[string]Result `json:"checks"`
}

// Checker runs the readiness checks.
type Checker struct {
	checks []Check
	logger *slog.Logger
}

// NewChecker returns a Checker of checks; failures are logged to logger.
func NewChecker(logger *slog.Logger, checks ...Check) *Checker {
	return &Checker{checks: checks, logger: logger}
}

// Ready runs every check at once, each bounded by Timeout, and reports
// whether all parts that are not disabled work.
func (c *Checker) Ready(ctx context.Context) (Report, bool) {
	rep := Report{Status: "ok", Checks: make(map[string]Result, len(c.checks))}
	errs := make([]error, len(c.checks))
	var wg sync.WaitGroup
	for i, ch := range c.checks {
		wg.Go(func() { errs[i] = run(ctx, ch.Probe) })
	}
	wg.Wait()
	ok := true
	for i, ch := range c.checks {
		switch err := errs[i]; {
		case err == nil:
			rep.Checks[ch.Key] = Result{Status: "ok"}
		case errors.Is(err, ErrDisabled):
			rep.Checks[ch.Key] = Result{Status: "disabled"}
		default:
			ok = false
			msg := ch.Down
			if errors.Is(err, context.DeadlineExceeded) {
				msg += "（检查超时）"
			}
			rep.Checks[ch.Key] = Result{Status: "down", Message: msg}
			c.logger.WarnContext(ctx, "not ready", "part", ch.Key, "err", err)
		}
	}
	if !ok {
		rep.Status = "unavailable"
	}
	return rep, ok
}

// run calls probe with a context bounded by Timeout and returns when the
// probe does or the time is up, whichever comes first. A probe that
// ignores its context (a file system call on a hung disk) finishes on its
// own; its answer is dropped.
func run(ctx context.Context, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- probe(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Live answers /healthz: 200 {"status":"ok"} while the process serves.
func Live() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// ServeHTTP answers /readyz: 200 with every part's state when all work,
// else 503 naming the parts that are down.
func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep, ok := c.Ready(r.Context())
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	write(w, status, rep)
}

func write(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	// Probes want the state now, never a cached one.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
