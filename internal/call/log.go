package call

import (
	"context"

	"linli/internal/actor"
	"linli/internal/device"
	entdevice "linli/internal/ent/device"
	"linli/internal/record"
	"linli/internal/sip"
)

// Log keeps the SIP server's calls as 呼叫记录.
type Log struct {
	dir     *Directory
	records *record.Service
	notify  []Notifier
}

// NewLog returns a Log writing through records; dir finds where callers
// stand; notify hear of calls to rooms and of missed ones.
func NewLog(dir *Directory, records *record.Service, notify ...Notifier) *Log {
	return &Log{dir: dir, records: records, notify: notify}
}

var _ sip.CallLog = (*Log)(nil)

// CallStarted records a call the server routed.
func (l *Log) CallStarted(ctx context.Context, c sip.Call) {
	l.write(ctx, c)
	if c.Route.RoomID != 0 && !c.Route.Monitor {
		for _, n := range l.notify {
			n.RoomCalled(ctx, c.Route.RoomID, c.Caller.Label, c.CallID)
		}
	}
}

// CallAnswered records who answered.
func (l *Log) CallAnswered(ctx context.Context, c sip.Call) { l.write(ctx, c) }

// CallEnded records how the call ended.
func (l *Log) CallEnded(ctx context.Context, c sip.Call) {
	l.write(ctx, c)
	if c.Route.RoomID != 0 && !c.Route.Monitor && c.AnsweredAt.IsZero() &&
		(c.Result == sip.ResultMissed || c.Result == sip.ResultCancelled || c.Result == sip.ResultBusy) {
		for _, n := range l.notify {
			n.RoomMissed(ctx, c.Route.RoomID, c.Caller.Label, c.CallID)
		}
	}
}

// write records c; a failure is logged, never passed to the call, which
// goes on regardless.
func (l *Log) write(ctx context.Context, c sip.Call) {
	p, err := l.place(ctx, c)
	if err == nil {
		err = l.records.RecordCall(ctx, p, record.Call{
			CallID: c.CallID, Number: c.Route.Number, Callee: c.Route.Target, RoomID: c.Route.RoomID,
			CalleeDeviceID: c.Route.DeviceID, Monitor: c.Route.Monitor, StartedAt: c.StartedAt, AnsweredAt: c.AnsweredAt,
			EndedAt: c.EndedAt, Answerer: c.Answerer, AnswererID: c.AnswererID, Result: c.Result, Code: c.Code,
			CallerResidentID: c.Caller.ResidentID, CallerName: c.Caller.Label,
		})
	}
	if err != nil {
		l.dir.logger.ErrorContext(ctx, "record a call", "call_id", c.CallID, "caller", c.Caller.Username, "err", err)
	}
}

// place is where the caller stands: a device's own place; for an app, the
// resident's (or staff member's) name at the place of the station it
// watches.
func (l *Log) place(ctx context.Context, c sip.Call) (device.Place, error) {
	sys := actor.AsSystem(ctx)
	id := c.Caller.DeviceID
	person := c.Caller.Kind == sip.KindApp || c.Caller.Kind == sip.KindStaff
	if person {
		id = c.Route.DeviceID
	}
	p := device.Place{CommunityID: c.Caller.CommunityID, Label: c.Caller.Label}
	if id == 0 {
		return p, nil
	}
	d, err := l.dir.db.Device.Query().Where(entdevice.ID(id), entdevice.CommunityID(c.Caller.CommunityID)).Only(sys)
	if err != nil {
		// Unbound since: keep the label the call started with.
		if !person {
			p.DeviceID = id
		}
		return p, nil
	}
	dp, err := device.PlaceOf(sys, l.dir.db.Client, d)
	if err != nil {
		return p, err
	}
	if person {
		dp.DeviceID, dp.Label = 0, c.Caller.Label
	}
	return dp, nil
}
