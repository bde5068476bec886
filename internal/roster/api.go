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

type importOutput struct{ Body Result }

// Register adds the workbook operations to api.
func (s *Service) Register(api huma.API) {
	residents := s.residents
	tags := []string{"业主管理"}
	const base = "/api/v1/communities/{cid}/residents"
	stamp := func() string { return time.Now().Format("20060102-1504") }

	huma.Register(api, httpapi.Binary(huma.Operation{
		OperationID: "export-resident-template", Metadata: auth.Needs(perm.ResidentsEdit), Method: http.MethodGet, Path: base + "/template.xlsx", Tags: tags,
		Summary: "导出模板（每个单元一个工作表）",
	}, xlsxType, "业主模板"), func(ctx context.Context, in *communityPath) (*httpapi.File, error) {
		var b bytes.Buffer
		if err := s.WriteTemplate(ctx, in.CID, false, &b); err != nil {
			return nil, err
		}
		return xlsxFile(fmt.Sprintf("业主模板-%s.xlsx", stamp()), b.Bytes()), nil
	})
	huma.Register(api, httpapi.Binary(huma.Operation{
		OperationID: "export-residents", Metadata: auth.Needs(perm.ResidentsView), Method: http.MethodGet, Path: base + "/export.xlsx", Tags: tags,
		Summary: "导出业主（模板格式，可修改后再导入）",
	}, xlsxType, "业主表格"), func(ctx context.Context, in *communityPath) (*httpapi.File, error) {
		var b bytes.Buffer
		if err := s.WriteTemplate(ctx, in.CID, true, &b); err != nil {
			return nil, err
		}
		return xlsxFile(fmt.Sprintf("业主-%s.xlsx", stamp()), b.Bytes()), nil
	})
	huma.Register(api, httpapi.Binary(huma.Operation{
		OperationID: "export-residents-full", Metadata: auth.Needs(perm.ResidentsView), Method: http.MethodGet, Path: base + "/export-full.xlsx", Tags: tags,
		Summary: "导出业主列表（全部字段，按当前筛选条件）",
	}, xlsxType, "业主列表"), func(ctx context.Context, in *exportFullInput) (*httpapi.File, error) {
		var b bytes.Buffer
		if err := s.WriteFull(ctx, in.CID, residents, in.Filter, &b); err != nil {
			return nil, err
		}
		return xlsxFile(fmt.Sprintf("业主列表-%s.xlsx", stamp()), b.Bytes()), nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "import-residents", Metadata: auth.Needs(perm.ResidentsEdit), Method: http.MethodPost, Path: base + "/import", Tags: tags,
		Summary:      "导入业主（全部正确才写入）",
		Description:  "上传填好的业主表格。任何一行有误时不写入任何数据，并在 errors 中列出每一处错误（工作表、行、列、原因）。",
		MaxBodyBytes: MaxFileBytes + 64<<10,
	}, func(ctx context.Context, in *importInput) (*importOutput, error) {
		data, err := io.ReadAll(io.LimitReader(in.RawBody.Data().File, MaxFileBytes+1))
		if err != nil {
			return nil, err
		}
		res, err := s.Import(ctx, in.CID, data)
		if err != nil {
			return nil, err
		}
		return &importOutput{Body: res}, nil
	})
}
