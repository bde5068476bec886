package device

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/mqtt"
	"linli/internal/store"
	"linli/internal/storetest"
)

// TestOpenAcrossInstances: the device's answer to a remote opening may
// reach another server instance on the same database; the instance that
// sent the command finds it by the command id. An answer for another
// device, a repeated answer and a refusal are handled; without an answer
// the opening times out.
func TestOpenAcrossInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.AsSystem(context.Background())
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		c, err := db.Community.Create().SetName("开门小区").SetRegionCode("440306").SetCommunityPassword("x").
			SetResidentRoles([]string{"业主"}).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		d, err := db.Device.Create().SetCommunityID(c.ID).SetKind("wall").SetIndex(1).SetSlot("wall::1").SetSerial("OPEN-1").
			SetBoundAt(time.Now()).SetTokenHash("t1").SetMqttPasswordHash("m1").SetSipPasswordSealed([]byte{0}).SetOnline(true).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var answer func(cmd OpenCommand)
		sender := NewService(db, nil, publishFunc(func(topic string, payload []byte) error {
			var cmd OpenCommand
			if err := json.Unmarshal(payload, &cmd); err != nil || topic != CmdTopic(c.ID, d.ID) {
				t.Errorf("command %s on %s", payload, topic)
			}
			go answer(cmd)
			return nil
		}), logger)
		other := NewService(db, nil, nil, logger)
		ack := func(deviceID int, a Ack) {
			b, _ := json.Marshal(a)
			other.DeviceMessage(ctx, deviceID, b)
		}
		req := OpenRequest{Device: d, Phone: "13900000001", ResidentID: 5, Timeout: 2 * time.Second}

		answer = func(cmd OpenCommand) {
			ack(d.ID+1, Ack{Type: "ack", ID: cmd.ID, OK: true}) // not this device's command: ignored
			ack(d.ID, Ack{Type: "ack", ID: cmd.ID, OK: true})
			ack(d.ID, Ack{Type: "ack", ID: cmd.ID, OK: false}) // repeated: ignored
		}
		if _, err := sender.Open(ctx, req); err != nil {
			t.Fatalf("opening answered by another instance: %v", err)
		}
		answer = func(cmd OpenCommand) { ack(d.ID, Ack{Type: "ack", ID: cmd.ID, OK: false, Message: "门锁故障"}) }
		if _, err := sender.Open(ctx, req); !errors.Is(err, errs.ErrConflict) || err.(*errs.Error).Message != "开门失败：门锁故障" {
			t.Errorf("refused opening: %v", err)
		}
		answer = func(OpenCommand) {}
		req.Timeout = 300 * time.Millisecond
		if _, err := sender.Open(ctx, req); errs.CodeOf(err) != errs.Timeout {
			t.Errorf("unanswered opening: %v", err)
		}
		cmds, err := db.DoorCommand.Query().Order(ent.Asc("id")).All(ctx)
		if err != nil || len(cmds) != 3 || cmds[0].AckedAt == nil || !cmds[0].Ok || cmds[1].Ok || cmds[2].AckedAt != nil {
			t.Errorf("commands recorded: %+v %v", cmds, err)
		}
		d.Online = false
		if _, err := sender.Open(ctx, req); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("offline device: %v", err)
		}
	})
}

// publishFunc is a Broker that only publishes, through itself.
type publishFunc func(topic string, payload []byte) error

func (f publishFunc) Publish(topic string, payload []byte, _ byte) error { return f(topic, payload) }

func (publishFunc) AddDevice(context.Context, mqtt.Device, string, string) error { return nil }

func (publishFunc) RemoveDevice(context.Context, string) error { return nil }
