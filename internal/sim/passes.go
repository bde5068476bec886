package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// PIN lockout of a door station (docs/device-protocol.md §5): after
// PINFailures wrong PINs in a row the keypad refuses every PIN for
// PINLockout: guessing one of 50 PINs on a door then takes days, not
// minutes.
const (
	PINFailures = 5
	PINLockout  = 60 * time.Second
)

// passState is what a door station keeps about visitor passes besides
// its whitelist: its own uses of each pass (the server's count arrives
// with the next sync) and the wrong-PIN counter.
type passState struct {
	uses        map[int]int
	wrongPINs   int
	lockedUntil time.Time
}

// PassResult is what happened to a QR code or PIN at the door.
type PassResult struct {
	Opened bool   `json:"opened"`
	PassID int    `json:"pass_id,omitempty"`
	Reason string `json:"reason,omitempty" doc:"未开门的原因"`
	Event  *Event `json:"event,omitempty" doc:"上报的开锁事件"`
}

// ScanQR opens the door for the QR text of a pass on the whitelist that
// is valid now and has uses left, and reports the use.
func (d *Device) ScanQR(ctx context.Context, code string) PassResult {
	code = strings.TrimSpace(code)
	return d.enterPass(ctx, "qrcode", func(e Entry) bool { return code != "" && e.QR == code })
}

// EnterPIN opens the door for the PIN of a pass, as ScanQR does. A PIN
// that belongs to no pass counts as wrong; PINFailures wrong ones in a row
// lock the keypad for PINLockout.
func (d *Device) EnterPIN(ctx context.Context, pin string) PassResult {
	pin = strings.TrimSpace(pin)
	d.mu.Lock()
	now := time.Now()
	if now.Before(d.passes.lockedUntil) {
		left := int(d.passes.lockedUntil.Sub(now).Seconds()) + 1
		d.mu.Unlock()
		return PassResult{Reason: fmt.Sprintf("密码错误次数过多，请 %d 秒后再试", left)}
	}
	d.mu.Unlock()
	return d.enterPass(ctx, "password", func(e Entry) bool { return len(pin) == 6 && e.PIN == pin })
}

// enterPass looks for the pass that match accepts and opens for it.
func (d *Device) enterPass(ctx context.Context, how string, match func(Entry) bool) PassResult {
	d.mu.Lock()
	var found *Entry
	for _, e := range d.whitelist {
		if e.Kind == "pass" && match(e) {
			found = &e
			break
		}
	}
	now := time.Now()
	if found == nil {
		res := PassResult{Reason: "无效的通行证"}
		if how == "password" {
			res.Reason = "密码错误"
			d.passes.wrongPINs++
			if d.passes.wrongPINs >= PINFailures {
				d.passes.wrongPINs = 0
				d.passes.lockedUntil = now.Add(PINLockout)
				res.Reason = fmt.Sprintf("密码连续错误 %d 次，%d 秒内不能输入密码", PINFailures, int(PINLockout.Seconds()))
			}
		}
		d.mu.Unlock()
		return res
	}
	if how == "password" {
		d.passes.wrongPINs = 0
	}
	e := *found
	if d.passes.uses == nil {
		d.passes.uses = map[int]int{}
	}
	used := max(d.passes.uses[e.PassID], e.Uses)
	switch {
	case e.ValidFrom != nil && now.Before(*e.ValidFrom):
		d.mu.Unlock()
		return PassResult{PassID: e.PassID, Reason: "通行证还未到开始时间"}
	case e.ValidUntil != nil && !now.Before(*e.ValidUntil):
		d.mu.Unlock()
		return PassResult{PassID: e.PassID, Reason: "通行证已过期"}
	case e.MaxUses > 0 && used >= e.MaxUses:
		d.mu.Unlock()
		return PassResult{PassID: e.PassID, Reason: "通行证次数已用完"}
	}
	d.passes.uses[e.PassID] = used + 1
	d.unlocks = append(d.unlocks, Unlock{Type: how, PassID: e.PassID, At: now})
	d.mu.Unlock()
	ev := d.reportPassUse(ctx, how, e.PassID, now)
	return PassResult{Opened: true, PassID: e.PassID, Event: &ev}
}

// reportPassUse reports an unlock with a pass, retrying with the same
// event id, as reportEvent does.
func (d *Device) reportPassUse(ctx context.Context, how string, passID int, at time.Time) Event {
	ev := Event{ID: fmt.Sprintf("%s-%d-%d", d.cfg.Serial, at.UnixMilli(), eventSeq.Add(1)), Type: "unlock", Detail: how + " pass " + strconv.Itoa(passID)}
	fields := map[string]string{"event_id": ev.ID, "type": "unlock", "unlock_type": how, "pass_id": strconv.Itoa(passID),
		"time": at.Format(time.RFC3339Nano)}
	snap := snapshot(d.cfg.Serial)
	var err error
	for attempt := range 3 {
		if err = d.postEvent(ctx, fields, snap); err == nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	ev.Status = "sent"
	if err != nil {
		ev.Status = err.Error()
		d.logger.Warn("report pass use", "device", d.cred.DeviceID, "event", ev.ID, "err", err)
	}
	d.mu.Lock()
	d.events = append(d.events, ev)
	d.mu.Unlock()
	return ev
}

// passControl adds POST /qr and POST /pin to the control API: the code or
// PIN comes as JSON ({"code": …} / {"pin": …}) or in the query.
func passControl(mux *http.ServeMux, device func(http.ResponseWriter, *http.Request) *Device) {
	read := func(w http.ResponseWriter, r *http.Request, name string) string {
		var body map[string]string
		if r.Body != nil {
			_ = json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body)
		}
		if v := body[name]; v != "" {
			return v
		}
		return r.URL.Query().Get(name)
	}
	mux.HandleFunc("POST /qr", func(w http.ResponseWriter, r *http.Request) {
		if d := device(w, r); d != nil {
			writeJSON(w, http.StatusOK, d.ScanQR(r.Context(), read(w, r, "code")))
		}
	})
	mux.HandleFunc("POST /pin", func(w http.ResponseWriter, r *http.Request) {
		if d := device(w, r); d != nil {
			writeJSON(w, http.StatusOK, d.EnterPIN(r.Context(), read(w, r, "pin")))
		}
	})
}
