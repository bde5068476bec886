package roster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/httpapi"
	"linli/internal/perm"
	residentpkg "linli/internal/resident"
	"linli/internal/xlsx"
)

const xlsxType = xlsx.ContentType

func xlsxFile(name string, data []byte) *httpapi.File {
	return httpapi.Download(xlsxType, "residents.xlsx", name, data)
}

type communityPath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
}

type exportFullInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	residentpkg.Filter
}

type importForm struct {
	File huma.FormFile `form:"file" required:"true" doc:"填好的业主表格（.xlsx，最大 10 MB）"`
}

type importInput struct {
	CID     int `path:"cid" minimum:"1" doc:"小区编号"`
	RawBody huma.MultipartFormFiles[importForm]
}

// Register adds the workbook operations to api.
func (s *Service) Register(api huma.API) {
	residents := s.residents
	stamp := func() string { return time.Now().Format("20060102-1504") }

	huma.Register(api, httpapi.Op("export-resident-template", http.MethodGet, "/api/v1/communities/{cid}/residents/template.xlsx", "导出模板（每个单元一个工作表）", auth.Needs(perm.ResidentsEdit),
		httpapi.Tags("业主管理"),
		httpapi.Binary("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "业主模板")), func(ctx context.Context, in *communityPath) (*httpapi.File, error) {
		var b bytes.Buffer
		if err := s.WriteTemplate(ctx, in.CID, false, &b); err != nil {
			return nil, err
		}
		return xlsxFile(fmt.Sprintf("业主模板-%s.xlsx", stamp()), b.Bytes()), nil
	})
	huma.Register(api, httpapi.Op("export-residents", http.MethodGet, "/api/v1/communities/{cid}/residents/export.xlsx", "导出业主（模板格式，可修改后再导入）", auth.Needs(perm.ResidentsView),
		httpapi.Tags("业主管理"),
		httpapi.Binary("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "业主表格")), func(ctx context.Context, in *communityPath) (*httpapi.File, error) {
		var b bytes.Buffer
		if err := s.WriteTemplate(ctx, in.CID, true, &b); err != nil {
			return nil, err
		}
		return xlsxFile(fmt.Sprintf("业主-%s.xlsx", stamp()), b.Bytes()), nil
	})
	huma.Register(api, httpapi.Op("export-residents-full", http.MethodGet, "/api/v1/communities/{cid}/residents/export-full.xlsx", "导出业主列表（全部字段，按当前筛选条件）", auth.Needs(perm.ResidentsView),
		httpapi.Tags("业主管理"),
		httpapi.Binary("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "业主列表")), func(ctx context.Context, in *exportFullInput) (*httpapi.File, error) {
		var b bytes.Buffer
		if err := s.WriteFull(ctx, in.CID, residents, in.Filter, &b); err != nil {
			return nil, err
		}
		return xlsxFile(fmt.Sprintf("业主列表-%s.xlsx", stamp()), b.Bytes()), nil
	})
	huma.Register(api, httpapi.Op("import-residents", http.MethodPost, "/api/v1/communities/{cid}/residents/import", "导入业主（全部正确才写入）", auth.Needs(perm.ResidentsEdit),
		httpapi.Tags("业主管理"),
		httpapi.MaxBody(MaxFileBytes+64<<10),
		httpapi.Describe("上传填好的业主表格。任何一行有误时不写入任何数据，并在 errors 中列出每一处错误（工作表、行、列、原因）。")), func(ctx context.Context, in *importInput) (*httpapi.Body[Result], error) {
		data, err := io.ReadAll(io.LimitReader(in.RawBody.Data().File, MaxFileBytes+1))
		if err != nil {
			return nil, err
		}
		res, err := s.Import(ctx, in.CID, data)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(res), nil
	})
}
