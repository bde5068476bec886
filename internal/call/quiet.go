package call

import (
	"context"

	"linli/internal/dnd"
	"linli/internal/ent/appphone"
)

// quiet returns which of phones are in 免打扰 now: their apps are left out
// of a room's call (the indoor monitor and 电话转移 are not).
func (d *Directory) quiet(ctx context.Context, phones []string) (map[string]bool, error) {
	rows, err := d.db.AppPhone.Query().Where(appphone.PhoneIn(phones...),
		appphone.Or(appphone.DndOn(true), appphone.DndScheduleEnabled(true))).All(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	now := d.now()
	for _, r := range rows {
		s := dnd.Settings{On: r.DndOn, ScheduleEnabled: r.DndScheduleEnabled, Schedule: r.DndSchedule}
		if dnd.Active(s, now) {
			out[r.Phone] = true
		}
	}
	return out, nil
}

// Notifier hears of door calls to rooms, to push them to residents' phones.
type Notifier interface {
	// RoomCalled: a station calls room roomID now.
	RoomCalled(ctx context.Context, roomID int, caller, callID string)
	// RoomMissed: nobody answered the call to room roomID.
	RoomMissed(ctx context.Context, roomID int, caller, callID string)
}
