// Package record keeps what devices report: calls (呼叫记录) and unlocks
// (开锁记录), each with an optional JPEG snapshot (抓拍照片). Reports are
// idempotent on the device's own event id; records and snapshots older
// than the retention period are deleted by a background job.
package record

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/blob"
	"linli/internal/device"
	"linli/internal/ent"
	entcard "linli/internal/ent/card"
	entevent "linli/internal/ent/event"
	entpass "linli/internal/ent/pass"
	"linli/internal/ent/resident"
	"linli/internal/errs"
	"linli/internal/imaging"
	"linli/internal/store"
	"linli/internal/validate"
)

// UnlockTypes names every way a door opens; devices report the code, the
// console shows the name.
var UnlockTypes = map[string]string{
	"card": "刷卡", "face": "人脸", "password": "密码", "app": "APP远程", "call": "通话中开锁",
	"qrcode": "二维码", "management": "管理机", "id_card": "身份证", "button": "出门按钮", "other": "其他",
}

// MaxSnapshotBytes bounds a snapshot upload.
const MaxSnapshotBytes = 1 << 20

// ClockAhead is how far ahead of the server a device's event time may be;
// a later one is kept at its arrival time.
const ClockAhead = 10 * time.Minute

var snapshotLimits = imaging.Limits{MaxBytes: MaxSnapshotBytes, MinWidth: 16, MinHeight: 16, MaxWidth: 4096, MaxHeight: 4096, Label: "抓拍照片"}

// Service stores and lists records.
type Service struct {
	db      *store.Store
	files   blob.Store
	devices Devices
	passes  Passes
	logger  *slog.Logger
	now     func() time.Time
}

// Devices tells where the device behind a device request stands.
type Devices interface {
	Place(ctx context.Context) (device.Place, error)
}

// Passes counts a use of a visitor pass a device reported: once per device
// and event id, however often the report is sent.
type Passes interface {
	CountUse(ctx context.Context, communityID, deviceID, passID int, eventID string, at time.Time) error
}

// NewService returns a Service that stores snapshots in files; devices
// places the devices that report events and passes counts the visitor
// passes they were opened with.
func NewService(db *store.Store, files blob.Store, devices Devices, passes Passes, logger *slog.Logger) *Service {
	return &Service{db: db, files: files, devices: devices, passes: passes, logger: logger, now: time.Now}
}

// Report is one event as a device sends it.
type Report struct {
	EventID    string
	Kind       string // call or unlock
	Time       time.Time
	UnlockType string
	Card       string
	ResidentID int
	Target     string
	CallID     string // the SIP Call-ID of the call this event belongs to, or ""
	PassID     int    // the visitor pass of a qrcode or password unlock, or 0
	Snapshot   []byte // JPEG, or nil
}

// Stored says what became of a report.
type Stored struct {
	ID        int  `json:"id" doc:"记录编号"`
	Duplicate bool `json:"duplicate" doc:"同一事件已经记录过（重发）"`
}

