package device

import (
	"context"
	"testing"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/store"
	"linli/internal/storetest"
)

// TestLocateKeepsDatabaseErrors: only a unit or room that does not exist is
// answered "不存在"; a database failure stays an internal error, to be
// logged and answered 500.
func TestLocateKeepsDatabaseErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		c := &ent.Community{ID: 1, Name: "测试小区"}
		for _, s := range []Slot{{Kind: KindDoor, UnitID: 7, Index: 1}, {Kind: KindIndoor, RoomID: 7, Index: 1}} {
			if _, _, err := locate(actor.AsSystem(context.Background()), db.Client, c, s); errs.CodeOf(err) != errs.Invalid {
				t.Errorf("%s slot of a missing place: %v, want a field error", s.Kind, err)
			}
		}
		db.Close()
		for _, s := range []Slot{{Kind: KindDoor, UnitID: 7, Index: 1}, {Kind: KindIndoor, RoomID: 7, Index: 1}} {
			if _, _, err := locate(actor.AsSystem(context.Background()), db.Client, c, s); err == nil || errs.CodeOf(err) != errs.Internal {
				t.Errorf("%s slot while the database is closed: %v, want an internal error", s.Kind, err)
			}
		}
	})
}
