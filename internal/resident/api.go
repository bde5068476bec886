package resident

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/httpapi"
	"linli/internal/perm"
	"linli/internal/region"
)

// Resident is a resident as the console shows it. The ID number is masked;
// the face photo itself is never part of a list.
type Resident struct {
	ID             int       `json:"id"`
	RoomID         int       `json:"room_id"`
	AreaID         int       `json:"area_id"`
	BuildingID     int       `json:"building_id"`
	UnitID         int       `json:"unit_id"`
	RoomLabel      string    `json:"room_label" doc:"房间信息，如 【测试小区1】-1区-1栋-1单元-0502"`
	Name           string    `json:"name" doc:"姓名"`
	Gender         string    `json:"gender" enum:"male,female,unknown" doc:"性别"`
	Phone          string    `json:"phone" doc:"手机号码（业主 APP 账号）"`
	Role           string    `json:"role" doc:"业主类型（角色）"`
	IDNumberMasked string    `json:"id_number_masked" doc:"身份证号（打码），如 110101********1234"`
	Email          string    `json:"email" doc:"邮箱"`
	HometownCode   string    `json:"hometown_code" doc:"户籍城市（城市或区县代码）"`
	HometownName   string    `json:"hometown_name" doc:"籍贯，如 广东省/深圳市/宝安区"`
	Address        string    `json:"address" doc:"详细地址"`
	AppCall        bool      `json:"app_call" doc:"APP呼叫权限"`
	CallForward    bool      `json:"call_forward" doc:"电话转移权限"`
	Face           Face      `json:"face" doc:"人脸权限"`
	Origin         string    `json:"origin" enum:"物业添加,导入,申请,业主邀请" doc:"来源"`
	AccessUntil    *string   `json:"access_until,omitempty" format:"date" doc:"有效期至（租户等，含当天）；为空表示长期"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at" doc:"更新时间"`
}

// Face is the face permission of a resident.
type Face struct {
	HasPhoto  bool       `json:"has_photo" doc:"是否已上传人脸照片"`
	Enabled   bool       `json:"enabled" doc:"是否启用"`
	ValidFrom *time.Time `json:"valid_from,omitempty" doc:"生效时间"`
	ValidTo   *time.Time `json:"valid_to,omitempty" doc:"失效时间；为空表示永久有效"`
	ConsentAt *time.Time `json:"consent_at,omitempty" doc:"记录业主同意的时间"`
	// ConsentVersion is set when the resident consented in the app.
	ConsentVersion string `json:"consent_version,omitempty" doc:"业主本人在 APP 中同意的同意书版本；为空表示由物业记录同意"`
}

// View returns the API form of r (loaded with its room path).
func View(communityName string, r *ent.Resident) Resident {
	home := ""
	if p, ok := region.LookupPlace(r.HometownCode); ok {
		home = p.Label()
	}
	return Resident{
		ID: r.ID, RoomID: r.RoomID, AreaID: r.AreaID, BuildingID: r.BuildingID, UnitID: r.UnitID,
		RoomLabel: Label(communityName, r), Name: r.Name, Gender: string(r.Gender), Phone: r.Phone, Role: r.Role,
		IDNumberMasked: r.IDNumberMasked, Email: r.Email, HometownCode: r.HometownCode, HometownName: home,
		Address: r.Address, AppCall: r.AppCall, CallForward: r.CallForward,
		Face: Face{HasPhoto: r.FacePhoto != "", Enabled: r.FaceEnabled, ValidFrom: r.FaceValidFrom,
			ValidTo: r.FaceValidTo, ConsentAt: r.FaceConsentAt, ConsentVersion: r.FaceConsentVersion},
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Origin: OriginLabel(r.Origin), AccessUntil: AccessDate(r.AccessUntil),
	}
}

// ResidentPath is the path of one resident.
type ResidentPath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	ID  int `path:"id" minimum:"1" doc:"业主编号"`
}

type listResidentsInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	httpapi.PageParams
	Filter
}

type residentFields struct {
	RoomID       *int    `json:"room_id,omitempty" minimum:"1" doc:"房间"`
	Name         *string `json:"name,omitempty" maxLength:"32" doc:"姓名"`
	Phone        *string `json:"phone,omitempty" maxLength:"20" doc:"手机号码，11 位；可不填"`
	Gender       *string `json:"gender,omitempty" enum:"male,female,unknown" doc:"性别"`
	Role         *string `json:"role,omitempty" maxLength:"32" doc:"角色，取自小区的业主角色组"`
	IDNumber     *string `json:"id_number,omitempty" maxLength:"20" doc:"身份证号（18 位，校验位按 GB 11643）；传空字符串清除"`
	Email        *string `json:"email,omitempty" maxLength:"254" doc:"邮箱"`
	HometownCode *string `json:"hometown_code,omitempty" maxLength:"6" doc:"户籍城市（城市或区县代码）"`
	Address      *string `json:"address,omitempty" maxLength:"200" doc:"详细地址"`
}

