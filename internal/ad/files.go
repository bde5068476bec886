package ad

import (
	"context"

	"linli/internal/actor"
	"linli/internal/blob"
	entad "linli/internal/ent/ad"
)

// adPrefix starts the key of every stored ad picture.
const adPrefix = "ads/"

// StoredFiles is the sweep's owner of ad pictures: a picture is in use while
// an ad slot shows it.
func (s *Service) StoredFiles() blob.Owner {
	return blob.Owner{Prefix: adPrefix, InUse: func(ctx context.Context, keys []string) (map[string]bool, error) {
		used, err := s.db.Ad.Query().Where(entad.ImageKeyIn(keys...)).Select(entad.FieldImageKey).Strings(actor.AsSystem(ctx))
		m := make(map[string]bool, len(used))
		for _, k := range used {
			m[k] = true
		}
		return m, err
	}, Any: func(ctx context.Context) (bool, error) {
		return s.db.Ad.Query().Exist(actor.AsSystem(ctx))
	}}
}
