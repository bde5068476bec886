package household

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/housing"
	"linli/internal/httpapi"
	"linli/internal/perm"
	"linli/internal/resident"
	"linli/internal/store"
)

// RoomPath is a room of the signed-in resident.
type RoomPath struct {
	RoomID int `path:"room_id" minimum:"1" doc:"房间编号"`
}

type inviteInput struct {
	RoomPath
	Body struct {
		Phone       string `json:"phone" maxLength:"20" doc:"被邀请人手机号（其 APP 账号）"`
		Name        string `json:"name" maxLength:"100" doc:"姓名，1–32 字"`
		Role        string `json:"role" maxLength:"32" doc:"角色：本小区业主角色组中除业主外的角色，如 家属、租户"`
		AccessUntil string `json:"access_until,omitempty" maxLength:"10" doc:"有效期至 YYYY-MM-DD（含当天，如租户租期），不填为长期"`
	}
}

// InvitationPath is one invitation of a room.
type InvitationPath struct {
	RoomPath
	ID int `path:"id" minimum:"1" doc:"邀请编号"`
}

// MemberPath is one resident of a room.
type MemberPath struct {
	RoomPath
	ResidentID int `path:"resident_id" minimum:"1" doc:"住户编号"`
}

type faceUpload struct {
	Photo          huma.FormFile `form:"photo" required:"true" doc:"人脸照片：JPEG 或 PNG，最大 5 MB，至少 120×120"`
	ConsentVersion string        `form:"consent_version" required:"false" doc:"所同意的同意书版本（GET /app/v1/face 的 consent_version）"`
}

type faceUploadInput struct {
	RawBody huma.MultipartFormFiles[faceUpload]
}

// registerApp adds the residents' app operations (/app/v1) for family
// members and the resident's own face.
func (s *Service) registerApp(api huma.API) {
	huma.Register(api, httpapi.Op("app-list-members", http.MethodGet, "/app/v1/rooms/{room_id}/members", "房间住户（家人）", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app")),
		func(ctx context.Context, in *RoomPath) (*httpapi.Body[*Members], error) {
			m, err := s.List(ctx, in.RoomID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(m), nil
		})
	huma.Register(api, httpapi.Op("app-invite-member", http.MethodPost, "/app/v1/rooms/{room_id}/invitations", "邀请家人或租户", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusCreated),
		httpapi.Describe("仅房间的业主可以邀请；本小区设置了“邀请需物业审核”时，被邀请人在物业审核通过后才成为住户。")), func(ctx context.Context, in *inviteInput) (*httpapi.Body[Invitation], error) {
		b := in.Body
		v, err := s.Invite(ctx, in.RoomID, InviteInput{Phone: b.Phone, Name: b.Name, Role: b.Role, AccessUntil: b.AccessUntil})
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(viewInvitation(v)), nil
	})
	huma.Register(api, httpapi.Op("app-withdraw-invitation", http.MethodDelete, "/app/v1/rooms/{room_id}/invitations/{id}", "撤回待审核的邀请", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *InvitationPath) (*struct{}, error) {
			return nil, s.Withdraw(ctx, in.RoomID, in.ID)
		})
	huma.Register(api, httpapi.Op("app-remove-member", http.MethodDelete, "/app/v1/rooms/{room_id}/members/{resident_id}", "移除家人或租户", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *MemberPath) (*struct{}, error) {
			return nil, s.Remove(ctx, in.RoomID, in.ResidentID)
		})
	huma.Register(api, httpapi.Op("app-get-face", http.MethodGet, "/app/v1/face", "我的人脸（同意书与状态）", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app")),
		func(ctx context.Context, _ *struct{}) (*httpapi.Body[*FaceState], error) {
			f, err := s.Face(ctx)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(f), nil
		})
	huma.Register(api, httpapi.Op("app-upload-face", http.MethodPut, "/app/v1/face", "同意并上传人脸照片", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent),
		httpapi.MaxBody(int64(resident.FaceLimits.MaxBytes)+64<<10),
		httpapi.Describe("须提交当前同意书版本；照片用于本人所有房间的刷脸开门。")), func(ctx context.Context, in *faceUploadInput) (*struct{}, error) {
		form := in.RawBody.Data()
		return nil, s.UploadFace(ctx, form.Photo, form.ConsentVersion)
	})
	huma.Register(api, httpapi.Op("app-withdraw-face", http.MethodDelete, "/app/v1/face", "撤回同意并删除人脸", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			return nil, s.WithdrawFace(ctx)
		})
	huma.Register(api, httpapi.Op("app-get-face-photo", http.MethodGet, "/app/v1/face/photo", "我的人脸照片", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Binary("image/jpeg", "JPEG 照片")),
		func(ctx context.Context, _ *struct{}) (*httpapi.File, error) {
			data, err := s.FacePhoto(ctx)
			if err != nil {
				return nil, err
			}
			return httpapi.NewFile("image/jpeg", "private, no-store", data), nil
		})
}

// StaffInvitation is an invitation as the console shows it.
type StaffInvitation struct {
	ID          int        `json:"id"`
	RoomID      int        `json:"room_id"`
	RoomLabel   string     `json:"room_label" doc:"房间信息"`
	InviterName string     `json:"inviter_name" doc:"邀请人（业主）"`
	Name        string     `json:"name" doc:"被邀请人姓名"`
	Phone       string     `json:"phone" doc:"被邀请人手机号"`
	Role        string     `json:"role" doc:"角色"`
	AccessUntil *string    `json:"access_until,omitempty" format:"date" doc:"有效期至；为空表示长期"`
	Status      string     `json:"status" enum:"已加入,待物业审核,已拒绝,已撤回"`
	Reason      string     `json:"reason" doc:"拒绝原因"`
	ResidentID  *int       `json:"resident_id,omitempty" doc:"加入后的住户编号"`
	CreatedAt   time.Time  `json:"created_at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty" doc:"审核时间"`
}

func viewStaff(labels map[int]string, v *ent.Invitation) StaffInvitation {
	return StaffInvitation{ID: v.ID, RoomID: v.RoomID, RoomLabel: labels[v.RoomID], InviterName: v.InviterName, Name: v.Name,
		Phone: v.Phone, Role: v.Role, AccessUntil: resident.AccessDate(v.AccessUntil), Status: statusLabels[v.Status],
		Reason: v.Reason, ResidentID: v.ResidentID, CreatedAt: v.CreatedAt, DecidedAt: v.DecidedAt}
}

// CommunityPath is a community of the console.
type CommunityPath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
}

