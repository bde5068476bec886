package housing_test

import (
	"context"
	"log/slog"
	"testing"

	"linli/internal/actor"
	"linli/internal/community"
	"linli/internal/device"
	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/housing"
	"linli/internal/store"
	"linli/internal/storetest"
)

// TestTenancyInDataLayer checks the rule every handler relies on: the data
// layer itself hides other communities, whatever query a handler writes.
func TestTenancyInDataLayer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		bg := context.Background()
		op := actor.With(bg, actor.Actor{Kind: actor.Operator, AccountID: 1})
		cs, hs := community.NewService(db), housing.NewService(db, device.NewService(db, nil, nil, slog.New(slog.DiscardHandler)))
		mk := func(name string) (int, int) {
			region, addr := "440306", "地址"
			c, err := cs.Create(op, community.Input{Name: &name, RegionCode: &region, Address: &addr})
			if err != nil {
				t.Fatal(err)
			}
			one := 1
			a, err := hs.CreateArea(op, c.ID, housing.AreaInput{Number: &one})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID, a.ID
		}
		cidA, areaA := mk("甲小区")
		cidB, _ := mk("乙小区")
		staffB := actor.With(bg, actor.Actor{Kind: actor.Staff, AccountID: 2, Communities: []int{cidB}})

		if n := db.Area.Query().CountX(staffB); n != 1 {
			t.Errorf("staff of B counts %d areas, want only its own 1", n)
		}
		if _, err := db.Area.Get(staffB, areaA); !ent.IsNotFound(err) {
			t.Errorf("staff of B gets A's area: %v", err)
		}
		if _, err := db.Community.Get(staffB, cidA); !ent.IsNotFound(err) {
			t.Errorf("staff of B gets community A: %v", err)
		}
		if err := db.Area.UpdateOneID(areaA).SetName("被改").Exec(staffB); !ent.IsNotFound(err) {
			t.Errorf("staff of B renames A's area: %v", err)
		}
		if n, err := db.Area.Delete().Exec(staffB); err != nil || n != 1 {
			t.Errorf("staff of B bulk delete touched %d areas (%v), want only its own 1", n, err)
		}
		if _, err := db.Area.Create().SetCommunityID(cidA).SetNumber(2).SetName("2区").Save(staffB); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("staff of B creates an area in A: %v", err)
		}
		if _, err := db.Community.Create().SetName("丙").SetRegionCode("440306").SetCommunityPassword("1234").SetResidentRoles([]string{"业主"}).Save(staffB); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("staff creates a community: %v", err)
		}
		if a, err := db.Area.Get(op, areaA); err != nil || a.Name != "1区" {
			t.Errorf("A's area after B's attempts: %v %v", a, err)
		}
		// No actor, no data: a forgotten context fails loudly.
		if _, err := db.Area.Query().All(bg); err == nil {
			t.Error("a query without an actor succeeded")
		}
		if err := db.Area.UpdateOneID(areaA).SetName("x").Exec(bg); err == nil {
			t.Error("a mutation without an actor succeeded")
		}
	})
}
