package resident

import (
	"context"
	"strconv"
	"strings"

	"linli/internal/actor"
	"linli/internal/blob"
	entresident "linli/internal/ent/resident"
)

// facePrefix starts the key of every stored face photo:
// faces/{community}/{resident}-{random}.jpg.
const facePrefix = "faces/"

// StoredFiles is the sweep's owner of face photos: a photo is in use while
// its resident refers to it. The resident's id in the key lets a batch be
// answered by primary key.
func (s *Service) StoredFiles() blob.Owner {
	return blob.Owner{Prefix: facePrefix, InUse: func(ctx context.Context, keys []string) (map[string]bool, error) {
		var ids []int
		var other []string
		for _, k := range keys {
			if id, ok := faceResident(k); ok {
				ids = append(ids, id)
			} else {
				other = append(other, k)
			}
		}
		used, err := s.db.Resident.Query().
			Where(entresident.Or(entresident.IDIn(ids...), entresident.FacePhotoIn(other...))).
			Select(entresident.FieldFacePhoto).Strings(actor.AsSystem(ctx))
		m := make(map[string]bool, len(used))
		for _, k := range used {
			m[k] = true
		}
		return m, err
	}, Any: func(ctx context.Context) (bool, error) {
		return s.db.Resident.Query().Where(entresident.FacePhotoNEQ("")).Exist(actor.AsSystem(ctx))
	}}
}

// faceResident reads the resident's id from a face photo's key.
func faceResident(key string) (int, bool) {
	rest, ok := strings.CutPrefix(key, facePrefix)
	if !ok {
		return 0, false
	}
	_, name, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, false
	}
	idText, _, ok := strings.Cut(name, "-")
	if !ok {
		return 0, false
	}
	id, err := strconv.Atoi(idText)
	return id, err == nil && id > 0
}
