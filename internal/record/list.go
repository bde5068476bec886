package record

import (
	"context"
	"fmt"
	"time"

	"linli/internal/ent"
	entevent "linli/internal/ent/event"
	"linli/internal/errs"
	"linli/internal/store"
)

// Record is a record as 呼叫记录 and 开锁记录 show it.
type Record struct {
	ID             int       `json:"id"`
	DeviceID       int       `json:"device_id"`
	DeviceLabel    string    `json:"device_label" doc:"门禁信息，如 【测试小区1】-1区-2栋-1单元-门口机6"`
	Kind           string    `json:"kind" enum:"call,unlock" doc:"呼叫或开锁"`
	UnlockType     string    `json:"unlock_type,omitempty" doc:"开锁类型代码"`
	UnlockTypeName string    `json:"unlock_type_name,omitempty" doc:"开锁类型，如 刷卡、人脸、APP远程"`
	ResidentName   string    `json:"resident_name,omitempty" doc:"开锁业主"`
	Card           string    `json:"card,omitempty" doc:"卡号"`
	Target         string    `json:"target,omitempty" doc:"呼叫的房号或地址"`
	OccurredAt     time.Time `json:"occurred_at" doc:"呼叫时间 / 开锁时间（设备时钟）"`
	ReceivedAt     time.Time `json:"received_at" doc:"服务器收到的时间"`
	HasSnapshot    bool      `json:"has_snapshot" doc:"有抓拍照片"`
	// Calls through the SIP server.
	Callee      string     `json:"callee,omitempty" doc:"被叫：号码对应的房间或设备"`
	AnsweredAt  *time.Time `json:"answered_at,omitempty" doc:"接听时间"`
	EndedAt     *time.Time `json:"ended_at,omitempty" doc:"结束时间"`
	TalkSeconds int        `json:"talk_seconds" doc:"通话时长（秒）"`
	Answerer    string     `json:"answerer,omitempty" doc:"接听方：室内分机、业主姓名、电话转移 138****1234、管理机1"`
	Result      string     `json:"result,omitempty" enum:"answered,missed,busy,cancelled,forwarded,failed," doc:"结果代码；设备自行上报的呼叫为空"`
	ResultName  string     `json:"result_name,omitempty" doc:"结果：已接听、未接听、占线/拒接、已取消、已转移、失败（SIP 代码）、监视；通话中为 呼叫中"`
	SIPCode     int        `json:"sip_code,omitempty" doc:"最终 SIP 状态码"`
	Monitor     bool       `json:"monitor" doc:"监视（不算未接来电）"`
}

// resultName is how a call's result reads in 呼叫记录.
func resultName(e *ent.Event) string {
	switch {
	case e.Kind != entevent.KindCall || e.CallID == "" && e.Result == "":
		return ""
	case e.Monitor:
		return "监视"
	case e.Result == "":
		return "呼叫中"
	case e.Result == "failed" && e.SipCode > 0:
		return fmt.Sprintf("失败（%d）", e.SipCode)
	}
	return CallResults[e.Result]
}

func viewOf(e *ent.Event) Record {
	return Record{ID: e.ID, DeviceID: e.DeviceID, DeviceLabel: e.DeviceLabel, Kind: string(e.Kind), UnlockType: e.UnlockType,
		UnlockTypeName: UnlockTypes[e.UnlockType], ResidentName: e.ResidentName, Card: e.Card, Target: e.Target,
		OccurredAt: e.OccurredAt, ReceivedAt: e.ReceivedAt, HasSnapshot: e.SnapshotKey != "",
		Callee: e.Callee, AnsweredAt: e.AnsweredAt, EndedAt: e.EndedAt, TalkSeconds: e.TalkSeconds, Answerer: e.Answerer,
		Result: e.Result, ResultName: resultName(e), SIPCode: e.SipCode, Monitor: e.Monitor}
}

