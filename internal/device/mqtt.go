package device

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"strconv"
	"strings"

	"linli/internal/actor"
	entdevice "linli/internal/ent/device"
	"linli/internal/mqtt"
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
	Publish(topic string, payload []byte) error
	AddDevice(ctx context.Context, d mqtt.Device, username, password string) error
	RemoveDevice(ctx context.Context, username string) error
}

// Command is a message on a device's cmd topic.
type Command struct {
	Type    string `json:"type" doc:"sync：请同步白名单；status：请立即报告在线状态"`
	Version int64  `json:"version,omitempty" doc:"服务器当前的白名单版本"`
}

// Nudge tells every bound device of community cid to sync to version.
func (s *Service) Nudge(ctx context.Context, cid int, version int64) {
	if s.broker == nil {
		return
	}
	devs, err := s.db.Device.Query().Where(entdevice.CommunityID(cid)).Select(entdevice.FieldID).All(actor.AsSystem(ctx))
	if err != nil {
		s.logger.ErrorContext(ctx, "nudge devices", "community", cid, "err", err)
		return
	}
	payload, _ := json.Marshal(Command{Type: "sync", Version: version})
	for _, d := range devs {
		if err := s.broker.Publish(CmdTopic(cid, d.ID), payload); err != nil {
			s.logger.WarnContext(ctx, "nudge device", "device", d.ID, "err", err)
		}
	}
}

// ResetPresence marks every device offline; the broker reports them online
// again as they reconnect. Called at start, when no device is connected yet.
func (s *Service) ResetPresence(ctx context.Context) error {
	return s.db.Device.Update().Where(entdevice.Online(true)).SetOnline(false).Exec(actor.AsSystem(ctx))
}
