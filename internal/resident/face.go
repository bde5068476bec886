package resident

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/imaging"
)

// FaceLimits bound an uploaded face photo: what a phone camera takes, no
// more.
var FaceLimits = imaging.Limits{
	MaxBytes: 5 << 20, MinWidth: 120, MinHeight: 120,
	MaxWidth: imaging.CameraSide, MaxHeight: imaging.CameraSide, MaxPixels: imaging.CameraPixels, Label: "人脸照片",
}

// faceMaxSide is the longest side a stored face photo keeps.
const faceMaxSide = 1024

// FaceSettings are the face permission (人脸权限) of a resident.
type FaceSettings struct {
	Enabled   *bool
	ValidFrom *time.Time
	ValidTo   *time.Time // nil with Permanent: no end
	Permanent bool       // 永久有效
}

func (f FaceSettings) check() error {
	if f.ValidFrom != nil && f.ValidTo != nil && !f.ValidTo.After(*f.ValidFrom) {
		return errs.Field("valid_to", "人脸权限的结束时间必须晚于开始时间")
	}
	return nil
}

// UploadFace stores a face photo for resident id after recording the
// resident's consent (who recorded it, when). The photo is checked and
// re-encoded; the previous one is deleted.
//
// Errors: errs.Invalid (no consent, bad picture, bad dates), errs.NotFound,
// errs.Unavailable (no room to decode the photo in time).
func (s *Service) UploadFace(ctx context.Context, cid, id int, photo io.ReadSeeker, consent bool, f FaceSettings) (*ent.Resident, error) {
	if !consent {
		return nil, errs.Field("consent", "人脸照片属于敏感个人信息：请先确认已取得业主本人同意")
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	r, err := s.Get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	h, err := imaging.Inspect("file", photo, FaceLimits)
	if err != nil {
		return nil, err
	}
	out, err := s.pictures.JPEG(ctx, "file", photo, h, FaceLimits, faceMaxSide, 90)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf(facePrefix+"%d/%d-%s.jpg", cid, id, randomHex(8))
	if err := s.files.Put(ctx, key, out); err != nil {
		return nil, err
	}
	updated, err := s.save(ctx, cid, id, true, func(u *ent.ResidentUpdateOne) {
		u.SetFacePhoto(key).SetFaceConsentAt(time.Now()).SetFaceConsentVersion("")
		if p := auth.Current(ctx); p != nil {
			u.SetFaceConsentBy(p.Account.ID)
		}
		applyFace(u, f, true)
	})
	if err != nil {
		_ = s.files.Delete(ctx, key)
		return nil, err
	}
	if r.FacePhoto != "" {
		_ = s.files.Delete(ctx, r.FacePhoto)
	}
	return updated, nil
}

func applyFace(u *ent.ResidentUpdateOne, f FaceSettings, defaultEnable bool) {
	switch {
	case f.Enabled != nil:
		u.SetFaceEnabled(*f.Enabled)
	case defaultEnable:
		u.SetFaceEnabled(true)
	}
	u.SetFaceExpirySynced(false)
	if f.ValidFrom != nil {
		u.SetFaceValidFrom(*f.ValidFrom)
	}
	if f.Permanent {
		u.ClearFaceValidTo()
	} else if f.ValidTo != nil {
		u.SetFaceValidTo(*f.ValidTo)
	}
}

// SetFace changes the face permission of resident id: enable or stop it, and
// its validity.
func (s *Service) SetFace(ctx context.Context, cid, id int, f FaceSettings) (*ent.Resident, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	r, err := s.Get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	if f.Enabled != nil && *f.Enabled && r.FacePhoto == "" {
		return nil, errs.Field("enabled", "该业主还没有人脸照片，请先上传")
	}
	return s.save(ctx, cid, id, true, func(u *ent.ResidentUpdateOne) { applyFace(u, f, false) })
}

// DeleteFace removes the face photo of resident id and stops face access.
func (s *Service) DeleteFace(ctx context.Context, cid, id int) (*ent.Resident, error) {
	r, err := s.Get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	updated, err := s.save(ctx, cid, id, true, func(u *ent.ResidentUpdateOne) {
		u.SetFacePhoto("").SetFaceEnabled(false).
			ClearFaceConsentAt().ClearFaceConsentBy().SetFaceConsentVersion("").ClearFaceValidFrom().ClearFaceValidTo()
	})
	if err != nil {
		return nil, err
	}
	if r.FacePhoto != "" {
		_ = s.files.Delete(ctx, r.FacePhoto)
	}
	return updated, nil
}

// FacePhoto returns the stored JPEG of resident id.
func (s *Service) FacePhoto(ctx context.Context, cid, id int) ([]byte, error) {
	r, err := s.Get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	if r.FacePhoto == "" {
		return nil, errs.New(errs.NotFound, "该业主没有人脸照片")
	}
	return s.files.Get(ctx, r.FacePhoto)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
