package whitelist_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/ad"
	"linli/internal/card"
	"linli/internal/community"
	devicepkg "linli/internal/device"
	"linli/internal/ent"
	entcard "linli/internal/ent/card"
	"linli/internal/housing"
	"linli/internal/notice"
	"linli/internal/pass"
	"linli/internal/region"
	"linli/internal/store"
	"linli/internal/storetest"
	"linli/internal/whitelist"
)

// device is a simulated device: it applies every sync answer to its own set.
type device struct {
	loc     whitelist.Location
	version int64
	set     map[string]whitelist.Entry
}

func (d *device) apply(delta *whitelist.Delta) {
	if delta.Full {
		d.set = map[string]whitelist.Entry{}
	}
	for _, e := range delta.Upserts {
		d.set[e.Key] = e
	}
	for _, k := range delta.Deletes {
		delete(d.set, k)
	}
	d.version = delta.Version
}

// newServices returns the whitelist of db with every source, going by now,
// and the card and notice services that feed it.
func newServices(db *store.Store, now func() time.Time, opts ...whitelist.Option) (*whitelist.Service, *card.Service, *notice.Service) {
	if now != nil {
		opts = append(opts, whitelist.WithClock(now))
	}
	sources := []whitelist.Source{pass.NewSource(db), ad.NewSource(db), notice.NewSource(db), card.NewSource(db)}
	wl := whitelist.NewService(db, slog.New(slog.NewTextHandler(io.Discard, nil)), sources, opts...)
	return wl, card.NewService(db, wl), notice.NewService(db, wl, nil)
}

// TestWhitelistConvergence performs random card and resident operations with
// devices syncing at random moments, and checks that every device that
// applies its answers holds exactly the whitelist the server computes.
func TestWhitelistConvergence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { converge(t, db, seed, false) })
		}
	})
}

// TestNudgeConvergence is TestWhitelistConvergence with nudges: devices
// apply the change a nudge carries when it follows on their version, sync
// when it does not (a nudge without a change, or one after a lost nudge),
// and at the end every device at the server's version holds exactly the
// whitelist the server computes for it, without a last sync.
func TestNudgeConvergence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { converge(t, db, seed, true) })
		}
	})
}

// nudges collects the nudges of a whitelist service, as a broker would
// carry them.
type nudges struct {
	whitelist.Devices
	sent []*whitelist.Nudge
}

func (n *nudges) Nudge(_ context.Context, nd *whitelist.Nudge) { n.sent = append(n.sent, nd) }

// nudgeMessage is a sync command as devices read it.
type nudgeMessage struct {
	Type    string
	Version int64
	Delta   *whitelist.NudgeDelta
}