func (r Report) hash() string {
	snap := sha256.Sum256(r.Snapshot)
	if r.Snapshot == nil {
		snap = [32]byte{}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%d\x00%s\x00%x", r.Kind, r.EventID, r.Time.UTC().Format(time.RFC3339Nano),
		r.UnlockType, r.Card, r.ResidentID, r.Target, snap)
	if r.CallID != "" {
		// Reports without a call id hash as they always did.
		fmt.Fprintf(h, "\x00%s", r.CallID)
	}
	if r.PassID != 0 {
		fmt.Fprintf(h, "\x00pass:%d", r.PassID)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// check validates a report and normalises it.
func (r *Report) check() error {
	r.EventID, r.Card, r.Target = strings.TrimSpace(r.EventID), strings.ToUpper(strings.TrimSpace(r.Card)), strings.TrimSpace(r.Target)
	r.CallID = strings.TrimSpace(r.CallID)
	switch {
	case len(r.CallID) > 200:
		return errs.Field("call_id", "call_id 最多 200 个字符（SIP 呼叫的 Call-ID）")
	case strings.HasPrefix(r.EventID, "sip:"):
		return errs.Field("event_id", "事件编号不能以 sip: 开头（服务器保留）")
	case r.EventID == "" || len(r.EventID) > 64:
		return errs.Field("event_id", "事件编号应为 1 到 64 个字符，由设备生成且不重复")
	case r.Kind != "call" && r.Kind != "unlock":
		return errs.Field("type", "事件类型只能是 call（呼叫）或 unlock（开锁）")
	case r.Time.IsZero():
		return errs.Field("time", "缺少事件时间（RFC 3339，如 2026-01-28T16:43:34+08:00）")
	case r.Kind == "unlock" && UnlockTypes[r.UnlockType] == "":
		return errs.Field("unlock_type", "开锁类型无效：card、face、password、app、call、qrcode、management、id_card、button 或 other")
	case r.Kind == "call" && r.UnlockType != "":
		return errs.Field("unlock_type", "呼叫事件没有开锁类型")
	case len(r.Card) > 20:
		return errs.Field("card", "卡号最多 20 位")
	case len(r.Target) > 32:
		return errs.Field("target", "呼叫号码最多 32 个字符")
	case r.PassID != 0 && (r.Kind != "unlock" || r.UnlockType != "qrcode" && r.UnlockType != "password"):
		return errs.Field("pass_id", "pass_id 只用于二维码（qrcode）或密码（password）开锁")
	}
	// PostgreSQL stores no NUL and no broken UTF-8 in text: refuse them here
	// rather than fail the insert.
	for _, f := range []struct{ field, label, value string }{
		{"event_id", "事件编号", r.EventID}, {"card", "卡号", r.Card}, {"target", "呼叫号码", r.Target}, {"call_id", "call_id", r.CallID},
	} {
		if _, err := validate.Text(f.field, f.label, f.value, 0, len(f.value)); err != nil {
			return err
		}
	}
	if r.Snapshot != nil {
		// The header and the end marker are checked, not every pixel: a
		// thousand door stations upload at once, and the photo is only ever
		// shown as a JPEG (with nosniff), never decoded by the server again.
		if err := imaging.Check("snapshot", r.Snapshot, snapshotLimits); err != nil {
			return err
		}
		if !bytes.HasPrefix(r.Snapshot, []byte{0xFF, 0xD8, 0xFF}) {
			return errs.Field("snapshot", "抓拍照片必须是 JPEG")
		}
		if !bytes.HasSuffix(bytes.TrimRight(r.Snapshot, "\x00"), []byte{0xFF, 0xD9}) {
			return errs.Field("snapshot", "抓拍照片已损坏或不完整（缺少 JPEG 结束标记）")
		}
	}
	return nil
}

// Ingest stores a report of the device at p. The same event id with the
// same content answers the record already stored (Duplicate); with other
// content it is refused.
//
// Errors: errs.Invalid, errs.Conflict (the event id was used for another event).
func (s *Service) Ingest(ctx context.Context, p device.Place, r Report) (Stored, error) {
	if err := r.check(); err != nil {
		return Stored{}, err
	}
	sum := r.hash()
	if prev, err := s.find(ctx, p.DeviceID, r.EventID); err != nil || prev != nil {
		return s.same(prev, sum, err)
	}
	var call *ent.Event
	if r.CallID != "" && r.Kind == "call" {
		var err error
		if call, err = s.callRecord(ctx, p.CommunityID, r.CallID); err != nil {
			return Stored{}, err
		}
		if call != nil && call.DeviceID != p.DeviceID {
			return Stored{}, errs.Newf(errs.Conflict, "call_id %s 是另一台设备的通话，不能上报到本设备", r.CallID)
		}
		if call != nil && call.ContentHash != "" {
			return Stored{}, errs.Newf(errs.Conflict, "该通话已由事件 %s 上报过，同一通话只上报一次", call.EventID)
		}
	}
	key := ""
	if r.Snapshot != nil {
		// Named by content: a retry writes the same file, a conflicting
		// report never overwrites the first one's photo.
		key = fmt.Sprintf(snapshotPrefix+"%d/%s/%d-%s.jpg", p.CommunityID, r.Time.UTC().Format("200601"), p.DeviceID, sum[:32])
		if err := s.files.Put(ctx, key, r.Snapshot); err != nil {
			return Stored{}, err
		}
	}
	if call != nil {
		return s.joinCall(ctx, p, r, call, key, sum)
	}
	// A device whose clock runs ahead would put its events above every
	// other record, and out of reach of the retention, for as long as its
	// clock is wrong: such an event is kept at the time it arrived.
	if now := s.now(); r.Time.After(now.Add(ClockAhead)) {
		s.logger.WarnContext(ctx, "device clock ahead: event kept at its arrival time", "device", p.DeviceID, "event", r.EventID, "device_time", r.Time)
		r.Time = now
	}
	create := s.db.Event.Create().SetCommunityID(p.CommunityID).SetDeviceID(p.DeviceID).SetEventID(r.EventID).
		SetKind(entevent.Kind(r.Kind)).SetUnlockType(r.UnlockType).SetCard(r.Card).SetTarget(r.Target).
		SetDeviceLabel(p.Label).SetNillableAreaID(p.AreaID).SetNillableBuildingID(p.BuildingID).SetNillableUnitID(p.UnitID).
		SetOccurredAt(r.Time).SetReceivedAt(s.now()).SetSnapshotKey(key).SetContentHash(sum).SetCallID(r.CallID)
	if err := s.resident(ctx, p.CommunityID, r, create); err != nil {
		return Stored{}, err
	}
	if err := s.visitor(ctx, p.CommunityID, r, create); err != nil {
		return Stored{}, err
	}
	if err := s.callAnswerer(ctx, p, r, create); err != nil {
		return Stored{}, err
	}
	e, err := create.Save(ctx)
	if ent.IsConstraintError(err) && r.CallID != "" && r.Kind == "call" {
		// The server recorded the call at the same moment: join it.
		if call, cerr := s.callRecord(ctx, p.CommunityID, r.CallID); cerr == nil && call != nil && call.DeviceID == p.DeviceID && call.ContentHash == "" {
			return s.joinCall(ctx, p, r, call, key, sum)
		}
	}
	if ent.IsConstraintError(err) {
		// Another copy of the same report won the race.
		prev, ferr := s.find(ctx, p.DeviceID, r.EventID)
		if ferr == nil && prev == nil {
			// Not this event: another report of the same call won.
			if key != "" {
				_ = s.files.Delete(ctx, key)
			}
			return Stored{}, errs.New(errs.Conflict, "该通话已由另一事件上报过，同一通话只上报一次")
		}
		if ferr == nil && prev != nil && prev.SnapshotKey != key && key != "" {
			_ = s.files.Delete(ctx, key)
		}
		return s.same(prev, sum, ferr)
	}
	if err != nil {
		// The file stays: a copy of the same report that arrived at the same
		// time may have stored the same key with its record. If none did,
		// the orphan sweep removes it.
		return Stored{}, err
	}
	return Stored{ID: e.ID}, nil
}

func (s *Service) find(ctx context.Context, deviceID int, eventID string) (*ent.Event, error) {
	e, err := s.db.Event.Query().Where(entevent.DeviceID(deviceID), entevent.EventID(eventID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return e, err
}

func (s *Service) same(prev *ent.Event, sum string, err error) (Stored, error) {
	if err != nil {
		return Stored{}, err
	}
	if prev.ContentHash != sum {
		return Stored{}, errs.Newf(errs.Conflict, "事件编号 %s 已用于另一条内容不同的事件", prev.EventID)
	}
	return Stored{ID: prev.ID, Duplicate: true}, nil
}

// resident names who opened: the owner of the card, or the resident whose
// face or app it was.
func (s *Service) resident(ctx context.Context, cid int, r Report, create *ent.EventCreate) error {
	id := r.ResidentID
	if id == 0 && r.Card != "" {
		c, err := s.db.Card.Query().Where(entcard.CommunityID(cid), entcard.Number(r.Card)).
			Order(ent.Desc(entcard.FieldID)).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if c != nil && c.ResidentID != nil {
			id = *c.ResidentID
		}
	}
	if id == 0 {
		return nil
	}
	res, err := s.db.Resident.Query().Where(resident.ID(id), resident.CommunityID(cid)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil // gone meanwhile, or not of this community: record without a name
	}
	if err != nil {
		return err
	}
	create.SetResidentID(res.ID).SetResidentName(res.Name)
	return nil
}

// Purge deletes records and snapshots received before now-keep, a batch at
// a time, and says how many it deleted.
func (s *Service) Purge(ctx context.Context, keep time.Duration) (int, error) {
	sys := actor.AsSystem(ctx)
	cut := s.now().Add(-keep)
	total := 0
	for {
		old, err := s.db.Event.Query().Where(entevent.ReceivedAtLT(cut)).Limit(1000).
			Select(entevent.FieldID, entevent.FieldSnapshotKey).All(sys)
		if err != nil || len(old) == 0 {
			return total, err
		}
		ids := make([]int, len(old))
		for i, e := range old {
			ids[i] = e.ID
		}
		if _, err := s.db.Event.Delete().Where(entevent.IDIn(ids...)).Exec(sys); err != nil {
			return total, err
		}
		for _, e := range old {
			if e.SnapshotKey != "" {
				if err := s.files.Delete(ctx, e.SnapshotKey); err != nil {
					s.logger.WarnContext(ctx, "delete snapshot", "key", e.SnapshotKey, "err", err)
				}
			}
		}
		total += len(old)
	}
}

// Snapshot returns the photo of record id of community cid.
//
// Errors: errs.NotFound (no record, or no photo).
func (s *Service) Snapshot(ctx context.Context, cid, id int) ([]byte, error) {
	e, err := s.db.Event.Query().Where(entevent.ID(id), entevent.CommunityID(cid)).Only(ctx)
	if err != nil {
		return nil, store.Map(err, "记录")
	}
	if e.SnapshotKey == "" {
		return nil, errs.New(errs.NotFound, "这条记录没有抓拍照片")
	}
	data, err := s.files.Get(ctx, e.SnapshotKey)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, errs.New(errs.NotFound, "抓拍照片已过保存期限被删除")
	}
	return data, err
}

// parseResidentID reads the optional resident id form field.
func parseResidentID(v string) (int, error) {
	if strings.TrimSpace(v) == "" {
		return 0, nil
	}
	id, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || id < 1 {
		return 0, errs.Field("resident_id", "业主编号应为正整数")
	}
	return id, nil
}

// parsePassID reads the optional pass id form field.
func parsePassID(v string) (int, error) {
	if strings.TrimSpace(v) == "" {
		return 0, nil
	}
	id, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || id < 1 {
		return 0, errs.Field("pass_id", "通行证编号应为正整数")
	}
	return id, nil
}

// visitor names the visitor of a pass unlock (二维码 or 密码 with a pass)
// in 开锁记录.
func (s *Service) visitor(ctx context.Context, cid int, r Report, create *ent.EventCreate) error {
	if r.PassID == 0 {
		return nil
	}
	p, err := s.db.Pass.Query().Where(entpass.ID(r.PassID), entpass.CommunityID(cid)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	create.SetResidentName("访客 " + p.VisitorName)
	return nil
}
