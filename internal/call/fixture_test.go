package call

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	entdevice "linli/internal/ent/device"
	"linli/internal/ownerapp"
	"linli/internal/secret"
	"linli/internal/sip"
	"linli/internal/store"
)

// estate is a community with two units (1-1-1 and 1-1-2), rooms 0502 and
// 0601 in unit 1 and 0502 in unit 2, and bound devices.
type estate struct {
	c                         *ent.Community
	unit1, unit2              *ent.Unit
	room0502, room0601, other *ent.Room // other: 0502 of unit 2
	door1, door2, doorU2      *ent.Device
	wall1, mgmt1, mgmt2       *ent.Device
	monitor0502, monitorU2    *ent.Device
}

type world struct {
	db     *store.Store
	box    *secret.Box
	dir    *Directory
	owners *ownerapp.Service
	sms    *codes
	ctx    context.Context
	serial int
}

// codes catches the sign-in codes the app service sends.
type codes struct {
	mu   sync.Mutex
	last map[string]string
}

func (c *codes) Send(_ context.Context, phone, code string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last[phone] = code
	return nil
}

func newWorld(t testing.TB, db *store.Store) *world {
	t.Helper()
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	sms := &codes{last: map[string]string{}}
	return &world{db: db, box: box, dir: NewDirectory(db, box, logger), owners: ownerapp.NewService(db, box, sms, logger),
		sms: sms, ctx: actor.AsSystem(context.Background())}
}

func (w *world) must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) estate(t testing.TB, name string, gateway string) *estate {
	t.Helper()
	db, ctx := w.db, w.ctx
	e := &estate{}
	var err error
	e.c, err = db.Community.Create().SetName(name).SetRegionCode("440306").SetCommunityPassword("123456").
		SetResidentRoles([]string{"业主"}).SetManagementStationCount(2).SetWallStationCount(1).SetPhoneGateway(gateway).Save(ctx)
	w.must(t, err)
	a, err := db.Area.Create().SetCommunityID(e.c.ID).SetNumber(1).SetName("1区").Save(ctx)
	w.must(t, err)
	b, err := db.Building.Create().SetCommunityID(e.c.ID).SetAreaID(a.ID).SetNumber(1).SetName("1栋").Save(ctx)
	w.must(t, err)
	e.unit1, err = db.Unit.Create().SetCommunityID(e.c.ID).SetBuildingID(b.ID).SetNumber(1).SetName("1单元").SetDeviceCount(2).Save(ctx)
	w.must(t, err)
	e.unit2, err = db.Unit.Create().SetCommunityID(e.c.ID).SetBuildingID(b.ID).SetNumber(2).SetName("2单元").SetDeviceCount(1).Save(ctx)
	w.must(t, err)
	room := func(u *ent.Unit, floor, n int) *ent.Room {
		r, err := db.Room.Create().SetCommunityID(e.c.ID).SetUnitID(u.ID).SetFloor(floor).SetNumber(n).Save(ctx)
		w.must(t, err)
		return r
	}
	e.room0502, e.room0601, e.other = room(e.unit1, 5, 2), room(e.unit1, 6, 1), room(e.unit2, 5, 2)
	e.door1 = w.device(t, e.c.ID, "door", 1, e.unit1.ID, 0)
	e.door2 = w.device(t, e.c.ID, "door", 2, e.unit1.ID, 0)
	e.doorU2 = w.device(t, e.c.ID, "door", 1, e.unit2.ID, 0)
	e.wall1 = w.device(t, e.c.ID, "wall", 1, 0, 0)
	e.mgmt1 = w.device(t, e.c.ID, "management", 1, 0, 0)
	e.mgmt2 = w.device(t, e.c.ID, "management", 2, 0, 0)
	e.monitor0502 = w.device(t, e.c.ID, "indoor", 1, 0, e.room0502.ID)
	e.monitorU2 = w.device(t, e.c.ID, "indoor", 1, 0, e.other.ID)
	return e
}

func (w *world) device(t testing.TB, cid int, kind string, index, unitID, roomID int) *ent.Device {
	t.Helper()
	w.serial++
	slot := fmt.Sprintf("%s:%d:%d", kind, unitID, index)
	if kind == "indoor" {
		slot = fmt.Sprintf("indoor:%d:1", roomID)
	}
	c := w.db.Device.Create().SetCommunityID(cid).SetKind(entdevice.Kind(kind)).SetIndex(index).SetSlot(slot).
		SetSerial(fmt.Sprintf("SN-%d", w.serial)).SetBoundAt(time.Now()).SetTokenHash(fmt.Sprintf("t%d", w.serial)).
		SetMqttPasswordHash("x").SetSipPasswordSealed(w.box.Seal(fmt.Sprintf("sip-%d", w.serial)))
	if unitID > 0 {
		c.SetUnitID(unitID)
	}
	if roomID > 0 {
		c.SetRoomID(roomID)
	}
	d, err := c.Save(w.ctx)
	w.must(t, err)
	return d
}

func (w *world) resident(t testing.TB, r *ent.Room, name, phone string, appCall, forward bool) *ent.Resident {
	t.Helper()
	u, err := w.db.Unit.Get(w.ctx, r.UnitID)
	w.must(t, err)
	b, err := w.db.Building.Get(w.ctx, u.BuildingID)
	w.must(t, err)
	res, err := w.db.Resident.Create().SetCommunityID(r.CommunityID).SetRoomID(r.ID).SetUnitID(u.ID).SetBuildingID(b.ID).
		SetAreaID(b.AreaID).SetName(name).SetPhone(phone).SetRole("业主").SetAppCall(appCall).SetCallForward(forward).Save(w.ctx)
	w.must(t, err)
	return res
}

// signIn signs phone in to the app and returns its session's bearer header
// and SIP account.
func (w *world) signIn(t testing.TB, phone string) (string, *ownerapp.SIPAccount) {
	t.Helper()
	w.must(t, w.owners.SendCode(w.ctx, phone, "127.0.0.1"))
	sess, err := w.owners.SignIn(w.ctx, phone, w.sms.last[phone])
	w.must(t, err)
	return "Bearer " + sess.Token, sess.SIP
}

// account returns the account of username, failing when there is none.
func (w *world) account(t testing.TB, username string) sip.Account {
	t.Helper()
	a, ok, err := w.dir.Account(context.Background(), username)
	if err != nil || !ok {
		t.Fatalf("Account(%s) = %v, %v", username, ok, err)
	}
	return a
}

func dev(d *ent.Device) string { return fmt.Sprintf("d%d", d.ID) }

// code returns the SIP status of a route refusal, 0 for a route.
func code(err error) int {
	var re *sip.RouteError
	if errors.As(err, &re) {
		return re.Code
	}
	if err != nil {
		return -1
	}
	return 0
}
