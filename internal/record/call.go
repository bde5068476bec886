package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/device"
	"linli/internal/ent"
	entevent "linli/internal/ent/event"
	"linli/internal/ent/resident"
	"linli/internal/errs"
)

// Call results as records keep them (the SIP server's vocabulary).
var CallResults = map[string]string{
	"answered": "已接听", "missed": "未接听", "busy": "占线/拒接", "cancelled": "已取消", "forwarded": "已转移", "failed": "失败",
}

// Call is what the SIP server knows of a call at one moment: when it
// starts, when it is answered and when it ends. Zero fields are not known
// yet.
type Call struct {
	CallID           string
	CallerResidentID int // an app caller (监视 from the app)
	CallerName       string
	Number           string // as dialled
	Callee           string // the room's or device's label
	RoomID           int
	CalleeDeviceID   int
	Monitor          bool
	StartedAt        time.Time
	AnsweredAt       time.Time
	EndedAt          time.Time
	Answerer         string
	AnswererID       int
	Result           string
	Code             int
}

// sipEventID is the event id of a call the server recorded before the
// device reported it; a device's report for the call takes its place.
func sipEventID(callID string) string {
	sum := sha256.Sum256([]byte(callID))
	return "sip:" + hex.EncodeToString(sum[:])[:40]
}

// RecordCall writes what is known of call c placed by the caller at p into
// its 呼叫记录, creating the record on first sight. One record per Call-ID
// and community: when the calling door station reported the call (with its
// snapshot) first, that record is completed instead.
func (s *Service) RecordCall(ctx context.Context, p device.Place, c Call) error {
	ctx = actor.AsSystem(ctx)
	if len(c.CallID) > 200 {
		c.CallID = c.CallID[:200]
	}
	for attempt := 0; ; attempt++ {
		e, err := s.callRecord(ctx, p.CommunityID, c.CallID)
		if err != nil {
			return err
		}
		if e != nil {
			if e.DeviceID != p.DeviceID {
				s.logger.WarnContext(ctx, "call id already recorded for another device", "call_id", c.CallID, "device", p.DeviceID, "recorded", e.DeviceID)
				return nil
			}
			return s.completeCall(ctx, e, c)
		}
		start := c.StartedAt
		if start.IsZero() {
			start = s.now()
		}
		create := s.db.Event.Create().SetCommunityID(p.CommunityID).SetDeviceID(p.DeviceID).SetEventID(sipEventID(c.CallID)).
			SetKind(entevent.KindCall).SetTarget(trim(c.Number, 32)).SetDeviceLabel(trim(p.Label, 160)).
			SetNillableAreaID(p.AreaID).SetNillableBuildingID(p.BuildingID).SetNillableUnitID(p.UnitID).
			SetOccurredAt(start).SetReceivedAt(s.now()).SetContentHash("").SetCallID(c.CallID).SetMonitor(c.Monitor)
		if c.CallerResidentID > 0 {
			create.SetResidentID(c.CallerResidentID).SetResidentName(trim(c.CallerName, 50))
		}
		e, err = create.Save(ctx)
		if ent.IsConstraintError(err) && attempt == 0 {
			continue // the device's report arrived at the same moment: complete it
		}
		if err != nil {
			return err
		}
		return s.completeCall(ctx, e, c)
	}
}

// completeCall sets the signalling's fields of call record e.
func (s *Service) completeCall(ctx context.Context, e *ent.Event, c Call) error {
	u := s.db.Event.UpdateOneID(e.ID).SetMonitor(c.Monitor)
	if !c.StartedAt.IsZero() {
		u.SetOccurredAt(c.StartedAt)
	}
	if c.Callee != "" {
		u.SetCallee(trim(c.Callee, 160))
	}
	if c.RoomID > 0 {
		u.SetRoomID(c.RoomID)
	}
	if c.CalleeDeviceID > 0 {
		u.SetCalleeDeviceID(c.CalleeDeviceID)
	}
	if !c.AnsweredAt.IsZero() {
		u.SetAnsweredAt(c.AnsweredAt).SetAnswerer(trim(c.Answerer, 64))
		if c.AnswererID > 0 {
			room := c.RoomID
			if room == 0 && e.RoomID != nil {
				room = *e.RoomID
			}
			id, err := s.answerer(ctx, e.CommunityID, room, c.AnswererID)
			if err != nil {
				return err
			}
			if id > 0 {
				u.SetAnswererResidentID(id)
			}
		}
	}
	if !c.EndedAt.IsZero() {
		u.SetEndedAt(c.EndedAt).SetResult(c.Result).SetSipCode(c.Code)
		if !c.AnsweredAt.IsZero() && c.EndedAt.After(c.AnsweredAt) {
			u.SetTalkSeconds(int(c.EndedAt.Sub(c.AnsweredAt).Round(time.Second) / time.Second))
		}
	}
	return u.Exec(ctx)
}