// Filter selects records: by place (区域/楼栋/单元), device, time range and
// unlock type. Zero values select everything.
type Filter struct {
	AreaID     int       `query:"area_id" minimum:"0" doc:"区域"`
	BuildingID int       `query:"building_id" minimum:"0" doc:"楼栋"`
	UnitID     int       `query:"unit_id" minimum:"0" doc:"单元"`
	DeviceID   int       `query:"device_id" minimum:"0" doc:"设备"`
	From       time.Time `query:"from" doc:"开始时间（含），RFC 3339"`
	To         time.Time `query:"to" doc:"结束时间（不含），RFC 3339"`
	UnlockType string    `query:"unlock_type" maxLength:"16" doc:"开锁类型代码"`
	Result     string    `query:"result" enum:"answered,missed,busy,cancelled,forwarded,failed,monitor," doc:"呼叫结果；monitor 为监视。未接听不含监视"`
}

func (s *Service) query(ctx context.Context, cid int, kind string, f Filter) (*ent.EventQuery, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, errs.Field("to", "结束时间必须晚于开始时间")
	}
	if f.UnlockType != "" && UnlockTypes[f.UnlockType] == "" {
		return nil, errs.Field("unlock_type", "开锁类型无效")
	}
	q := s.db.Event.Query().Where(entevent.CommunityID(cid), entevent.KindEQ(entevent.Kind(kind)))
	switch {
	case f.UnitID > 0:
		q.Where(entevent.UnitID(f.UnitID))
	case f.BuildingID > 0:
		q.Where(entevent.BuildingID(f.BuildingID))
	case f.AreaID > 0:
		q.Where(entevent.AreaID(f.AreaID))
	}
	if f.DeviceID > 0 {
		q.Where(entevent.DeviceID(f.DeviceID))
	}
	if !f.From.IsZero() {
		q.Where(entevent.OccurredAtGTE(f.From))
	}
	if !f.To.IsZero() {
		q.Where(entevent.OccurredAtLT(f.To))
	}
	if f.UnlockType != "" {
		q.Where(entevent.UnlockType(f.UnlockType))
	}
	switch {
	case f.Result == "monitor":
		q.Where(entevent.Monitor(true))
	case f.Result != "":
		q.Where(entevent.Result(f.Result), entevent.Monitor(false))
	}
	return q, nil
}

// List returns a page of the records of kind (call or unlock) of community
// cid, newest first, and how many match.
func (s *Service) List(ctx context.Context, cid int, kind string, f Filter, offset, limit int) ([]Record, int, error) {
	q, err := s.query(ctx, cid, kind, f)
	if err != nil {
		return nil, 0, err
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	es, err := q.Order(ent.Desc(entevent.FieldOccurredAt), ent.Desc(entevent.FieldID)).Offset(offset).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Record, len(es))
	for i, e := range es {
		out[i] = viewOf(e)
	}
	return out, total, nil
}

// MaxExport is the most rows one export holds.
const MaxExport = 100_000

// Each calls fn for every record of the filter, newest first, at most
// MaxExport, reading a batch at a time (each batch starts after the last
// record of the one before, so no rows are skipped over again).
func (s *Service) Each(ctx context.Context, cid int, kind string, f Filter, fn func(Record) error) error {
	q, err := s.query(ctx, cid, kind, f)
	if err != nil {
		return err
	}
	n, err := q.Clone().Count(ctx)
	if err != nil {
		return err
	}
	if n > MaxExport {
		return errs.Newf(errs.Invalid, "符合条件的记录有 %d 条，一次最多导出 %d 条，请缩小时间范围或选择单元", n, MaxExport)
	}
	const batch = 2000
	page := q.Clone()
	for {
		es, err := page.Order(ent.Desc(entevent.FieldOccurredAt), ent.Desc(entevent.FieldID)).Limit(batch).All(ctx)
		if err != nil {
			return err
		}
		for _, e := range es {
			if err := fn(viewOf(e)); err != nil {
				return err
			}
		}
		if len(es) < batch {
			return nil
		}
		last := es[len(es)-1]
		page = q.Clone().Where(entevent.Or(entevent.OccurredAtLT(last.OccurredAt),
			entevent.And(entevent.OccurredAt(last.OccurredAt), entevent.IDLT(last.ID))))
	}
}
