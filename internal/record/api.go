package record

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/errs"
	"linli/internal/httpapi"
	"linli/internal/perm"
	"linli/internal/region"
	"linli/internal/xlsx"
)

type eventForm struct {
	EventID    string        `form:"event_id" required:"true" doc:"设备生成的事件编号，重发时不变"`
	Type       string        `form:"type" required:"true" doc:"call 呼叫；unlock 开锁"`
	Time       string        `form:"time" required:"true" doc:"事件时间（设备时钟），RFC 3339"`
	UnlockType string        `form:"unlock_type" required:"false" doc:"开锁类型：card 刷卡、face 人脸、password 密码、app APP远程、call 通话中开锁、qrcode 二维码、management 管理机、id_card 身份证、button 出门按钮、other 其他"`
	Card       string        `form:"card" required:"false" doc:"刷卡开锁的卡号"`
	ResidentID string        `form:"resident_id" required:"false" doc:"人脸或 APP 开锁的业主编号"`
	Target     string        `form:"target" required:"false" doc:"呼叫的房号或地址，如 0502"`
	CallID     string        `form:"call_id" required:"false" doc:"经服务器 SIP 呼叫时的 Call-ID：呼叫事件的抓拍照片并入该通话的呼叫记录；通话中开锁（unlock_type=call）据此记录接听的业主"`
	PassID     string        `form:"pass_id" required:"false" doc:"二维码或密码开锁时所用访客通行证的编号（白名单条目的 pass_id）"`
	Snapshot   huma.FormFile `form:"snapshot" required:"false" doc:"抓拍照片，JPEG，最大 1 MB"`
}

type eventInput struct {
	RawBody huma.MultipartFormFiles[eventForm]
}

type eventOutput struct {
	Status int
	Body   Stored
}

type listInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	Filter
	httpapi.PageParams
}

type exportInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	Filter
}

type snapshotInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	ID  int `path:"id" minimum:"1" doc:"记录编号"`
}

// Register adds the device's event report and the console's record lists.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("device-report-event", http.MethodPost, "/device/v1/events", "上报呼叫或开锁事件", auth.DeviceOnly(),
		httpapi.Tags("设备接口"),
		httpapi.Security("device"),
		httpapi.Status(http.StatusCreated),
		httpapi.MaxBody(MaxSnapshotBytes+64<<10),
		httpapi.Describe("multipart/form-data。同一 event_id 重发（内容相同）返回 200 和已有记录，不会重复记录；"+
			"同一 event_id 内容不同返回 409。上传中断时不留下任何记录或文件。")),
		func(ctx context.Context, in *eventInput) (*eventOutput, error) {
			p, err := s.devices.Place(ctx)
			if err != nil {
				return nil, err
			}
			form := in.RawBody.Data()
			r := Report{EventID: form.EventID, Kind: form.Type, UnlockType: form.UnlockType, Card: form.Card, Target: form.Target, CallID: form.CallID}
			if r.Time, err = time.Parse(time.RFC3339Nano, form.Time); err != nil {
				return nil, errs.Field("time", "事件时间格式应为 RFC 3339，如 2026-01-28T16:43:34+08:00")
			}
			if r.ResidentID, err = parseResidentID(form.ResidentID); err != nil {
				return nil, err
			}
			if r.PassID, err = parsePassID(form.PassID); err != nil {
				return nil, err
			}
			if form.Snapshot.IsSet {
				if r.Snapshot, err = io.ReadAll(io.LimitReader(form.Snapshot, MaxSnapshotBytes+1)); err != nil {
					return nil, err
				}
			}
			st, err := s.Ingest(ctx, p, r)
			if err != nil {
				return nil, err
			}
			if r.PassID != 0 {
				// Counted after the record (also for a retried report, which
				// counts nothing twice): a failure here answers 500, and the
				// device's retry completes the count.
				if err := s.passes.CountUse(ctx, p.CommunityID, p.DeviceID, r.PassID, r.EventID, r.Time); err != nil {
					return nil, err
				}
			}
			out := &eventOutput{Status: http.StatusCreated, Body: st}
			if st.Duplicate {
				out.Status = http.StatusOK
			}
			return out, nil
		})

	list := func(kind string) func(context.Context, *listInput) (*httpapi.Body[httpapi.Page[Record]], error) {
		return func(ctx context.Context, in *listInput) (*httpapi.Body[httpapi.Page[Record]], error) {
			items, total, err := s.List(ctx, in.CID, kind, in.Filter, in.Offset(), in.Size)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(httpapi.Page[Record]{Items: items, Total: total}), nil
		}
	}
	export := func(kind, title string) func(context.Context, *exportInput) (*httpapi.File, error) {
		return func(ctx context.Context, in *exportInput) (*httpapi.File, error) {
			var b bytes.Buffer
			if err := s.Export(ctx, in.CID, kind, in.Filter, &b); err != nil {
				return nil, err
			}
			name := fmt.Sprintf("%s-%s.xlsx", title, time.Now().Format("20060102-1504"))
			return httpapi.Download(xlsx.ContentType, "export.xlsx", name, b.Bytes()), nil
		}
	}
	huma.Register(api, httpapi.Op("list-calls", http.MethodGet, "/api/v1/communities/{cid}/records/calls", "呼叫记录", auth.Needs(perm.RecordsView),
		httpapi.Tags("记录信息管理")), list("call"))
	huma.Register(api, httpapi.Op("export-calls", http.MethodGet, "/api/v1/communities/{cid}/records/calls/export.xlsx", "导出呼叫记录（按当前筛选条件）", auth.Needs(perm.RecordsExport),
		httpapi.Tags("记录信息管理"), httpapi.Binary(xlsx.ContentType, "呼叫记录")), export("call", "呼叫记录"))
	huma.Register(api, httpapi.Op("list-unlocks", http.MethodGet, "/api/v1/communities/{cid}/records/unlocks", "开锁记录", auth.Needs(perm.RecordsView),
		httpapi.Tags("记录信息管理")), list("unlock"))
	huma.Register(api, httpapi.Op("export-unlocks", http.MethodGet, "/api/v1/communities/{cid}/records/unlocks/export.xlsx", "导出开锁记录（按当前筛选条件）", auth.Needs(perm.RecordsExport),
		httpapi.Tags("记录信息管理"), httpapi.Binary(xlsx.ContentType, "开锁记录")), export("unlock", "开锁记录"))
	huma.Register(api, httpapi.Op("get-record-snapshot", http.MethodGet, "/api/v1/communities/{cid}/records/{id}/snapshot", "抓拍照片", auth.Needs(perm.RecordsView),
		httpapi.Tags("记录信息管理"),
		httpapi.Binary("image/jpeg", "抓拍照片")),
		func(ctx context.Context, in *snapshotInput) (*httpapi.File, error) {
			data, err := s.Snapshot(ctx, in.CID, in.ID)
			if err != nil {
				return nil, err
			}
			return httpapi.NewFile("image/jpeg", "private, max-age=3600", data), nil
		})
}

