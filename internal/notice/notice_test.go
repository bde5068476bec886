package notice

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/community"
	"linli/internal/device"
	"linli/internal/housing"
	"linli/internal/store"
	"linli/internal/storetest"
	"linli/internal/whitelist"
)

// TestNotices: the display window is 1 to 60 days; a 房间通知 reaches only
// the indoor monitors of its rooms; deleting withdraws it; an expired
// notice leaves devices.
func TestNotices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		clock := time.Date(2026, 7, 23, 2, 0, 0, 0, time.UTC) // 10:00 in China
		wl := whitelist.NewService(db, slog.New(slog.NewTextHandler(io.Discard, nil)), []whitelist.Source{NewSource(db)},
			whitelist.WithClock(func() time.Time { return clock }))
		svc := NewService(db, wl, nil)
		name, code, addr := "通知小区", "440306", "x"
		c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
		if err != nil {
			t.Fatal(err)
		}
		hs := housing.NewService(db, device.NewService(db, nil, nil, slog.New(slog.DiscardHandler)))
		one, two := 1, 2
		area, _ := hs.CreateArea(ctx, c.ID, housing.AreaInput{Number: &one})
		bld, _ := hs.CreateBuilding(ctx, c.ID, housing.BuildingInput{AreaID: area.ID, Number: &one})
		un, _ := hs.CreateUnit(ctx, c.ID, housing.UnitInput{BuildingID: bld.ID, Number: &one, DeviceCount: &one})
		r1, _ := hs.CreateRoom(ctx, c.ID, housing.RoomInput{UnitID: un.ID, Floor: &one, Number: &one})
		r2, err := hs.CreateRoom(ctx, c.ID, housing.RoomInput{UnitID: un.ID, Floor: &one, Number: &two})
		if err != nil {
			t.Fatal(err)
		}

		for _, w := range []struct {
			from, to, want string
		}{
			{"2026-07-23", "2026-07-22", "不能早于"}, // 0 days
			{"2026-07-23", "2026-07-23", ""},     // 1 day
			{"2026-07-23", "2026-09-20", ""},     // 60 days
			{"2026-07-23", "2026-09-21", "1 到 60 天"},
			{"2026-07-01", "2026-07-22", "已经过去"},
			{"2026/07/23", "2026-07-24", "格式"},
		} {
			_, err := svc.SendNotice(ctx, c.ID, false, NoticeInput{Title: "停水通知", Content: "7 月 24 日停水", From: w.from, To: w.to}, "mgr")
			if w.want == "" && err != nil || w.want != "" && (err == nil || !strings.Contains(err.Error(), w.want)) {
				t.Errorf("%s 至 %s: %v, want %q", w.from, w.to, err, w.want)
			}
		}
		if _, err := svc.SendNotice(ctx, c.ID, false, NoticeInput{Content: "x", From: "2026-07-23", To: "2026-07-23"}, "mgr"); err == nil {
			t.Error("a notice without a title was sent")
		}

		door := whitelist.Location{CommunityID: c.ID, UnitID: un.ID}
		mon1 := whitelist.Location{CommunityID: c.ID, UnitID: un.ID, RoomID: r1.ID}
		mon2 := whitelist.Location{CommunityID: c.ID, UnitID: un.ID, RoomID: r2.ID}
		has := func(loc whitelist.Location, key string) bool {
			es, err := wl.Whitelist(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				if e.Key == key {
					return true
				}
			}
			return false
		}
		rn, err := svc.SendNotice(ctx, c.ID, true, NoticeInput{Title: "缴费提醒", Content: "请缴物业费", RoomIDs: []int{r1.ID}}, "mgr")
		if err != nil {
			t.Fatal(err)
		}
		key := whitelist.NoticeKey(rn.ID)
		if !has(mon1, key) || has(mon2, key) || has(door, key) {
			t.Errorf("room notice: room 1 %v, room 2 %v, door station %v; want only room 1", has(mon1, key), has(mon2, key), has(door, key))
		}
		// Whole unit: both rooms.
		un2, err := svc.SendNotice(ctx, c.ID, true, NoticeInput{Title: "电梯检修", Content: "本单元电梯检修", UnitIDs: []int{un.ID}}, "mgr")
		if err != nil || !has(mon1, whitelist.NoticeKey(un2.ID)) || !has(mon2, whitelist.NoticeKey(un2.ID)) {
			t.Errorf("unit notice: %v", err)
		}

		// A device synced before the deletion gets the withdrawal.
		d0, _ := wl.Sync(ctx, mon1, 0)
		if err := svc.DeleteNotice(ctx, c.ID, rn.ID); err != nil {
			t.Fatal(err)
		}
		d1, err := wl.Sync(ctx, mon1, d0.Version)
		if err != nil || d1.Full || len(d1.Deletes) != 1 || d1.Deletes[0] != key {
			t.Fatalf("after deleting: %+v %v", d1, err)
		}

		// When the last day is over, the janitor takes it off devices.
		cn, _ := svc.SendNotice(ctx, c.ID, false, NoticeInput{Title: "停电通知", Content: "今晚停电", From: "2026-07-23", To: "2026-07-23"}, "mgr")
		d2, _ := wl.Sync(ctx, door, 0)
		clock = time.Date(2026, 7, 23, 16, 0, 1, 0, time.UTC) // 00:00:01 on the 24th in China
		if _, err := wl.ExpireDue(ctx); err != nil {
			t.Fatal(err)
		}
		d3, _ := wl.Sync(ctx, door, d2.Version)
		if d3.Full || !strings.Contains(strings.Join(d3.Deletes, ","), whitelist.NoticeKey(cn.ID)) {
			t.Errorf("after the last day: %+v", d3)
		}
	})
}
