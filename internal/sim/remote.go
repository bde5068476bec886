package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// OpenCommand is the server's remote-opening command (see
// docs/device-protocol.md, 远程开门).
type OpenCommand struct {
	Type       string    `json:"type"`
	ID         string    `json:"id"`
	ResidentID int       `json:"resident_id"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// IgnoreCommands makes the device drop remote openings without an answer
// (on) or carry them out again (off).
func (d *Device) IgnoreCommands(on bool) {
	d.mu.Lock()
	d.ignoreCommands = on
	d.mu.Unlock()
}

// remoteOpen carries out a remote opening: the door opens, the device
// answers on its events topic and reports an unlock of type app. It runs
// outside the MQTT client's receive path, which must stay free to read
// the acknowledgement of the answer.
func (d *Device) remoteOpen(payload []byte) {
	var cmd OpenCommand
	if json.Unmarshal(payload, &cmd) != nil || cmd.ID == "" {
		return
	}
	d.mu.Lock()
	ignore, c := d.ignoreCommands, d.client
	d.mu.Unlock()
	if ignore || c == nil {
		return
	}
	if !cmd.ExpiresAt.IsZero() && time.Now().After(cmd.ExpiresAt) {
		d.logger.Info("remote opening expired before it arrived", "device", d.cred.DeviceID, "command", cmd.ID)
		return
	}
	now := time.Now()
	u := Unlock{Type: "app", ResidentID: cmd.ResidentID, At: now}
	d.mu.Lock()
	d.unlocks = append(d.unlocks, u)
	d.lastOpen = &u
	d.mu.Unlock()
	d.owned.Add(1)
	go func() {
		defer d.owned.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		ack, _ := json.Marshal(map[string]any{"type": "ack", "id": cmd.ID, "ok": true})
		if _, err := c.Publish(ctx, &paho.Publish{Topic: d.eventsTopic(), QoS: 1, Payload: ack}); err != nil {
			d.logger.Warn("answer remote opening", "device", d.cred.DeviceID, "err", err)
			return
		}
		d.reportAppUnlock(ctx, cmd.ResidentID, now)
	}()
}

// eventsTopic is where the device answers commands.
func (d *Device) eventsTopic() string {
	return fmt.Sprintf("linli/%d/device/%d/events", d.cfg.CommunityID, d.cred.DeviceID)
}

// reportAppUnlock reports the remote opening as an unlock of type app by
// the resident, retrying with the same event id.
func (d *Device) reportAppUnlock(ctx context.Context, residentID int, at time.Time) {
	ev := Event{ID: fmt.Sprintf("%s-%d-%d", d.cfg.Serial, at.UnixMilli(), eventSeq.Add(1)), Type: "unlock", Detail: "app"}
	fields := map[string]string{"event_id": ev.ID, "type": "unlock", "time": at.Format(time.RFC3339), "unlock_type": "app",
		"resident_id": strconv.Itoa(residentID)}
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
		d.logger.Warn("report remote opening", "device", d.cred.DeviceID, "err", err)
	}
	d.mu.Lock()
	d.events = append(d.events, ev)
	d.mu.Unlock()
}