func converge(t *testing.T, db *store.Store, seed uint64, nudged bool) {
	rng := rand.New(rand.NewPCG(seed, 42))
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
	clock := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	sent := &nudges{}
	var opts []whitelist.Option
	if nudged {
		opts = append(opts, whitelist.WithDevices(sent))
	}
	wl, cardSvc, noticeSvc := newServices(db, func() time.Time { return clock }, opts...)

	name, code, addr := fmt.Sprintf("收敛小区%d", seed), "440306", "x"
	c, err := community.NewService(db).Create(ctx, community.Input{Name: &name, RegionCode: &code, Address: &addr})
	if err != nil {
		t.Fatal(err)
	}
	hs := housing.NewService(db, devicepkg.NewService(db, nil, nil, slog.New(slog.DiscardHandler)))
	one := 1
	area, _ := hs.CreateArea(ctx, c.ID, housing.AreaInput{Number: &one})
	var units []int
	var rooms []*ent.Room
	for b := 1; b <= 2; b++ {
		bld, _ := hs.CreateBuilding(ctx, c.ID, housing.BuildingInput{AreaID: area.ID, Number: &b})
		for u := 1; u <= 2; u++ {
			dc := 1
			un, err := hs.CreateUnit(ctx, c.ID, housing.UnitInput{BuildingID: bld.ID, Number: &u, DeviceCount: &dc})
			if err != nil {
				t.Fatal(err)
			}
			units = append(units, un.ID)
			for f := 1; f <= 2; f++ {
				r, err := hs.CreateRoom(ctx, c.ID, housing.RoomInput{UnitID: un.ID, Floor: &f, Number: &one})
				if err != nil {
					t.Fatal(err)
				}
				rooms = append(rooms, r)
			}
		}
	}
	newResident := func() *ent.Resident {
		rm := rooms[rng.IntN(len(rooms))]
		u := db.Unit.GetX(ctx, rm.UnitID)
		bl := db.Building.GetX(ctx, u.BuildingID)
		r := db.Resident.Create().SetCommunityID(c.ID).SetRoomID(rm.ID).SetAreaID(bl.AreaID).SetBuildingID(bl.ID).
			SetUnitID(u.ID).SetName("业主").SetRole("业主").SaveX(ctx)
		return r
	}
	residents := []*ent.Resident{newResident(), newResident(), newResident()}

	devices := []*device{}
	for _, u := range units {
		devices = append(devices, &device{loc: whitelist.Location{CommunityID: c.ID, UnitID: u}, set: map[string]whitelist.Entry{}})
	}
	// A wall station (with a screen), then a management station.
	devices = append(devices, &device{loc: whitelist.Location{CommunityID: c.ID, Screen: true}, set: map[string]whitelist.Entry{}})
	devices = append(devices, &device{loc: whitelist.Location{CommunityID: c.ID}, set: map[string]whitelist.Entry{}})
	for _, rm := range rooms[:3] { // indoor monitors
		devices = append(devices, &device{loc: whitelist.Location{CommunityID: c.ID, UnitID: rm.UnitID, RoomID: rm.ID}, set: map[string]whitelist.Entry{}})
	}
	for i, d := range devices {
		d.loc.DeviceID = 1000 + i
	}
	var notices []int
	notice := func(rooms []int) {
		from := clock.In(region.Time).AddDate(0, 0, rng.IntN(2)-1)
		in := notice.NoticeInput{Title: "停水通知", Content: "明天停水", From: from.Format(time.DateOnly), To: from.AddDate(0, 0, rng.IntN(4)).Format(time.DateOnly), RoomIDs: rooms}
		if n, err := noticeSvc.SendNotice(ctx, c.ID, rooms != nil, in, "test"); err == nil {
			notices = append(notices, n.ID)
		}
	}
	passEntries := 0 // pass entries devices received
	sync := func(d *device) {
		delta, err := wl.Sync(ctx, d.loc, d.version)
		if err != nil {
			t.Fatal(err)
		}
		d.apply(delta)
		for _, e := range delta.Upserts {
			if e.Kind == "pass" {
				passEntries++
			}
		}
	}

	numbers := []string{}
	randomCard := func() *ent.Card {
		cs := db.Card.Query().Where(entcard.CommunityID(c.ID), entcard.StatusNEQ(entcard.StatusBlank)).AllX(ctx)
		if len(cs) == 0 {
			return nil
		}
		return cs[rng.IntN(len(cs))]
	}
	randomUnits := func() []int {
		var us []int
		for _, u := range units {
			if rng.IntN(2) == 0 {
				us = append(us, u)
			}
		}
		return us
	}
	expiry := func() *time.Time {
		if rng.IntN(3) > 0 {
			return nil
		}
		t := clock.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
		return &t
	}

	passes := passOps(t, ctx, db, wl, c.ID, rooms, devices, rng, func() time.Time { return clock },
		func() int { return residents[rng.IntN(len(residents))].ID })
	// Nudges reach each device in order, now and then one is lost.
	lose := rand.New(rand.NewPCG(seed, 7))
	applied, caughtUp := 0, 0
	deliver := func() {
		for _, n := range sent.sent {
			for _, d := range devices {
				if lose.IntN(8) == 0 {
					continue
				}
				var msg nudgeMessage
				if err := json.Unmarshal(n.Payload(d.loc), &msg); err != nil || msg.Type != "sync" || msg.Version != n.Version {
					t.Fatalf("nudge %s: %v", n.Payload(d.loc), err)
				}
				switch {
				case msg.Version <= d.version:
				case msg.Delta != nil && msg.Delta.Since == d.version:
					d.apply(&whitelist.Delta{Version: msg.Version, Upserts: msg.Delta.Upserts, Deletes: msg.Delta.Deletes})
					applied++
				default:
					sync(d)
					caughtUp++
				}
			}
		}
		sent.sent = nil
	}
	for range 250 {
		switch op := rng.IntN(19); op {
		case 15, 16, 17, 18:
			passes(op - 15)
		case 0, 1:
			n := fmt.Sprintf("%08X", rng.Uint32())
			if len(numbers) > 0 && rng.IntN(4) == 0 {
				n = numbers[rng.IntN(len(numbers))] // reuse a number: refused while issued, fine when blank
			}
			numbers = append(numbers, n)
			_, _ = cardSvc.IssueNormal(ctx, c.ID, card.CardInput{Number: n, ResidentID: residents[rng.IntN(len(residents))].ID, UnitIDs: randomUnits(), ValidUntil: expiry()})
		case 2:
			n := fmt.Sprintf("%08X", rng.Uint32())
			numbers = append(numbers, n)
			_, _ = cardSvc.IssueSuper(ctx, c.ID, card.CardInput{Number: n, ValidUntil: expiry()})
		case 3:
			if cd := randomCard(); cd != nil {
				_, _ = cardSvc.SetUnits(ctx, c.ID, cd.ID, randomUnits())
			}
		case 4:
			if cd := randomCard(); cd != nil {
				_, _ = cardSvc.SetExpiry(ctx, c.ID, cd.ID, expiry())
			}
		case 5:
			if cd := randomCard(); cd != nil {
				_, _ = cardSvc.SetEnabled(ctx, c.ID, cd.ID, rng.IntN(2) == 0)
			}
		case 6:
			if cd := randomCard(); cd != nil {
				_, _ = cardSvc.Blank(ctx, c.ID, cd.ID)
			}
		case 7:
			if cd := randomCard(); cd != nil {
				_ = cardSvc.Delete(ctx, c.ID, cd.ID)
			}
		case 8:
			// A resident leaves: their cards and face go; someone else moves in.
			i := rng.IntN(len(residents))
			r := residents[i]
			if err := db.InTx(ctx, func(tx *ent.Tx) error {
				if err := tx.Resident.DeleteOneID(r.ID).Exec(ctx); err != nil {
					return err
				}
				return wl.ResidentDeleted(ctx, tx, r)
			}); err != nil {
				t.Fatal(err)
			}
			residents[i] = newResident()
		case 9:
			// Face permission changes (photo, validity, stop).
			r := residents[rng.IntN(len(residents))]
			if err := db.InTx(ctx, func(tx *ent.Tx) error {
				u := tx.Resident.UpdateOneID(r.ID).SetFacePhoto("faces/x.jpg").SetFaceEnabled(rng.IntN(3) > 0).SetFaceExpirySynced(false)
				if e := expiry(); e != nil {
					u.SetFaceValidTo(*e)
				} else {
					u.ClearFaceValidTo()
				}
				r, err := u.Save(ctx)
				if err != nil {
					return err
				}
				return wl.ResidentChanged(ctx, tx, r)
			}); err != nil {
				t.Fatal(err)
			}
		case 10:
			// Time passes; the janitor expires what ran out.
			clock = clock.Add(time.Duration(rng.IntN(20)) * time.Hour)
			if _, err := wl.ExpireDue(ctx); err != nil {
				t.Fatal(err)
			}
		case 12:
			notice(nil)
		case 13:
			notice([]int{rooms[rng.IntN(len(rooms))].ID, rooms[rng.IntN(len(rooms))].ID})
		case 14:
			if len(notices) > 0 {
				_ = noticeSvc.DeleteNotice(ctx, c.ID, notices[rng.IntN(len(notices))])
			}
		case 11:
			if rng.IntN(10) == 0 {
				d := devices[rng.IntN(len(devices))]
				d.version, d.set = 0, map[string]whitelist.Entry{} // a replaced device starts from nothing
			}
		}
		deliver()
		if rng.IntN(3) == 0 {
			sync(devices[rng.IntN(len(devices))])
		}
	}
	if _, err := wl.ExpireDue(ctx); err != nil {
		t.Fatal(err)
	}
	deliver()
	if passEntries == 0 {
		t.Error("no device ever received a visitor pass")
	}
	if nudged && (applied == 0 || caughtUp == 0) {
		t.Errorf("devices applied %d changes from nudges and caught up %d times; want both", applied, caughtUp)
	}
	current := db.Community.GetX(ctx, c.ID).SyncVersion
	for i, d := range devices {
		if !nudged || d.version != current {
			sync(d)
		}
		want, err := wl.Whitelist(ctx, d.loc)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]whitelist.Entry, 0, len(d.set))
		for _, e := range want {
			if g, ok := d.set[e.Key]; ok {
				got = append(got, g)
			}
		}
		if len(d.set) != len(want) || !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Fatalf("device %d (unit %d, room %d) holds %d entries, server computes %d:\ndevice %v\nserver %v",
				i, d.loc.UnitID, d.loc.RoomID, len(d.set), len(want), keys(d.set), want)
		}
	}
}

