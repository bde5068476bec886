package application

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/httpapi"
	"linli/internal/perm"
	"linli/internal/phone"
	"linli/internal/store"
)

// Application is an application as the staff list shows it. The phone is
// masked in lists; the detail shows it in full.
type Application struct {
	ID             int        `json:"id"`
	RoomID         int        `json:"room_id"`
	RoomLabel      string     `json:"room_label" doc:"申请房间"`
	Name           string     `json:"name" doc:"姓名"`
	Gender         string     `json:"gender" enum:"male,female,unknown"`
	Phone          string     `json:"phone" doc:"手机（列表中打码）"`
	ContactPhone   string     `json:"contact_phone" doc:"联系人手机（列表中打码）"`
	IDNumberMasked string     `json:"id_number_masked" doc:"身份证（打码）"`
	Role           string     `json:"role" doc:"业主类型"`
	Status         string     `json:"status" enum:"pending,approved,rejected" doc:"申请中、通过、打回"`
	Reason         string     `json:"reason" doc:"打回原因"`
	PhotoCount     int        `json:"photo_count" doc:"信息照片张数"`
	ResidentID     *int       `json:"resident_id,omitempty" doc:"通过后创建的业主"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at" doc:"申请时间"`
}

func view(a *ent.Application, label string, full bool) Application {
	ph, contact := a.Phone, a.ContactPhone
	if !full {
		ph, contact = phone.Mask(ph), phone.Mask(contact)
	}
	return Application{ID: a.ID, RoomID: a.RoomID, RoomLabel: label, Name: a.Name, Gender: string(a.Gender),
		Phone: ph, ContactPhone: contact, IDNumberMasked: a.IDNumberMasked, Role: a.Role, Status: string(a.Status),
		Reason: a.Reason, PhotoCount: len(a.Photos), ResidentID: a.ResidentID, DecidedAt: a.DecidedAt, CreatedAt: a.CreatedAt}
}

// AppPath is the path of one application.
type AppPath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	ID  int `path:"id" minimum:"1" doc:"申请编号"`
}

type listInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	httpapi.PageParams
	Filter
}

