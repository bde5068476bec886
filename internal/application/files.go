package application

import (
	"context"
	"strconv"
	"strings"

	"linli/internal/actor"
	"linli/internal/blob"
	entapp "linli/internal/ent/application"
)

// photoPrefix starts the key of every stored application photo:
// applications/{community}/{random}.jpg.
const photoPrefix = "applications/"

// StoredFiles is the sweep's owner of application photos: a photo is in use
// while an application lists it. The photos are a list in each row, so a
// batch is answered from the applications of the communities its keys name.
func (s *Service) StoredFiles() blob.Owner {
	return blob.Owner{Prefix: photoPrefix, InUse: func(ctx context.Context, keys []string) (map[string]bool, error) {
		sys := actor.AsSystem(ctx)
		used := make(map[string]bool, len(keys))
		byCommunity := map[int]bool{}
		for _, k := range keys {
			cid, ok := photoCommunity(k)
			if !ok {
				used[k] = true // not a key this package wrote: leave it alone
				continue
			}
			byCommunity[cid] = true
		}
		for cid := range byCommunity {
			apps, err := s.db.Application.Query().Where(entapp.CommunityID(cid)).Select(entapp.FieldPhotos).All(sys)
			if err != nil {
				return nil, err
			}
			for _, a := range apps {
				for _, p := range a.Photos {
					used[p] = true
				}
			}
		}
		return used, nil
	}, Any: func(ctx context.Context) (bool, error) {
		return s.db.Application.Query().Exist(actor.AsSystem(ctx))
	}}
}

// photoCommunity reads the community's id from an application photo's key.
func photoCommunity(key string) (int, bool) {
	rest, ok := strings.CutPrefix(key, photoPrefix)
	if !ok {
		return 0, false
	}
	idText, _, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, false
	}
	id, err := strconv.Atoi(idText)
	return id, err == nil && id > 0
}
