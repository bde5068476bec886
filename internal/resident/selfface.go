package resident

import (
	"context"
	"fmt"
	"io"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/resident"
	"linli/internal/imaging"
	"linli/internal/store"
)

// PrepareFace checks a face photo against FaceLimits and returns it
// re-encoded as the console's upload stores it.
//
// Errors: errs.Invalid (bad picture), errs.Unavailable (no room to decode).
func (s *Service) PrepareFace(ctx context.Context, field string, photo io.ReadSeeker) ([]byte, error) {
	h, err := imaging.Inspect(field, photo, FaceLimits)
	if err != nil {
		return nil, err
	}
	return s.pictures.JPEG(ctx, field, photo, h, FaceLimits, faceMaxSide, 90)
}

// SelfFace stores jpeg (from PrepareFace) as the face of each of rs, with
// the resident's own consent to consent version at time at, and enables
// face access. Every row gets its own copy of the photo, so that deleting
// one resident deletes only its file. The change hooks run in the same
// transaction; the replaced photos are deleted afterwards.
func (s *Service) SelfFace(ctx context.Context, rs []*ent.Resident, jpeg []byte, version string, at time.Time) error {
	keys := make([]string, len(rs))
	for i, r := range rs {
		keys[i] = fmt.Sprintf(facePrefix+"%d/%d-%s.jpg", r.CommunityID, r.ID, randomHex(8))
		if err := s.files.Put(ctx, keys[i], jpeg); err != nil {
			s.dropFiles(ctx, keys[:i])
			return err
		}
	}
	err := s.db.InTx(ctx, func(tx *ent.Tx) error {
		for i, r := range rs {
			u, err := tx.Resident.UpdateOneID(r.ID).SetFacePhoto(keys[i]).SetFaceEnabled(true).
				SetFaceConsentAt(at).ClearFaceConsentBy().SetFaceConsentVersion(version).
				SetFaceExpirySynced(false).SetUpdatedAt(at).Save(ctx)
			if err != nil {
				return store.Map(err, "业主")
			}
			if err := s.changed(ctx, tx, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.dropFiles(ctx, keys)
		return err
	}
	old := make([]string, 0, len(rs))
	for _, r := range rs {
		old = append(old, r.FacePhoto)
	}
	s.dropFiles(ctx, old)
	return nil
}

// WithdrawFace deletes the face of each of rs (consent withdrawn): the
// photo, the consent and face access, with the change hooks in the same
// transaction so that devices drop the faces; the files go afterwards.
func (s *Service) WithdrawFace(ctx context.Context, rs []*ent.Resident) error {
	err := s.db.InTx(ctx, func(tx *ent.Tx) error {
		for _, r := range rs {
			u, err := tx.Resident.UpdateOneID(r.ID).Where(resident.CommunityID(r.CommunityID)).
				SetFacePhoto("").SetFaceEnabled(false).ClearFaceConsentAt().ClearFaceConsentBy().
				SetFaceConsentVersion("").ClearFaceValidFrom().ClearFaceValidTo().SetUpdatedAt(time.Now()).Save(ctx)
			if err != nil {
				return store.Map(err, "业主")
			}
			if err := s.changed(ctx, tx, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	old := make([]string, 0, len(rs))
	for _, r := range rs {
		old = append(old, r.FacePhoto)
	}
	s.dropFiles(ctx, old)
	return nil
}

// Photo returns the stored face photo of key.
func (s *Service) Photo(ctx context.Context, key string) ([]byte, error) {
	return s.files.Get(ctx, key)
}

// dropFiles deletes stored files, logging what fails (the orphan sweep
// removes them later).
func (s *Service) dropFiles(ctx context.Context, keys []string) {
	for _, k := range keys {
		if k == "" {
			continue
		}
		if err := s.files.Delete(ctx, k); err != nil {
			s.logger.ErrorContext(ctx, "delete face photo", "key", k, "err", err)
		}
	}
}