type rejectInput struct {
	AppPath
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"200" doc:"打回原因（申请人可在申请页面按手机号查看）"`
	}
}

type photoInput struct {
	AppPath
	N int `path:"n" minimum:"1" maximum:"3" doc:"第几张"`
}

type communityPath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
}

type linkOutputBody struct {
	URL string `json:"url" doc:"业主申请页面地址（二维码内容）"`
}

// Register adds the staff operations on applications and the public H5
// operations to api.
func (s *Service) Register(api huma.API) {
	publicURL := s.publicURL
	baseURL := func(ctx context.Context) string {
		if publicURL != "" {
			return strings.TrimRight(publicURL, "/")
		}
		return auth.RequestBaseURL(ctx)
	}
	one := func(ctx context.Context, cid int, a *ent.Application, err error) (*httpapi.Body[Application], error) {
		if err != nil {
			return nil, err
		}
		c, err := store.Community(ctx, s.db.Client, cid)
		if err != nil {
			return nil, err
		}
		labels, err := s.roomLabels(ctx, c.Name, []*ent.Application{a})
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(view(a, labels[a.RoomID], true)), nil
	}

	huma.Register(api, httpapi.Op("list-applications", http.MethodGet, "/api/v1/communities/{cid}/applications", "业主申请列表", auth.Needs(perm.ApplicationsView),
		httpapi.Tags("业主申请")),
		func(ctx context.Context, in *listInput) (*httpapi.Body[httpapi.Page[Application]], error) {
			as, total, err := s.List(ctx, in.CID, in.Filter, in.Offset(), in.Size)
			if err != nil {
				return nil, err
			}
			c, err := store.Community(ctx, s.db.Client, in.CID)
			if err != nil {
				return nil, err
			}
			labels, err := s.roomLabels(ctx, c.Name, as)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(httpapi.PageOf(as, total, func(a *ent.Application) Application {
				return view(a, labels[a.RoomID], false)
			})), nil
		})
	huma.Register(api, httpapi.Op("get-application", http.MethodGet, "/api/v1/communities/{cid}/applications/{id}", "业主申请详情", auth.Needs(perm.ApplicationsView),
		httpapi.Tags("业主申请")),
		func(ctx context.Context, in *AppPath) (*httpapi.Body[Application], error) {
			a, err := s.Get(ctx, in.CID, in.ID)
			return one(ctx, in.CID, a, err)
		})
	huma.Register(api, httpapi.Op("approve-application", http.MethodPost, "/api/v1/communities/{cid}/applications/{id}/approve", "通过（创建业主）", auth.Needs(perm.ApplicationsEdit),
		httpapi.Tags("业主申请")),
		func(ctx context.Context, in *AppPath) (*httpapi.Body[Application], error) {
			a, err := s.Approve(ctx, in.CID, in.ID)
			return one(ctx, in.CID, a, err)
		})
	huma.Register(api, httpapi.Op("reject-application", http.MethodPost, "/api/v1/communities/{cid}/applications/{id}/reject", "打回", auth.Needs(perm.ApplicationsEdit),
		httpapi.Tags("业主申请")),
		func(ctx context.Context, in *rejectInput) (*httpapi.Body[Application], error) {
			a, err := s.Reject(ctx, in.CID, in.ID, in.Body.Reason)
			return one(ctx, in.CID, a, err)
		})
	huma.Register(api, httpapi.Op("delete-application", http.MethodDelete, "/api/v1/communities/{cid}/applications/{id}", "删除申请", auth.Needs(perm.ApplicationsEdit),
		httpapi.Tags("业主申请"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *AppPath) (*struct{}, error) {
			return nil, s.Delete(ctx, in.CID, in.ID)
		})
	huma.Register(api, httpapi.Op("get-application-photo", http.MethodGet, "/api/v1/communities/{cid}/applications/{id}/photos/{n}", "信息照片", auth.Needs(perm.ApplicationsView),
		httpapi.Tags("业主申请"),
		httpapi.Binary("image/jpeg", "JPEG 照片")),
		func(ctx context.Context, in *photoInput) (*httpapi.File, error) {
			data, err := s.Photo(ctx, in.CID, in.ID, in.N)
			if err != nil {
				return nil, err
			}
			return httpapi.NewFile("image/jpeg", "private, no-store", data), nil
		})
	huma.Register(api, httpapi.Op("get-application-qr", http.MethodGet, "/api/v1/communities/{cid}/application-qr.png", "下载业主申请二维码", auth.Needs(perm.ApplicationsView),
		httpapi.Tags("业主申请"),
		httpapi.Binary("image/png", "二维码 PNG")),
		func(ctx context.Context, in *communityPath) (*httpapi.File, error) {
			data, err := s.QRCode(ctx, in.CID, baseURL(ctx))
			if err != nil {
				return nil, err
			}
			return httpapi.Download("image/png", "apply-qr.png", "业主申请二维码.png", data), nil
		})
	huma.Register(api, httpapi.Op("get-application-link", http.MethodGet, "/api/v1/communities/{cid}/application-link", "业主申请页面地址", auth.Needs(perm.ApplicationsView),
		httpapi.Tags("业主申请")),
		func(ctx context.Context, in *communityPath) (*httpapi.Body[linkOutputBody], error) {
			link, err := s.Link(ctx, in.CID, baseURL(ctx))
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(linkOutputBody{URL: link}), nil
		})
	s.registerPublic(api)
}

// TokenPath is the path of the public application link.
type TokenPath struct {
	Token string `path:"token" minLength:"16" maxLength:"64" doc:"二维码中的申请链接令牌"`
}

type roomsInput struct {
	TokenPath
	UnitID int `query:"unit_id" minimum:"1" doc:"单元"`
}

type statusInput struct {
	TokenPath
	Phone string `query:"phone" minLength:"1" maxLength:"20" doc:"申请时填写的手机号"`
}

type submitForm struct {
	RoomID       int             `form:"room_id" required:"false" doc:"房间"`
	Name         string          `form:"name" required:"false" doc:"姓名"`
	Gender       string          `form:"gender" required:"false" doc:"male 或 female"`
	Phone        string          `form:"phone" required:"false" doc:"手机号（业主 APP 账号）"`
	ContactPhone string          `form:"contact_phone" required:"false" doc:"联系人手机"`
	IDNumber     string          `form:"id_number" required:"false" doc:"身份证号"`
	Role         string          `form:"role" required:"false" doc:"角色"`
	Photos       []huma.FormFile `form:"photos" required:"false" doc:"信息照片，最多 3 张，JPEG 或 PNG"`
}

type submitInput struct {
	TokenPath
	RawBody huma.MultipartFormFiles[submitForm]
}

type submitOutputBody struct {
	ID     int    `json:"id"`
	Status string `json:"status"`
}

func (s *Service) registerPublic(api huma.API) {
	huma.Register(api, httpapi.Op("public-application-form", http.MethodGet, "/app/v1/apply/{token}", "申请页面所需的小区、角色和楼栋单元", auth.Public(),
		httpapi.Tags("业主申请（H5 公开接口）")),
		func(ctx context.Context, in *TokenPath) (*httpapi.Body[*Form], error) {
			f, err := s.PublicForm(ctx, in.Token)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(f), nil
		})
	huma.Register(api, httpapi.Op("public-application-rooms", http.MethodGet, "/app/v1/apply/{token}/rooms", "单元的房间", auth.Public(),
		httpapi.Tags("业主申请（H5 公开接口）")),
		func(ctx context.Context, in *roomsInput) (*httpapi.Body[[]FormRoom], error) {
			rs, err := s.PublicRooms(ctx, in.Token, in.UnitID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(rs), nil
		})
	huma.Register(api, httpapi.Op("public-submit-application", http.MethodPost, "/app/v1/apply/{token}", "提交业主申请", auth.Public(),
		httpapi.Tags("业主申请（H5 公开接口）"),
		httpapi.Status(http.StatusCreated),
		httpapi.MaxBody(MaxPhotos*MaxPhotoBytes+256<<10)),
		func(ctx context.Context, in *submitInput) (*httpapi.Body[submitOutputBody], error) {
			form := in.RawBody.Data()
			sub := Submission{RoomID: form.RoomID, Name: form.Name, Gender: form.Gender, Phone: form.Phone,
				ContactPhone: form.ContactPhone, IDNumber: form.IDNumber, Role: form.Role, IP: auth.ClientIP(ctx)}
			for _, f := range form.Photos {
				sub.Photos = append(sub.Photos, f)
			}
			a, err := s.Submit(ctx, in.Token, sub)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(submitOutputBody{ID: a.ID, Status: string(a.Status)}), nil
		})
	huma.Register(api, httpapi.Op("public-application-status", http.MethodGet, "/app/v1/apply/{token}/status", "按手机号查询申请结果", auth.Public(),
		httpapi.Tags("业主申请（H5 公开接口）")),
		func(ctx context.Context, in *statusInput) (*httpapi.Body[[]StatusItem], error) {
			items, err := s.PublicStatus(ctx, in.Token, in.Phone, auth.ClientIP(ctx))
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(items), nil
		})
}
