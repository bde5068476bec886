package device

import (
	"context"
	"encoding/json"
	"time"

	"linli/internal/actor"
	entdevice "linli/internal/ent/device"
)

// DefaultPresenceGrace is how long devices have to be heard after the
// server's session with an external broker came back from a loss: devices
// reconnect to a restarted broker with a backoff of their own.
const DefaultPresenceGrace = 60 * time.Second

// WithPresenceGrace sets how long ResyncPresence waits for devices to
// answer before it marks the silent ones 离线 (0: DefaultPresenceGrace).
func WithPresenceGrace(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.presenceGrace = d
		}
	}
}

// ResyncPresence brings 在线/离线 back in step after this instance's
// session with the external broker was lost at lostAt. While it had no
// session, devices' last wills and announcements reached nobody (a
// restarted broker has forgotten the wills of the devices connected
// before), so 设备列表 may show a device 在线 that went away. It asks every
// bound device for its status, waits the grace window, then marks 离线
// every device still 在线 that was not heard (a status message or an HTTP
// request, both recorded in last_seen) since lostAt. Every device that is
// connected after the broker came back is heard: it answers the command, or
// it announces itself when it reconnects. Several instances may run this
// at once, each with its own lostAt.
//
// It returns nil once the update is stored, or ctx's error when ctx ends
// first; the next resync then starts over.
func (s *Service) ResyncPresence(ctx context.Context, lostAt time.Time) error {
	if s.broker == nil {
		return nil
	}
	asked, err := s.askStatus(ctx)
	if err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "presence resync: devices asked for their status", "asked", asked, "lost_at", lostAt, "grace", s.presenceGrace)
	wait := time.NewTimer(s.presenceGrace)
	defer wait.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wait.C:
	}
	gone, err := s.db.Device.Update().
		Where(entdevice.Online(true), entdevice.Or(entdevice.LastSeenLT(lostAt), entdevice.LastSeenIsNil())).
		SetOnline(false).Save(actor.AsSystem(ctx))
	if err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "presence resync: devices not heard since the broker session was lost are 离线", "asked", asked, "offline", gone, "lost_at", lostAt)
	return nil
}

// askStatus publishes the status command to every bound device, as a nudge
// goes out (at QoS 0: a connected device gets it over TCP, and one that
// reconnects announces itself anyway), and returns how many the broker took. Devices the database
// shows 离线 are asked too: one that came back while the server had no
// session announced itself to nobody.
func (s *Service) askStatus(ctx context.Context) (int, error) {
	devs, err := s.db.Device.Query().Select(entdevice.FieldID, entdevice.FieldCommunityID).All(actor.AsSystem(ctx))
	if err != nil {
		return 0, err
	}
	payload, _ := json.Marshal(Command{Type: "status"})
	sent, failed := s.publishEach(ctx, len(devs), 0, func(i int) (string, []byte) {
		return CmdTopic(devs[i].CommunityID, devs[i].ID), payload
	})
	if failed != nil {
		s.logger.WarnContext(ctx, "presence resync: status commands the broker did not take", "failed", len(devs)-sent, "err", failed)
	}
	return sent, ctx.Err()
}