// Duration is a talk time as records show it: 1分05秒, 42秒; "" for a call
// nobody answered.
func Duration(seconds int, answered bool) string {
	switch {
	case !answered:
		return ""
	case seconds >= 60:
		return fmt.Sprintf("%d分%02d秒", seconds/60, seconds%60)
	}
	return fmt.Sprintf("%d秒", seconds)
}

// Export writes the records of the filter as a workbook: one row per record,
// text escaped against formula injection.
func (s *Service) Export(ctx context.Context, cid int, kind string, f Filter, w io.Writer) error {
	xw := xlsx.NewWriter(w)
	head := []string{"门禁信息", "呼叫时间", "呼叫号码", "被叫", "接听方", "通话时长", "结果", "服务器接收时间"}
	widths := []float64{44, 20, 14, 44, 16, 10, 12, 20}
	if kind == "unlock" {
		head = []string{"门禁信息", "开锁类型", "开锁业主", "卡号", "开锁时间", "服务器接收时间"}
		widths = []float64{44, 12, 12, 14, 20, 20}
	}
	if err := xw.Sheet(map[string]string{"call": "呼叫记录", "unlock": "开锁记录"}[kind], widths...); err != nil {
		return err
	}
	cells := make([]xlsx.Cell, len(head))
	for i, h := range head {
		cells[i] = xlsx.Cell{V: h, Style: xlsx.Bold}
	}
	xw.Add(cells...)
	at := func(t time.Time) xlsx.Cell { return xlsx.Cell{V: t.In(region.Time).Format("2006-01-02 15:04:05")} }
	text := func(v string) xlsx.Cell { return xlsx.Cell{V: xlsx.Escape(v), Style: xlsx.Text} }
	err := s.Each(ctx, cid, kind, f, func(v Record) error {
		if kind == "unlock" {
			xw.Add(text(v.DeviceLabel), text(v.UnlockTypeName), text(v.ResidentName), text(v.Card), at(v.OccurredAt), at(v.ReceivedAt))
		} else {
			xw.Add(text(v.DeviceLabel), at(v.OccurredAt), text(v.Target), text(v.Callee), text(v.Answerer),
				text(Duration(v.TalkSeconds, v.AnsweredAt != nil)), text(v.ResultName), at(v.ReceivedAt))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return xw.Close()
}