// answerer returns the resident of community cid (of room roomID when
// known) who answered as resident id: an app signs in as one of its
// phone's resident rows, which may be of another room or community, so the
// row of the same phone in the called room is the one recorded. 0 when
// there is none.
func (s *Service) answerer(ctx context.Context, cid, roomID, id int) (int, error) {
	r, err := s.db.Resident.Get(ctx, id)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if r.CommunityID == cid && (roomID == 0 || r.RoomID == roomID) {
		return r.ID, nil
	}
	if r.Phone == "" || roomID == 0 {
		return 0, nil
	}
	same, err := s.db.Resident.Query().Where(resident.CommunityID(cid), resident.RoomID(roomID), resident.Phone(r.Phone)).First(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return same.ID, nil
}

// callRecord returns the call record of callID in community cid, or nil.
func (s *Service) callRecord(ctx context.Context, cid int, callID string) (*ent.Event, error) {
	e, err := s.db.Event.Query().Where(entevent.CommunityID(cid), entevent.CallID(callID), entevent.KindEQ(entevent.KindCall)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return e, err
}

// trim cuts s to at most n runes.
func trim(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// joinCall completes the server's record of a call with the device's report
// of it (its event id, snapshot and content hash), so that retries of the
// report find it.
func (s *Service) joinCall(ctx context.Context, p device.Place, r Report, call *ent.Event, key, sum string) (Stored, error) {
	n, err := s.db.Event.Update().Where(entevent.ID(call.ID), entevent.ContentHash("")).
		SetEventID(r.EventID).SetContentHash(sum).SetSnapshotKey(key).Save(ctx)
	if err == nil && n == 0 {
		// Another report of the call won: a retry of this one, or a conflict.
		prev, ferr := s.find(ctx, p.DeviceID, r.EventID)
		if ferr == nil && prev == nil {
			ferr = errs.New(errs.Conflict, "该通话已由另一事件上报过，同一通话只上报一次")
		}
		if key != "" && (prev == nil || prev.SnapshotKey != key) {
			_ = s.files.Delete(ctx, key)
		}
		if ferr != nil {
			return Stored{}, ferr
		}
		return s.same(prev, sum, nil)
	}
	if err != nil {
		if key != "" {
			_ = s.files.Delete(ctx, key)
		}
		return Stored{}, err
	}
	return Stored{ID: call.ID}, nil
}

// callAnswerer names who opened the door during a call (通话中开锁 with a
// call id): the resident who answered the call on the app, or what
// answered it (室内分机, 管理机1); for 监视 from the app, the resident
// watching. Only the call's own door station (caller or the station
// watched) can name it.
func (s *Service) callAnswerer(ctx context.Context, p device.Place, r Report, create *ent.EventCreate) error {
	if r.Kind != "unlock" || r.UnlockType != "call" || r.CallID == "" {
		return nil
	}
	call, err := s.callRecord(ctx, p.CommunityID, r.CallID)
	if err != nil || call == nil {
		return err
	}
	callee := call.CalleeDeviceID != nil && *call.CalleeDeviceID == p.DeviceID
	if call.DeviceID != p.DeviceID && !callee {
		return nil
	}
	switch {
	case call.Monitor && callee && call.ResidentID != nil:
		create.SetResidentID(*call.ResidentID).SetResidentName(call.ResidentName)
	case call.Monitor && callee:
		// The watching device: the last part of its label (室内分机, 管理机1).
		create.SetResidentName(trim(call.DeviceLabel[strings.LastIndex(call.DeviceLabel, "-")+1:], 50))
	case call.AnswererResidentID != nil:
		create.SetResidentID(*call.AnswererResidentID).SetResidentName(trim(call.Answerer, 50))
	case call.Answerer != "":
		create.SetResidentName(trim(call.Answerer, 50))
	}
	return nil
}

// StaleCall is how long a call may stay without an end before the janitor
// closes it: the instance that carried it stopped without reporting the end.
const StaleCall = 6 * time.Hour

// CloseStaleCalls ends the calls through the server that started more than
// StaleCall ago and never ended (失败, no SIP code), so that 呼叫记录 does
// not show them as 呼叫中 for ever. It says how many it closed.
func (s *Service) CloseStaleCalls(ctx context.Context) (int, error) {
	ctx = actor.AsSystem(ctx)
	now := s.now()
	cids, err := s.db.Community.Query().IDs(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, cid := range cids {
		// A day's window of the (community, kind, time) index: the janitor
		// runs hourly, so every lost call passes through it, and millions of
		// old records are not read each time.
		n, err := s.db.Event.Update().Where(entevent.CommunityID(cid), entevent.KindEQ(entevent.KindCall),
			entevent.OccurredAtLT(now.Add(-StaleCall)), entevent.OccurredAtGT(now.Add(-StaleCall-24*time.Hour)),
			entevent.CallIDNEQ(""), entevent.Result(""), entevent.EndedAtIsNil()).
			SetResult("failed").SetEndedAt(now).Save(ctx)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