func (f residentFields) input() Input {
	return Input{RoomID: f.RoomID, Name: f.Name, Phone: f.Phone, Gender: f.Gender, Role: f.Role,
		IDNumber: f.IDNumber, Email: f.Email, HometownCode: f.HometownCode, Address: f.Address}
}

type createResidentInput struct {
	CID  int `path:"cid" minimum:"1" doc:"小区编号"`
	Body struct {
		RoomID       int     `json:"room_id" minimum:"1" doc:"房间"`
		Name         string  `json:"name" minLength:"1" maxLength:"32" doc:"姓名"`
		Role         string  `json:"role" minLength:"1" maxLength:"32" doc:"角色，取自小区的业主角色组"`
		Phone        *string `json:"phone,omitempty" maxLength:"20" doc:"手机号码，11 位；可不填"`
		Gender       *string `json:"gender,omitempty" enum:"male,female,unknown" doc:"性别"`
		IDNumber     *string `json:"id_number,omitempty" maxLength:"20" doc:"身份证号"`
		Email        *string `json:"email,omitempty" maxLength:"254" doc:"邮箱"`
		HometownCode *string `json:"hometown_code,omitempty" maxLength:"6" doc:"户籍城市（城市或区县代码）"`
		Address      *string `json:"address,omitempty" maxLength:"200" doc:"详细地址"`
	}
}

type updateResidentInput struct {
	ResidentPath
	Body residentFields
}

type permissionsInput struct {
	ResidentPath
	Body struct {
		AppCall     *bool `json:"app_call,omitempty" doc:"APP呼叫"`
		CallForward *bool `json:"call_forward,omitempty" doc:"电话转移（需小区配置电话网关）"`
	}
}

type faceSettingsBody struct {
	Enabled   *bool      `json:"enabled,omitempty" doc:"启用或停用人脸权限"`
	ValidFrom *time.Time `json:"valid_from,omitempty" doc:"生效时间"`
	ValidTo   *time.Time `json:"valid_to,omitempty" doc:"失效时间"`
	Permanent bool       `json:"permanent,omitempty" doc:"永久有效（忽略失效时间）"`
}

type setFaceInput struct {
	ResidentPath
	Body faceSettingsBody
}

type faceForm struct {
	File      huma.FormFile `form:"file" required:"true" doc:"人脸照片：JPEG 或 PNG，最大 5 MB"`
	Consent   bool          `form:"consent" required:"false" doc:"已取得业主本人同意（必须为 true）"`
	Permanent bool          `form:"permanent" required:"false" doc:"永久有效"`
	ValidFrom string        `form:"valid_from" required:"false" doc:"生效时间 RFC 3339"`
	ValidTo   string        `form:"valid_to" required:"false" doc:"失效时间 RFC 3339"`
}

type uploadFaceInput struct {
	ResidentPath
	RawBody huma.MultipartFormFiles[faceForm]
}

type revealOutputBody struct {
	IDNumber string `json:"id_number" doc:"完整身份证号（本次查看已记录审计日志）"`
}

