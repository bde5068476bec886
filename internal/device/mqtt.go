package device

import (
	"context"
	"crypto/subtle"
	"strconv"
	"strings"
	"sync"

	"linli/internal/actor"
	entdevice "linli/internal/ent/device"
	"linli/internal/ent/room"
	"linli/internal/mqtt"
	"linli/internal/whitelist"
)

// AuthenticateMQTT checks a device's MQTT login: username dev-<id> and the
// password from binding.
func (s *Service) AuthenticateMQTT(ctx context.Context, username, password string) (mqtt.Device, bool) {
	id, err := strconv.Atoi(strings.TrimPrefix(username, "dev-"))
	if err != nil || !strings.HasPrefix(username, "dev-") || password == "" {
		return mqtt.Device{}, false
	}
	d, err := s.db.Device.Get(actor.AsSystem(ctx), id)
	if err != nil || subtle.ConstantTimeCompare([]byte(d.MqttPasswordHash), []byte(HashSecret(password))) != 1 {
		return mqtt.Device{}, false
	}
	return mqtt.Device{CommunityID: d.CommunityID, DeviceID: d.ID}, true
}

// SetOnline records a device's MQTT presence (在线/离线) and last seen time.
func (s *Service) SetOnline(ctx context.Context, deviceID int, online bool, ip string) {
	u := s.db.Device.UpdateOneID(deviceID).SetOnline(online).SetLastSeen(s.now())
	if ip != "" {
		u.SetIP(ip)
	}
	if err := u.Exec(actor.AsSystem(ctx)); err != nil {
		s.logger.ErrorContext(ctx, "device presence", "device", deviceID, "online", online, "err", err)
	}
}

// CountOnline counts the bound devices that are 在线 (have an MQTT
// session), in every community, as all instances recorded them.
func (s *Service) CountOnline(ctx context.Context) (int, error) {
	return s.db.Device.Query().Where(entdevice.Online(true)).Count(actor.AsSystem(ctx))
}

// Broker is the MQTT broker devices keep a session with. It sends
// commands to their cmd topics and keeps their accounts: binding creates,
// and unbinding removes, each device's account (on an external broker),
// and either broker ends the session of credentials that were replaced or
// revoked.
type Broker interface {
	Publish(topic string, payload []byte, qos byte) error
	AddDevice(ctx context.Context, d mqtt.Device, username, password string) error
	RemoveDevice(ctx context.Context, username string) error
}

// Command is a message on a device's cmd topic.
type Command struct {
	Type    string `json:"type" doc:"sync：请同步白名单；status：请立即报告在线状态"`
	Version int64  `json:"version,omitempty" doc:"服务器当前的白名单版本"`
}

// nudgeWorkers is how many publishes of one nudge are under way at once:
// enough to keep the cores busy on the embedded broker and to overlap the
// acknowledgements of an external one, without a goroutine per device.
const nudgeWorkers = 16

// Nudge sends every bound device of the nudge's community its message
// (n.Payload for where the device stands), in parallel batches, at QoS 0:
// TCP delivers it to a connected device, and a device that was away syncs
// when it reconnects, so an acknowledgement would only double the packets
// of a fan-out to every device (and keep a copy of each until it came).
func (s *Service) Nudge(ctx context.Context, n *whitelist.Nudge) {
	if s.broker == nil {
		return
	}
	targets, err := s.nudgeTargets(actor.AsSystem(ctx), n)
	if err != nil {
		s.logger.ErrorContext(ctx, "nudge devices", "community", n.CommunityID, "err", err)
		return
	}
	sent, failed := s.publishEach(ctx, len(targets), 0, func(i int) (string, []byte) {
		return CmdTopic(targets[i].CommunityID, targets[i].DeviceID), n.Payload(targets[i])
	})
	if failed != nil {
		s.logger.WarnContext(ctx, "nudge devices", "community", n.CommunityID, "sent", sent, "failed", len(targets)-sent, "err", failed)
	}
}

// publishEach publishes message i of n (its topic and payload from msg)
// from nudgeWorkers goroutines at QoS qos, and stops early when ctx ends.
// It returns how many the broker took and the first error of those it did
// not.
func (s *Service) publishEach(ctx context.Context, n int, qos byte, msg func(i int) (topic string, payload []byte)) (sent int, failed error) {
	next := make(chan int)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for range min(nudgeWorkers, n) {
		wg.Go(func() {
			for i := range next {
				topic, payload := msg(i)
				err := s.broker.Publish(topic, payload, qos)
				mu.Lock()
				if err == nil {
					sent++
				} else if failed == nil {
					failed = err
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return sent, failed
}

// nudgeTargets returns where each bound device of n's community stands,
// in two queries whatever their number; for a bare nudge only the device
// ids are needed.
func (s *Service) nudgeTargets(ctx context.Context, n *whitelist.Nudge) ([]whitelist.Location, error) {
	q := s.db.Device.Query().Where(entdevice.CommunityID(n.CommunityID))
	if n.Bare() {
		ids, err := q.IDs(ctx)
		out := make([]whitelist.Location, len(ids))
		for i, id := range ids {
			out[i] = whitelist.Location{CommunityID: n.CommunityID, DeviceID: id}
		}
		return out, err
	}
	devs, err := q.Select(entdevice.FieldCommunityID, entdevice.FieldKind, entdevice.FieldUnitID, entdevice.FieldRoomID, entdevice.FieldOrientation).All(ctx)
	if err != nil {
		return nil, err
	}
	var rooms []struct {
		ID     int `json:"id"`
		UnitID int `json:"unit_id"`
	}
	if err := s.db.Room.Query().Where(room.CommunityID(n.CommunityID)).Select(room.FieldID, room.FieldUnitID).Scan(ctx, &rooms); err != nil {
		return nil, err
	}
	unitOf := make(map[int]int, len(rooms))
	for _, r := range rooms {
		unitOf[r.ID] = r.UnitID
	}
	out := make([]whitelist.Location, len(devs))
	for i, d := range devs {
		out[i] = location(d, unitOf)
	}
	return out, nil
}

// ResetPresence marks every device offline; the broker reports them online
// again as they reconnect. Called at start, when no device is connected yet.
func (s *Service) ResetPresence(ctx context.Context) error {
	return s.db.Device.Update().Where(entdevice.Online(true)).SetOnline(false).Exec(actor.AsSystem(ctx))
}
