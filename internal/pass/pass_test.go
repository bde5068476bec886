package pass

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/community"
	"linli/internal/device"
	"linli/internal/ent"
	"linli/internal/housing"
	"linli/internal/store"
	"linli/internal/storetest"
	"linli/internal/whitelist"
)

// TestPINsUnique: a new pass never takes the PIN of a pass of the
// community that can still open; a PIN of a revoked, used-up or expired
// pass may come back.
func TestPINsUnique(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		op := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		name, code, addr := "密码小区", "440306", "x"
		c, err := community.NewService(db).Create(op, community.Input{Name: &name, RegionCode: &code, Address: &addr})
		if err != nil {
			t.Fatal(err)
		}
		hs := housing.NewService(db, device.NewService(db, nil, nil, slog.New(slog.DiscardHandler)))
		one, dc := 1, 1
		area, err := hs.CreateArea(op, c.ID, housing.AreaInput{Number: &one})
		if err != nil {
			t.Fatal(err)
		}
		bld, _ := hs.CreateBuilding(op, c.ID, housing.BuildingInput{AreaID: area.ID, Number: &one})
		un, _ := hs.CreateUnit(op, c.ID, housing.UnitInput{BuildingID: bld.ID, Number: &one, DeviceCount: &dc})
		rm, err := hs.CreateRoom(op, c.ID, housing.RoomInput{UnitID: un.ID, Floor: &one, Number: &one})
		if err != nil {
			t.Fatal(err)
		}
		db.Resident.Create().SetCommunityID(c.ID).SetRoomID(rm.ID).SetAreaID(area.ID).SetBuildingID(bld.ID).SetUnitID(un.ID).
			SetName("甲").SetRole("业主").SetPhone("13911180001").SaveX(op)

		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		svc := NewService(db, whitelist.NewService(db, logger, []whitelist.Source{NewSource(db)}), nil, logger)
		var drawn []string
		queue := []string{}
		svc.pins = func() (string, error) {
			p := queue[0]
			queue = queue[1:]
			drawn = append(drawn, p)
			return p, nil
		}
		me := actor.With(context.Background(), actor.Actor{Kind: actor.Resident, Phone: "13911180001", Communities: []int{c.ID}})
		to := time.Now().Add(time.Hour)
		uses := 1
		create := func(pins ...string) *Pass {
			t.Helper()
			queue, drawn = pins, nil
			p, err := svc.Create(me, Input{RoomID: rm.ID, VisitorName: "访客", Kind: KindVisitor, ValidTo: &to, MaxUses: &uses})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		first := create("111111")
		if p := create("111111", "111111", "222222"); p.PIN != "222222" || len(drawn) != 3 {
			t.Errorf("a colliding PIN was kept: %s after %v", p.PIN, drawn)
		}
		// Used up: its PIN is free again.
		if err := svc.CountUse(asDevice(c.ID), c.ID, 7, first.ID, "e1", time.Now()); err != nil {
			t.Fatal(err)
		}
		if p := create("111111"); p.PIN != "111111" {
			t.Errorf("the PIN of a used-up pass was not reused: %s", p.PIN)
		}
		// A crowded community gives up with a reason instead of looping.
		queue = nil
		for range pinAttempts {
			queue = append(queue, "222222")
		}
		if _, err := svc.Create(me, Input{RoomID: rm.ID, VisitorName: "访客", Kind: KindVisitor, ValidTo: &to, MaxUses: &uses}); err == nil {
			t.Error("a pass was made although every PIN drawn was taken")
		}
	})
}

// asDevice acts as a device of community cid.
func asDevice(cid int) context.Context {
	return actor.With(context.Background(), actor.Actor{Kind: actor.Device, DeviceID: 7, Communities: []int{cid}})
}

func TestStatus(t *testing.T) {
	now := time.Now()
	revoked := now
	for _, tc := range []struct {
		p    ent.Pass
		want string
	}{
		{ent.Pass{ValidFrom: now.Add(-time.Hour), ValidTo: now.Add(time.Hour), MaxUses: 2, Uses: 1}, StatusValid},
		{ent.Pass{ValidFrom: now.Add(-time.Hour), ValidTo: now.Add(time.Hour), MaxUses: 0, Uses: 99}, StatusValid},
		{ent.Pass{ValidFrom: now.Add(-time.Hour), ValidTo: now.Add(time.Hour), MaxUses: 2, Uses: 2}, StatusUsedUp},
		{ent.Pass{ValidFrom: now.Add(time.Minute), ValidTo: now.Add(time.Hour)}, StatusUpcoming},
		{ent.Pass{ValidFrom: now.Add(-time.Hour), ValidTo: now}, StatusExpired},
		{ent.Pass{ValidFrom: now.Add(-time.Hour), ValidTo: now.Add(time.Hour), MaxUses: 1, Uses: 1, RevokedAt: &revoked}, StatusRevoked},
	} {
		if got := Status(&tc.p, now); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.p, got, tc.want)
		}
	}
}
