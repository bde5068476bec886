package firmware

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/httpapi"
	"linli/internal/perm"
)

// Image is a firmware image as the console shows it.
type Image struct {
	ID        int       `json:"id"`
	Model     string    `json:"model" doc:"型号"`
	Version   string    `json:"version" doc:"版本"`
	FileName  string    `json:"file_name" doc:"文件名"`
	Size      int64     `json:"size" doc:"大小（字节）"`
	SHA256    string    `json:"sha256" doc:"文件的 SHA-256"`
	Notes     string    `json:"notes" doc:"说明"`
	CreatedAt time.Time `json:"created_at" doc:"上传时间"`
}

// ViewOf returns the API form of f.
func ImageOf(f *ent.Firmware) Image {
	return Image{ID: f.ID, Model: f.Model, Version: f.Version, FileName: f.FileName, Size: f.Size, SHA256: f.Sha256,
		Notes: f.Notes, CreatedAt: f.CreatedAt}
}

type uploadForm struct {
	Model   string        `form:"model" required:"true" doc:"型号，与设备绑定时上报的型号一致"`
	Version string        `form:"version" required:"true" doc:"版本，如 2.1.0；必须高于该型号已有的版本"`
	Notes   string        `form:"notes" required:"false" doc:"说明"`
	File    huma.FormFile `form:"file" required:"true" doc:"固件文件，最大 256 MB"`
}

type uploadInput struct {
	RawBody huma.MultipartFormFiles[uploadForm]
}

type listInput struct {
	Model string `query:"model" maxLength:"64" doc:"型号；不填为全部"`
}

type listOutputBody struct {
	Items []Image `json:"items"`
}

type idPath struct {
	ID int `path:"id" minimum:"1" doc:"固件编号"`
}

// Register adds the firmware operations to api: operators upload and delete;
// every signed-in account may list (managers choose from it to upgrade).
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("upload-firmware", http.MethodPost, "/api/v1/firmware", "上传固件", auth.OperatorOnly(),
		httpapi.Tags("固件管理"),
		httpapi.Status(http.StatusCreated),
		httpapi.MaxBody(MaxBytes+1<<20),
		httpapi.Describe("上传一个型号的新版本固件。服务器计算并保存文件的 SHA-256；同一型号的版本只能升高。")),
		func(ctx context.Context, in *uploadInput) (*httpapi.Body[Image], error) {
			form := in.RawBody.Data()
			f, err := s.Upload(ctx, UploadInput{Model: form.Model, Version: form.Version, Notes: form.Notes,
				FileName: form.File.Filename, File: form.File}, auth.Current(ctx).Account.Account)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(ImageOf(f)), nil
		})
	huma.Register(api, httpapi.Op("list-firmware", http.MethodGet, "/api/v1/firmware", "固件列表", auth.Needs(perm.FirmwareUpgrade),
		httpapi.Tags("固件管理")),
		func(ctx context.Context, in *listInput) (*httpapi.Body[listOutputBody], error) {
			fs, err := s.List(ctx, in.Model)
			if err != nil {
				return nil, err
			}
			items := make([]Image, len(fs))
			for i, f := range fs {
				items[i] = ImageOf(f)
			}
			return httpapi.Reply(listOutputBody{Items: items}), nil
		})
	huma.Register(api, httpapi.Op("delete-firmware", http.MethodDelete, "/api/v1/firmware/{id}", "删除固件", auth.OperatorOnly(),
		httpapi.Tags("固件管理"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *idPath) (*struct{}, error) {
			return nil, s.Delete(ctx, in.ID)
		})
}
