package household

import (
	"context"
	"io"
	"time"

	"linli/internal/ent"
	entresident "linli/internal/ent/resident"
	"linli/internal/errs"
)

// FaceConsentVersion is the version of FaceConsentText; an upload must name
// it, so that the record says which text the resident accepted.
const FaceConsentVersion = "2026-12-01"

// FaceConsentText is what the resident reads and accepts before uploading
// their face (个人信息保护法 第二十八、二十九条: 敏感个人信息, separate consent).
const FaceConsentText = "人脸信息属于敏感个人信息。您上传的人脸照片仅用于本小区门禁设备的刷脸开门：" +
	"照片经处理后保存在物业服务器，并同步到您房间所在单元的门口机和小区围墙机，不用于其他目的，不向第三方提供。" +
	"您可以随时在 APP 中撤回同意，撤回后照片立即删除，人脸信息同时从所有门禁设备中移除。" +
	"您的房间到期或您被移出房间时，人脸信息同样会被删除。点击“同意并上传”即表示您已阅读并单独同意上述处理。"

// FaceState is the resident's own face as the app shows it.
type FaceState struct {
	ConsentText    string     `json:"consent_text" doc:"人脸信息处理同意书全文"`
	ConsentVersion string     `json:"consent_version" doc:"同意书版本；上传时须原样提交"`
	ConsentedAt    *time.Time `json:"consented_at" nullable:"true" doc:"本人同意当前版本的时间；null 表示未同意"`
	HasPhoto       bool       `json:"has_photo" doc:"是否已有人脸照片"`
}

// faceRows returns the signed-in resident's rows: with current set, only
// those whose access has not ended.
func (s *Service) faceRows(ctx context.Context, current bool) ([]*ent.Resident, error) {
	p, err := phoneOf(ctx)
	if err != nil {
		return nil, err
	}
	q := s.db.Resident.Query().Where(entresident.Phone(p))
	if current {
		q.Where(Current(s.now()))
	}
	return q.Order(ent.Asc(entresident.FieldID)).All(ctx)
}

// Face returns the state of the signed-in resident's face.
func (s *Service) Face(ctx context.Context) (*FaceState, error) {
	rs, err := s.faceRows(ctx, true)
	if err != nil {
		return nil, err
	}
	out := &FaceState{ConsentText: FaceConsentText, ConsentVersion: FaceConsentVersion}
	for _, r := range rs {
		out.HasPhoto = out.HasPhoto || r.FacePhoto != ""
		if r.FaceConsentVersion == FaceConsentVersion && r.FaceConsentAt != nil && (out.ConsentedAt == nil || r.FaceConsentAt.After(*out.ConsentedAt)) {
			out.ConsentedAt = r.FaceConsentAt
		}
	}
	return out, nil
}

// UploadFace stores photo as the face of every current resident row of the
// signed-in phone, with their consent to version, which must be the current
// FaceConsentVersion. The photo passes the console upload's limits and is
// re-encoded the same way.
//
// Errors: errs.Invalid (version, picture), errs.NotFound (no room),
// errs.Unavailable.
func (s *Service) UploadFace(ctx context.Context, photo io.ReadSeeker, version string) error {
	if version != FaceConsentVersion {
		return errs.Fieldf("consent_version", "请先阅读并同意最新的人脸信息处理同意书（版本 %s）后再上传", FaceConsentVersion)
	}
	rs, err := s.faceRows(ctx, true)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return errs.New(errs.NotFound, "您当前没有可以使用刷脸开门的房间")
	}
	jpeg, err := s.residents.PrepareFace(ctx, "photo", photo)
	if err != nil {
		return err
	}
	return s.residents.SelfFace(ctx, rs, jpeg, version, s.now())
}

// WithdrawFace withdraws the signed-in resident's consent: every face
// photo of the phone is deleted and the faces leave every device.
func (s *Service) WithdrawFace(ctx context.Context) error {
	rs, err := s.faceRows(ctx, false)
	if err != nil {
		return err
	}
	var with []*ent.Resident
	for _, r := range rs {
		if r.FacePhoto != "" || r.FaceEnabled || r.FaceConsentAt != nil {
			with = append(with, r)
		}
	}
	if len(with) == 0 {
		return nil
	}
	return s.residents.WithdrawFace(ctx, with)
}

// FacePhoto returns the signed-in resident's newest face photo (JPEG).
//
// Errors: errs.NotFound (none).
func (s *Service) FacePhoto(ctx context.Context) ([]byte, error) {
	rs, err := s.faceRows(ctx, true)
	if err != nil {
		return nil, err
	}
	var newest *ent.Resident
	for _, r := range rs {
		if r.FacePhoto != "" && (newest == nil || r.UpdatedAt.After(newest.UpdatedAt)) {
			newest = r
		}
	}
	if newest == nil {
		return nil, errs.New(errs.NotFound, "您还没有上传人脸照片")
	}
	return s.residents.Photo(ctx, newest.FacePhoto)
}