// Register adds the resident operations to api.
func (s *Service) Register(api huma.API) {
	// Reading 业主 needs 业主·查看, every change 业主·编辑; the full
	// 身份证号 needs 身份证号查看 (set where it is revealed).
	one := func(ctx context.Context, cid int, r *ent.Resident, err error) (*httpapi.Body[Resident], error) {
		if err != nil {
			return nil, err
		}
		c, err := s.community(ctx, cid)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(View(c.Name, r)), nil
	}

	huma.Register(api, httpapi.Op("list-residents", http.MethodGet, "/api/v1/communities/{cid}/residents", "业主列表", auth.Needs(perm.ResidentsView),
		httpapi.Tags("业主管理")),
		func(ctx context.Context, in *listResidentsInput) (*httpapi.Body[httpapi.Page[Resident]], error) {
			c, err := s.community(ctx, in.CID)
			if err != nil {
				return nil, err
			}
			rs, total, err := s.List(ctx, in.CID, in.Filter, in.Offset(), in.Size)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(httpapi.PageOf(rs, total, func(r *ent.Resident) Resident { return View(c.Name, r) })), nil
		})
	huma.Register(api, httpapi.Op("create-resident", http.MethodPost, "/api/v1/communities/{cid}/residents", "添加业主", auth.Needs(perm.ResidentsEdit),
		httpapi.Tags("业主管理"),
		httpapi.Status(http.StatusCreated)),
		func(ctx context.Context, in *createResidentInput) (*httpapi.Body[Resident], error) {
			b := in.Body
			r, err := s.Create(ctx, in.CID, Input{RoomID: &b.RoomID, Name: &b.Name, Role: &b.Role, Phone: b.Phone,
				Gender: b.Gender, IDNumber: b.IDNumber, Email: b.Email, HometownCode: b.HometownCode, Address: b.Address})
			return one(ctx, in.CID, r, err)
		})
	huma.Register(api, httpapi.Op("get-resident", http.MethodGet, "/api/v1/communities/{cid}/residents/{id}", "业主详情", auth.Needs(perm.ResidentsView),
		httpapi.Tags("业主管理")),
		func(ctx context.Context, in *ResidentPath) (*httpapi.Body[Resident], error) {
			r, err := s.Get(ctx, in.CID, in.ID)
			return one(ctx, in.CID, r, err)
		})
	huma.Register(api, httpapi.Op("update-resident", http.MethodPatch, "/api/v1/communities/{cid}/residents/{id}", "编辑业主", auth.Needs(perm.ResidentsEdit),
		httpapi.Tags("业主管理")),
		func(ctx context.Context, in *updateResidentInput) (*httpapi.Body[Resident], error) {
			r, err := s.Update(ctx, in.CID, in.ID, in.Body.input())
			return one(ctx, in.CID, r, err)
		})
	huma.Register(api, httpapi.Op("delete-resident", http.MethodDelete, "/api/v1/communities/{cid}/residents/{id}", "删除业主", auth.Needs(perm.ResidentsEdit),
		httpapi.Tags("业主管理"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *ResidentPath) (*struct{}, error) {
			return nil, s.Delete(ctx, in.CID, in.ID)
		})
	huma.Register(api, httpapi.Op("reveal-resident-id-number", http.MethodPost, "/api/v1/communities/{cid}/residents/{id}/id-number/reveal", "显示完整身份证号（记录审计）", auth.Needs(perm.IDNumberView),
		httpapi.Tags("业主管理")),
		func(ctx context.Context, in *ResidentPath) (*httpapi.Body[revealOutputBody], error) {
			v, err := s.RevealIDNumber(ctx, in.CID, in.ID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(revealOutputBody{IDNumber: v}), nil
		})
	huma.Register(api, httpapi.Op("set-resident-permissions", http.MethodPatch, "/api/v1/communities/{cid}/residents/{id}/permissions", "业主权限：APP呼叫、电话转移", auth.Needs(perm.ResidentsEdit),
		httpapi.Tags("业主管理")),
		func(ctx context.Context, in *permissionsInput) (*httpapi.Body[Resident], error) {
			r, err := s.SetPermissions(ctx, in.CID, in.ID, Permissions{AppCall: in.Body.AppCall, CallForward: in.Body.CallForward})
			return one(ctx, in.CID, r, err)
		})
	huma.Register(api, httpapi.Op("upload-resident-face", http.MethodPut, "/api/v1/communities/{cid}/residents/{id}/face", "上传人脸照片（需业主同意）", auth.Needs(perm.ResidentsEdit),
		httpapi.Tags("业主管理"),
		httpapi.MaxBody(int64(FaceLimits.MaxBytes)+64<<10)), func(ctx context.Context, in *uploadFaceInput) (*httpapi.Body[Resident], error) {
		form := in.RawBody.Data()
		f := FaceSettings{Permanent: form.Permanent}
		var err error
		if f.ValidFrom, err = parseTime("valid_from", form.ValidFrom); err != nil {
			return nil, err
		}
		if f.ValidTo, err = parseTime("valid_to", form.ValidTo); err != nil {
			return nil, err
		}
		r, err := s.UploadFace(ctx, in.CID, in.ID, form.File, form.Consent, f)
		return one(ctx, in.CID, r, err)
	})
	huma.Register(api, httpapi.Op("set-resident-face", http.MethodPatch, "/api/v1/communities/{cid}/residents/{id}/face", "人脸权限：启用/停用、有效时间", auth.Needs(perm.ResidentsEdit),
		httpapi.Tags("业主管理")),
		func(ctx context.Context, in *setFaceInput) (*httpapi.Body[Resident], error) {
			b := in.Body
			r, err := s.SetFace(ctx, in.CID, in.ID, FaceSettings{Enabled: b.Enabled, ValidFrom: b.ValidFrom, ValidTo: b.ValidTo, Permanent: b.Permanent})
			return one(ctx, in.CID, r, err)
		})
	huma.Register(api, httpapi.Op("delete-resident-face", http.MethodDelete, "/api/v1/communities/{cid}/residents/{id}/face", "删除人脸照片", auth.Needs(perm.ResidentsEdit),
		httpapi.Tags("业主管理"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *ResidentPath) (*struct{}, error) {
			_, err := s.DeleteFace(ctx, in.CID, in.ID)
			return nil, err
		})
	huma.Register(api, httpapi.Op("get-resident-face-photo", http.MethodGet, "/api/v1/communities/{cid}/residents/{id}/face.jpg", "人脸照片", auth.Needs(perm.ResidentsView),
		httpapi.Tags("业主管理"),
		httpapi.Binary("image/jpeg", "JPEG 照片")),
		func(ctx context.Context, in *ResidentPath) (*httpapi.File, error) {
			data, err := s.FacePhoto(ctx, in.CID, in.ID)
			if err != nil {
				return nil, err
			}
			return httpapi.NewFile("image/jpeg", "private, no-store", data), nil
		})
}

func parseTime(field, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, errs.Fieldf(field, "时间格式不正确：%q（应为 RFC 3339，如 2026-12-31T23:59:59+08:00）", v)
	}
	return &t, nil
}
