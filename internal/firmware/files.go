package firmware

import (
	"context"

	"linli/internal/actor"
	"linli/internal/blob"
	entfirmware "linli/internal/ent/firmware"
)

// StoredFiles is the sweep's owner of firmware images: an image is in use
// while a firmware row refers to it, under the random key or an old
// model/version one.
func (s *Service) StoredFiles() blob.Owner {
	return blob.Owner{Prefix: keyPrefix, InUse: func(ctx context.Context, keys []string) (map[string]bool, error) {
		used, err := s.db.Firmware.Query().Where(entfirmware.BlobKeyIn(keys...)).
			Select(entfirmware.FieldBlobKey).Strings(actor.AsSystem(ctx))
		m := make(map[string]bool, len(used))
		for _, k := range used {
			m[k] = true
		}
		return m, err
	}, Any: func(ctx context.Context) (bool, error) {
		return s.db.Firmware.Query().Exist(actor.AsSystem(ctx))
	}}
}
