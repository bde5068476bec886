package device

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/doorcommand"
	"linli/internal/errs"
)

// Remote opening limits.
const (
	// OpensPerMinute bounds a phone's remote openings.
	OpensPerMinute = 10
	// ackPoll is how often a waiting opening looks for an answer another
	// server instance received (answers this instance receives wake it at once).
	ackPoll = 100 * time.Millisecond
)

// OpenCommand is the remote-opening command on a device's cmd topic.
type OpenCommand struct {
	Type       string    `json:"type"` // open
	ID         string    `json:"id" doc:"命令编号，设备在应答中原样带回"`
	ResidentID int       `json:"resident_id" doc:"开门的住户，设备上报 app 开锁事件时填入"`
	ExpiresAt  time.Time `json:"expires_at" doc:"此刻之后收到的命令不执行"`
}

// Ack is a device's answer to a command, on its events topic.
type Ack struct {
	Type    string `json:"type"` // ack
	ID      string `json:"id"`
	OK      bool   `json:"ok"`
	Message string `json:"message,omitempty"`
}

// OpenRequest is a resident's remote opening of a device.
type OpenRequest struct {
	Device     *ent.Device
	Phone      string
	ResidentID int
	// Timeout is how long to wait for the device's answer.
	Timeout time.Duration
}

// acks are the openings waiting on this instance, by command id.
type acks struct {
	mu      sync.Mutex
	waiting map[string]chan Ack
}

func (a *acks) add(id string) chan Ack {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waiting == nil {
		a.waiting = map[string]chan Ack{}
	}
	ch := make(chan Ack, 1)
	a.waiting[id] = ch
	return ch
}

func (a *acks) remove(id string) {
	a.mu.Lock()
	delete(a.waiting, id)
	a.mu.Unlock()
}

func (a *acks) deliver(ack Ack) {
	a.mu.Lock()
	ch := a.waiting[ack.ID]
	a.mu.Unlock()
	if ch != nil {
		select {
		case ch <- ack:
		default:
		}
	}
}

// Open sends the open command to the device of req and waits for its
// answer; it returns when the device said it opened. The unlock record is
// the device's own report (unlock_type app), never written here.
//
// Errors: errs.TooMany (the phone opened too often), errs.Conflict (the
// device is offline or could not open), errs.Timeout (no answer in time).
func (s *Service) Open(ctx context.Context, req OpenRequest) (time.Time, error) {
	sys := actor.AsSystem(ctx)
	d := req.Device
	if !d.Online || s.broker == nil {
		return time.Time{}, errs.New(errs.Conflict, "设备离线，无法开门")
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	cmd := OpenCommand{Type: "open", ID: hex.EncodeToString(b), ResidentID: req.ResidentID}
	now := s.now()
	cmd.ExpiresAt = now.Add(req.Timeout).UTC().Truncate(time.Second).Add(time.Second)
	// The limit is checked and the command recorded under one lock of the
	// phone, so that concurrent requests, on any instance, cannot pass it.
	err := s.db.InTx(sys, func(tx *ent.Tx) error {
		if err := s.db.Lock(sys, tx, "door-open:"+req.Phone); err != nil {
			return err
		}
		n, err := tx.DoorCommand.Query().Where(doorcommand.Phone(req.Phone), doorcommand.CreatedAtGT(now.Add(-time.Minute))).Count(sys)
		if err != nil {
			return err
		}
		if n >= OpensPerMinute {
			return errs.New(errs.TooMany, "开门过于频繁，请稍后再试")
		}
		return tx.DoorCommand.Create().SetCommandID(cmd.ID).SetCommunityID(d.CommunityID).SetDeviceID(d.ID).
			SetPhone(req.Phone).SetResidentID(req.ResidentID).SetCreatedAt(now).Exec(sys)
	})
	if err != nil {
		return time.Time{}, err
	}
	ch := s.acks.add(cmd.ID)
	defer s.acks.remove(cmd.ID)
	payload, _ := json.Marshal(cmd)
	if err := s.broker.Publish(CmdTopic(d.CommunityID, d.ID), payload, 1); err != nil {
		s.logger.WarnContext(ctx, "send open command", "device", d.ID, "err", err)
		return time.Time{}, errs.New(errs.Conflict, "设备离线，无法开门")
	}
	timeout := time.NewTimer(req.Timeout)
	defer timeout.Stop()
	poll := time.NewTicker(ackPoll)
	defer poll.Stop()
	for {
		select {
		case ack := <-ch:
			return s.opened(ack.OK, ack.Message)
		case <-poll.C:
			// The answer may have reached another instance.
			c, err := s.db.DoorCommand.Query().Where(doorcommand.CommandID(cmd.ID)).Only(sys)
			if err != nil {
				return time.Time{}, err
			}
			if c.AckedAt != nil {
				return s.opened(c.Ok, c.Message)
			}
		case <-timeout.C:
			return time.Time{}, errs.New(errs.Timeout, "开门超时：设备没有响应，请稍后再试")
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

func (s *Service) opened(ok bool, message string) (time.Time, error) {
	if !ok {
		if message == "" {
			message = "设备未能开门"
		}
		return time.Time{}, errs.New(errs.Conflict, "开门失败："+message)
	}
	return s.now(), nil
}

// DeviceMessage handles what device deviceID published on its events
// topic: an answer to a remote opening is recorded on the command (for the
// instance that waits for it, whichever it is) and wakes a waiter here.
func (s *Service) DeviceMessage(ctx context.Context, deviceID int, payload []byte) {
	var ack Ack
	if err := json.Unmarshal(payload, &ack); err != nil || ack.Type != "ack" || ack.ID == "" || len(ack.ID) > 32 {
		s.logger.WarnContext(ctx, "mqtt: device message is not an answer to a command", "device", deviceID)
		return
	}
	if len([]rune(ack.Message)) > 200 {
		ack.Message = string([]rune(ack.Message)[:200])
	}
	n, err := s.db.DoorCommand.Update().Where(doorcommand.CommandID(ack.ID), doorcommand.DeviceID(deviceID), doorcommand.AckedAtIsNil()).
		SetAckedAt(s.now()).SetOk(ack.OK).SetMessage(ack.Message).Save(actor.AsSystem(ctx))
	if err != nil {
		s.logger.ErrorContext(ctx, "record a device's answer", "device", deviceID, "command", ack.ID, "err", err)
		return
	}
	if n == 1 {
		s.acks.deliver(ack)
	}
}

// PurgeCommands deletes remote-opening commands older than a day.
func (s *Service) PurgeCommands(ctx context.Context) error {
	_, err := s.db.DoorCommand.Delete().Where(doorcommand.CreatedAtLT(s.now().Add(-24 * time.Hour))).Exec(actor.AsSystem(ctx))
	return err
}