func normalize(es []whitelist.Entry) []whitelist.Entry {
	out := make([]whitelist.Entry, len(es))
	for i, e := range es {
		if e.ValidUntil != nil {
			v := e.ValidUntil.UTC().Truncate(time.Second)
			e.ValidUntil = &v
		}
		if e.ValidFrom != nil {
			v := e.ValidFrom.UTC().Truncate(time.Second)
			e.ValidFrom = &v
		}
		out[i] = e
	}
	return out
}

func keys(m map[string]whitelist.Entry) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// passOps returns the random visitor-pass operations of the convergence
// test: 0 creates a pass (now and then a delivery code for one door), 1
// uses one (at times beyond its limit), 2 revokes one, 3 creates one that
// ends within hours, for the expiry job. Deleting a resident (case 8)
// revokes the passes they made.
func passOps(t *testing.T, ctx context.Context, db *store.Store, wl *whitelist.Service, cid int, rooms []*ent.Room, devices []*device,
	rng *rand.Rand, now func() time.Time, resident func() int) func(op int) {
	var ids []int
	change := func(fn func(tx *ent.Tx) (int, error)) {
		t.Helper()
		if err := db.InTx(ctx, func(tx *ent.Tx) error {
			id, err := fn(tx)
			if err != nil {
				return err
			}
			return wl.ChangeIn(ctx, tx, cid, func(*ent.Tx) ([]string, error) { return []string{whitelist.PassKey(id)}, nil })
		}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(hours int) {
		change(func(tx *ent.Tx) (int, error) {
			rm := rooms[rng.IntN(len(rooms))]
			from := now().Add(time.Duration(rng.IntN(5)-2) * time.Hour)
			c := tx.Pass.Create().SetCommunityID(cid).SetRoomID(rm.ID).SetUnitID(rm.UnitID).SetResidentID(resident()).SetPhone("13900000000").
				SetVisitorName("访客").SetKind("visitor").SetValidFrom(from).SetValidTo(now().Add(time.Duration(hours) * time.Hour)).
				SetMaxUses(rng.IntN(3)).SetPin(fmt.Sprintf("%06d", rng.IntN(1e6))).
				SetQrToken(fmt.Sprintf("qr%d", rng.Uint64())).SetShareToken(fmt.Sprintf("sh%d", rng.Uint64()))
			if rng.IntN(4) == 0 {
				c.SetKind("delivery").SetMaxUses(1).SetDoorID(devices[rng.IntN(len(devices))].loc.DeviceID)
			}
			p, err := c.Save(ctx)
			if err == nil {
				ids = append(ids, p.ID)
			}
			return p.ID, err
		})
	}
	return func(op int) {
		if op != 0 && op != 3 && len(ids) == 0 {
			return
		}
		switch op {
		case 0:
			create(1 + rng.IntN(7*24))
		case 1:
			id := ids[rng.IntN(len(ids))]
			change(func(tx *ent.Tx) (int, error) { return id, tx.Pass.UpdateOneID(id).AddUses(1).Exec(ctx) })
		case 2:
			id := ids[rng.IntN(len(ids))]
			change(func(tx *ent.Tx) (int, error) { return id, tx.Pass.UpdateOneID(id).SetRevokedAt(now()).Exec(ctx) })
		case 3:
			create(1 + rng.IntN(20))
		}
	}
}
