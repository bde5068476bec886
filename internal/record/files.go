package record

import (
	"context"

	"linli/internal/actor"
	"linli/internal/blob"
	entevent "linli/internal/ent/event"
)

// snapshotPrefix starts the key of every stored snapshot.
const snapshotPrefix = "snapshots/"

// StoredFiles is the sweep's owner of snapshots: a snapshot is in use while
// a record refers to it. A crash between storing a snapshot and its record
// leaves a file that only the sweep removes.
func (s *Service) StoredFiles() blob.Owner {
	return blob.Owner{Prefix: snapshotPrefix, InUse: func(ctx context.Context, keys []string) (map[string]bool, error) {
		// snapshot_key <> '' lets both databases use the partial index.
		used, err := s.db.Event.Query().Where(entevent.SnapshotKeyNEQ(""), entevent.SnapshotKeyIn(keys...)).
			Select(entevent.FieldSnapshotKey).Strings(actor.AsSystem(ctx))
		return keySet(used), err
	}, Any: func(ctx context.Context) (bool, error) {
		return s.db.Event.Query().Where(entevent.SnapshotKeyNEQ("")).Exist(actor.AsSystem(ctx))
	}}
}

func keySet(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}