type listInvitationsInput struct {
	CommunityPath
	httpapi.PageParams
	Status string `query:"status" enum:"joined,pending,rejected,withdrawn," doc:"状态：pending 待物业审核；不填为全部"`
}

// StaffInvitationPath is one invitation of a community.
type StaffInvitationPath struct {
	CommunityPath
	ID int `path:"id" minimum:"1" doc:"邀请编号"`
}

type rejectInvitationInput struct {
	StaffInvitationPath
	Body struct {
		Reason string `json:"reason" maxLength:"400" doc:"拒绝原因（业主在 APP 中可见）"`
	}
}

// labels returns the room labels of invitations vs of community cid.
func (s *Service) labels(ctx context.Context, cid int, vs ...*ent.Invitation) (map[int]string, error) {
	c, err := store.Community(ctx, s.db.Client, cid)
	if err != nil {
		return nil, err
	}
	ids := make([]int, len(vs))
	for i, v := range vs {
		ids[i] = v.RoomID
	}
	return housing.RoomLabels(ctx, s.db.Client, c.Name, ids)
}

// Register adds the staff operations on invitations (业主邀请审核) and the
// residents' app operations on their households.
func (s *Service) Register(api huma.API) {
	s.registerApp(api)
	one := func(ctx context.Context, cid int, v *ent.Invitation, err error) (*httpapi.Body[StaffInvitation], error) {
		if err != nil {
			return nil, err
		}
		labels, err := s.labels(ctx, cid, v)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(viewStaff(labels, v)), nil
	}
	// 业主邀请 are reviewed like 业主申请.
	huma.Register(api, httpapi.Op("list-invitations", http.MethodGet, "/api/v1/communities/{cid}/invitations", "业主邀请列表", auth.Needs(perm.ApplicationsView),
		httpapi.Tags("业主邀请")),
		func(ctx context.Context, in *listInvitationsInput) (*httpapi.Body[httpapi.Page[StaffInvitation]], error) {
			vs, total, err := s.Pending(ctx, in.CID, in.Status, in.Offset(), in.Size)
			if err != nil {
				return nil, err
			}
			labels, err := s.labels(ctx, in.CID, vs...)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(httpapi.PageOf(vs, total, func(v *ent.Invitation) StaffInvitation { return viewStaff(labels, v) })), nil
		})
	huma.Register(api, httpapi.Op("approve-invitation", http.MethodPost, "/api/v1/communities/{cid}/invitations/{id}/approve", "通过业主邀请", auth.Needs(perm.ApplicationsEdit),
		httpapi.Tags("业主邀请")), func(ctx context.Context, in *StaffInvitationPath) (*httpapi.Body[StaffInvitation], error) {
		v, err := s.Approve(ctx, in.CID, in.ID)
		return one(ctx, in.CID, v, err)
	})
	huma.Register(api, httpapi.Op("reject-invitation", http.MethodPost, "/api/v1/communities/{cid}/invitations/{id}/reject", "拒绝业主邀请", auth.Needs(perm.ApplicationsEdit),
		httpapi.Tags("业主邀请")), func(ctx context.Context, in *rejectInvitationInput) (*httpapi.Body[StaffInvitation], error) {
		v, err := s.Reject(ctx, in.CID, in.ID, in.Body.Reason)
		return one(ctx, in.CID, v, err)
	})
}
