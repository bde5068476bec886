package audit

import (
	"bytes"
	"context"
	"fmt"
	"linli/internal/auth"
	"linli/internal/perm"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/httpapi"
	"linli/internal/xlsx"
)

type listInput struct {
	Filter
	httpapi.PageParams
}

type exportInput struct{ Filter }

// Register adds 操作日志 (list and export) to api. There is deliberately no
// operation that edits or deletes an entry. An operator sees every entry;
// property staff see their communities' entries and their own.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("list-audit-log", http.MethodGet, "/api/v1/audit-log", "操作日志", auth.Needs(perm.StaffManage),
		httpapi.Tags("操作日志"),
		httpapi.Describe("谁在何时、从哪个地址对什么对象做了什么：所有变更、查看身份证号和导出、登录与登录失败。新的在前。")),
		func(ctx context.Context, in *listInput) (*httpapi.Body[httpapi.Page[View]], error) {
			items, total, err := s.List(ctx, in.Filter, in.Offset(), in.Size)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(httpapi.Page[View]{Items: items, Total: total}), nil
		})
	huma.Register(api, httpapi.Op("export-audit-log", http.MethodGet, "/api/v1/audit-log/export.xlsx", "导出操作日志（按当前筛选条件）", auth.Needs(perm.StaffManage),
		httpapi.Tags("操作日志"),
		httpapi.Binary("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "操作日志")),
		func(ctx context.Context, in *exportInput) (*httpapi.File, error) {
			var b bytes.Buffer
			if err := s.Export(ctx, in.Filter, &b); err != nil {
				return nil, err
			}
			name := fmt.Sprintf("操作日志-%s.xlsx", time.Now().Format("20060102-1504"))
			return httpapi.Download(xlsx.ContentType, "audit-log.xlsx", name, b.Bytes()), nil
		})
}
