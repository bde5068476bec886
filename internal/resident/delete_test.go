package resident_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"linli/internal/actor"
	"linli/internal/blob"
	"linli/internal/community"
	"linli/internal/device"
	"linli/internal/ent"
	"linli/internal/housing"
	"linli/internal/imaging"
	"linli/internal/resident"
	"linli/internal/secret"
	"linli/internal/store"
	"linli/internal/storetest"
)

// TestDeleteRunsHooks checks the rule the access layer relies on: deleting
// a resident runs every registered hook with the deleted resident, after the
// row is gone, in the same transaction; a hook that fails undoes the
// deletion, and a failing change hook undoes the change.
func TestDeleteRunsHooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		name, code, addr := "钩子小区", "440306", "x"
		c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
		if err != nil {
			t.Fatal(err)
		}
		hs := housing.NewService(db, device.NewService(db, nil, nil, slog.New(slog.DiscardHandler)))
		one, two := 1, 2
		a, _ := hs.CreateArea(ctx, c.ID, housing.AreaInput{Number: &one})
		b, _ := hs.CreateBuilding(ctx, c.ID, housing.BuildingInput{AreaID: a.ID, Number: &one})
		u, _ := hs.CreateUnit(ctx, c.ID, housing.UnitInput{BuildingID: b.ID, Number: &one, DeviceCount: &two})
		room, err := hs.CreateRoom(ctx, c.ID, housing.RoomInput{UnitID: u.ID, Floor: &one, Number: &two})
		if err != nil {
			t.Fatal(err)
		}
		box, _ := secret.Load("", t.TempDir())
		files, _ := blob.NewDir(t.TempDir())
		var seen []string
		fail := errors.New("whitelist store down")
		failing := true
		access := accessFuncs{
			deleted: func(ctx context.Context, tx *ent.Tx, r *ent.Resident) error {
				gone, err := tx.Resident.Query().Count(ctx)
				if err != nil || gone != 0 {
					t.Errorf("hook ran before the resident was deleted (%d left, %v)", gone, err)
				}
				seen = append(seen, "sessions:"+r.Phone)
				if failing {
					return fail
				}
				seen = append(seen, "whitelists:"+r.Name)
				return nil
			},
			changed: func(context.Context, *ent.Tx, *ent.Resident) error {
				if failing {
					return fail
				}
				return nil
			},
		}
		svc := resident.NewService(db, box, files, imaging.NewGate(imaging.DefaultBudget, imaging.DefaultDecodes, imaging.DefaultWait), access, slog.New(slog.NewTextHandler(io.Discard, nil)))

		n, ph, role := "张三", "13800138000", "业主"
		r, err := svc.Create(ctx, c.ID, resident.Input{RoomID: &room.ID, Name: &n, Phone: &ph, Role: &role})
		if err != nil {
			t.Fatal(err)
		}
		// The access layer fails: nothing changes.
		off := false
		if _, err := svc.SetFace(ctx, c.ID, r.ID, resident.FaceSettings{Enabled: &off, Permanent: true}); !errors.Is(err, fail) {
			t.Fatalf("change with a failing hook: %v", err)
		}
		if err := svc.Delete(ctx, c.ID, r.ID); !errors.Is(err, fail) {
			t.Fatalf("delete with a failing hook: %v", err)
		}
		if n := db.Resident.Query().CountX(ctx); n != 1 {
			t.Fatalf("a failed deletion left %d residents", n)
		}
		if n := db.AuditLog.Query().CountX(ctx); n != 0 {
			t.Fatalf("a failed deletion wrote %d audit rows", n)
		}
		failing, seen = false, nil
		if err := svc.Delete(ctx, c.ID, r.ID); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 2 || seen[0] != "sessions:13800138000" || seen[1] != "whitelists:张三" {
			t.Fatalf("hooks saw %v", seen)
		}
		audits := db.AuditLog.Query().AllX(ctx)
		if len(audits) != 1 || audits[0].Action != "delete_resident" {
			t.Fatalf("audit rows %+v", audits)
		}
	})
}

// accessFuncs is a resident.Access made of functions.
type accessFuncs struct {
	changed, deleted func(ctx context.Context, tx *ent.Tx, r *ent.Resident) error
}

func (a accessFuncs) ResidentChanged(ctx context.Context, tx *ent.Tx, r *ent.Resident) error {
	return a.changed(ctx, tx, r)
}

func (a accessFuncs) ResidentDeleted(ctx context.Context, tx *ent.Tx, r *ent.Resident) error {
	return a.deleted(ctx, tx, r)
}
