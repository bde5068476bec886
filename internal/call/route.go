package call

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"linli/internal/actor"
	"linli/internal/dialplan"
	"linli/internal/ent"
	"linli/internal/ent/appsession"
	"linli/internal/ent/area"
	"linli/internal/ent/building"
	entdevice "linli/internal/ent/device"
	"linli/internal/ent/resident"
	"linli/internal/ent/room"
	"linli/internal/ent/unit"
	"linli/internal/household"
	"linli/internal/housing"
	"linli/internal/sip"
)

// refuse returns a route refusal.
func refuse(code int, reason string) error { return &sip.RouteError{Code: code, Reason: reason} }

// Route resolves what caller dialled in the caller's own community: nothing
// of another community can be reached, whatever is dialled.
//
// A door station dials rooms of its unit by short number (0502, 502) and
// any room by full address; a wall station dials full addresses; a
// management station dials rooms, door and wall stations, and monitors them
// with the M prefix; an indoor monitor and an app monitor their unit's door
// stations and the community's wall stations; everyone dials the management
// stations (9900 all, 99NN one).
//
// Errors: *sip.RouteError 404 (not in the plan, or nothing there), 403 (not
// for this caller), 480 (nobody to ring).
func (d *Directory) Route(ctx context.Context, caller sip.Account, number string) (sip.Route, error) {
	n, err := dialplan.Parse(number)
	if err != nil {
		return sip.Route{}, refuse(404, "Not in dial plan: 号码不在拨号规则内")
	}
	sys := actor.AsSystem(ctx)
	c, err := d.db.Community.Get(sys, caller.CommunityID)
	if ent.IsNotFound(err) {
		return sip.Route{}, refuse(403, "Caller has no community")
	}
	if err != nil {
		return sip.Route{}, err
	}
	r := &resolver{d: d, ctx: sys, c: c, caller: caller, n: n}
	rt, err := r.resolve()
	if err != nil {
		return sip.Route{}, err
	}
	rt.Number = number
	rt.RingTime = time.Duration(c.RingSeconds) * time.Second
	return rt, nil
}

// resolver resolves one number for one caller.
type resolver struct {
	d      *Directory
	ctx    context.Context
	c      *ent.Community
	caller sip.Account
	n      dialplan.Number
	dev    *ent.Device // the caller's device, for devices
}

func (r *resolver) resolve() (sip.Route, error) {
	k := r.caller.Kind
	if k != sip.KindApp && k != sip.KindStaff {
		dev, err := r.d.db.Device.Query().Where(entdevice.ID(r.caller.DeviceID), entdevice.CommunityID(r.caller.CommunityID)).Only(r.ctx)
		if ent.IsNotFound(err) {
			return sip.Route{}, refuse(403, "Caller not bound")
		}
		if err != nil {
			return sip.Route{}, err
		}
		r.dev = dev
		if k == sip.KindDoor && dev.UnitID == nil || k == sip.KindIndoor && dev.RoomID == nil {
			return sip.Route{}, refuse(403, "Caller has no place")
		}
	}
	n := r.n
	if k == sip.KindStaff {
		// A staff page only ever watches a station of its community.
		if n.Kind == dialplan.Door || n.Kind == dialplan.Wall {
			if n.Kind == dialplan.Door && !n.Full {
				return sip.Route{}, refuse(404, "Dial the full address: 请拨完整地址，如 M1-1-1-D1")
			}
			return r.station(true)
		}
		return sip.Route{}, refuse(403, "Staff pages only watch stations")
	}
	switch n.Kind {
	case dialplan.Management:
		return r.management()
	case dialplan.Room:
		switch {
		case k == sip.KindDoor && !n.Full:
			return r.room(*r.dev.UnitID)
		case k == sip.KindWall && !n.Full:
			return sip.Route{}, refuse(404, "Wall stations dial full addresses: 请拨完整地址，如 1-1-1-0502")
		case k == sip.KindManagement && !n.Full:
			return sip.Route{}, refuse(404, "Dial the full address: 请拨完整地址，如 1-1-1-0502")
		case k == sip.KindDoor || k == sip.KindWall || k == sip.KindManagement:
			u, err := r.unit()
			if err != nil {
				return sip.Route{}, err
			}
			return r.room(u.ID)
		}
		return sip.Route{}, refuse(403, "Rooms cannot be called from here")
	case dialplan.Door, dialplan.Wall:
		switch k {
		case sip.KindManagement:
			if n.Kind == dialplan.Door && !n.Full {
				return sip.Route{}, refuse(404, "Dial the full address: 请拨完整地址，如 1-1-1-D1")
			}
			return r.station(n.Monitor)
		case sip.KindIndoor, sip.KindApp:
			// Indoor monitors and apps only ever watch a station.
			return r.station(true)
		}
		return sip.Route{}, refuse(403, "Stations cannot be called from here")
	}
	return sip.Route{}, refuse(404, "Not in dial plan")
}

// unit finds the unit of a full address.
func (r *resolver) unit() (*ent.Unit, error) {
	q := r.d.db.Unit.Query().Where(unit.CommunityID(r.c.ID), unit.Number(r.n.UnitNo),
		unit.HasBuildingWith(building.Number(r.n.Building), building.HasAreaWith(area.Number(r.n.Area))))
	housing.WithUnitPath(q)
	u, err := q.Only(r.ctx)
	if ent.IsNotFound(err) {
		return nil, refuse(404, fmt.Sprintf("No such unit: 本小区没有 %d-%d-%d", r.n.Area, r.n.Building, r.n.UnitNo))
	}
	return u, err
}

// room routes a call to the room of the number in unit unitID: its indoor
// monitor and the apps of its residents with APP呼叫, then 电话转移.
func (r *resolver) room(unitID int) (sip.Route, error) {
	q := r.d.db.Room.Query().Where(room.CommunityID(r.c.ID), room.UnitID(unitID), room.Floor(r.n.Floor), room.Number(r.n.RoomNo))
	housing.WithRoomPath(q)
	rm, err := q.Only(r.ctx)
	if ent.IsNotFound(err) {
		if r.n.Full {
			return sip.Route{}, refuse(404, "No such room: 没有这个房间")
		}
		return sip.Route{}, refuse(404, "No such room in this unit: 本单元没有房间 "+housing.RoomNo(r.n.Floor, r.n.RoomNo))
	}
	if err != nil {
		return sip.Route{}, err
	}
	rt := sip.Route{Target: housing.RoomLabel(r.c.Name, rm), RoomID: rm.ID, Gateway: Gateway(r.c.PhoneGateway)}
	monitors, err := r.d.db.Device.Query().Where(entdevice.CommunityID(r.c.ID), entdevice.RoomID(rm.ID),
		entdevice.KindEQ(entdevice.KindIndoor)).Order(ent.Asc(entdevice.FieldID)).All(r.ctx)
	if err != nil {
		return sip.Route{}, err
	}
	for _, m := range monitors {
		rt.Branches = append(rt.Branches, sip.Branch{Username: "d" + strconv.Itoa(m.ID), Who: "室内分机"})
	}
	// Residents in the order they were registered (the 业主 usually first).
	rs, err := r.d.db.Resident.Query().Where(resident.CommunityID(r.c.ID), resident.RoomID(rm.ID), resident.PhoneNEQ("")).
		Order(ent.Asc(resident.FieldID)).All(r.ctx)
	if err != nil {
		return sip.Route{}, err
	}
	var phones []string
	for _, res := range rs {
		if res.AppCall && !household.Ended(res, r.d.now()) {
			phones = append(phones, res.Phone)
		}
	}
	apps := map[string][]int{} // phone → its app installations, oldest first
	if len(phones) > 0 {
		ss, err := r.d.db.AppSession.Query().Where(appsession.PhoneIn(phones...), appsession.ExpiresAtGT(r.d.now()),
			appsession.SipPasswordSealedNotNil()).Order(ent.Asc(appsession.FieldID)).
			Select(appsession.FieldID, appsession.FieldPhone).All(r.ctx)
		if err != nil {
			return sip.Route{}, err
		}
		quiet, err := r.d.quiet(r.ctx, phones)
		if err != nil {
			return sip.Route{}, err
		}
		for _, s := range ss {
			if !quiet[s.Phone] {
				apps[s.Phone] = append(apps[s.Phone], s.ID)
			}
		}
	}
	for _, res := range rs {
		if res.AppCall {
			for _, id := range apps[res.Phone] {
				rt.Branches = append(rt.Branches, sip.Branch{Username: AppUsername(id), Who: res.Name})
			}
		}
		if res.CallForward && rt.Gateway != "" {
			rt.Forwards = append(rt.Forwards, sip.Forward{Phone: res.Phone, Who: res.Name})
		}
	}
	// A room with nobody to ring is still a call to the room: the server
	// answers 480 and records it as 未接听 for the room.
	return rt, nil
}

// management routes to 管理机N, or to 管理中心 (9900): every management
// station and every staff page open on 门口呼叫.
func (r *resolver) management() (sip.Route, error) {
	i := r.n.Index
	if i > r.c.ManagementStationCount {
		return sip.Route{}, refuse(404, fmt.Sprintf("No such management station: 本小区只有 %d 台管理机", r.c.ManagementStationCount))
	}
	q := r.d.db.Device.Query().Where(entdevice.CommunityID(r.c.ID), entdevice.KindEQ(entdevice.KindManagement))
	if i > 0 {
		q.Where(entdevice.Index(i))
	}
	ds, err := q.Order(ent.Asc(entdevice.FieldIndex)).All(r.ctx)
	if err != nil {
		return sip.Route{}, err
	}
	var staff []sip.Branch
	if i == 0 {
		if staff, err = r.d.staffBranches(r.ctx, r.c.ID); err != nil {
			return sip.Route{}, err
		}
	}
	if len(ds) == 0 && len(staff) == 0 {
		return sip.Route{}, refuse(480, "Management station not bound: 管理机未安装")
	}
	rt := sip.Route{Target: housing.Label(r.c.Name, "管理中心"), Branches: staff}
	if i > 0 {
		rt.Target, rt.DeviceID = housing.Label(r.c.Name, fmt.Sprintf("管理机%d", i)), ds[0].ID
	}
	for _, m := range ds {
		rt.Branches = append(rt.Branches, sip.Branch{Username: "d" + strconv.Itoa(m.ID), Who: fmt.Sprintf("管理机%d", m.Index)})
	}
	return rt, nil
}

// station routes to a door or wall station, as a call or as 监视.
func (r *resolver) station(monitor bool) (sip.Route, error) {
	n := r.n
	q := r.d.db.Device.Query().Where(entdevice.CommunityID(r.c.ID), entdevice.Index(n.Index))
	var label string
	if n.Kind == dialplan.Wall {
		if n.Index > r.c.WallStationCount {
			return sip.Route{}, refuse(404, fmt.Sprintf("No such wall station: 本小区只有 %d 台围墙机", r.c.WallStationCount))
		}
		q.Where(entdevice.KindEQ(entdevice.KindWall))
		label = housing.Label(r.c.Name, fmt.Sprintf("围墙机%d", n.Index))
	} else {
		u, err := r.doorUnit()
		if err != nil {
			return sip.Route{}, err
		}
		if n.Index > u.DeviceCount {
			return sip.Route{}, refuse(404, fmt.Sprintf("No such door station: 该单元只有 %d 台门口机", u.DeviceCount))
		}
		q.Where(entdevice.KindEQ(entdevice.KindDoor), entdevice.UnitID(u.ID))
		b := u.Edges.Building
		label = housing.Label(r.c.Name, b.Edges.Area.Name, b.Name, u.Name, fmt.Sprintf("门口机%d", n.Index))
	}
	dev, err := q.Only(r.ctx)
	if ent.IsNotFound(err) {
		return sip.Route{}, refuse(480, "Station not bound: 该位置未安装设备")
	}
	if err != nil {
		return sip.Route{}, err
	}
	who := fmt.Sprintf("门口机%d", n.Index)
	if n.Kind == dialplan.Wall {
		who = fmt.Sprintf("围墙机%d", n.Index)
	}
	return sip.Route{Target: label, DeviceID: dev.ID, Monitor: monitor,
		Branches: []sip.Branch{{Username: "d" + strconv.Itoa(dev.ID), Who: who}}}, nil
}

// doorUnit is the unit of a door-station number the caller may reach: any
// unit for a management station; only their own unit(s) for an indoor
// monitor or an app.
func (r *resolver) doorUnit() (*ent.Unit, error) {
	var own []int
	switch r.caller.Kind {
	case sip.KindManagement, sip.KindStaff:
		return r.unit()
	case sip.KindIndoor:
		rm, err := r.d.db.Room.Get(r.ctx, *r.dev.RoomID)
		if err != nil {
			return nil, err
		}
		own = []int{rm.UnitID}
	case sip.KindApp:
		units, err := r.d.db.Resident.Query().Where(resident.Phone(r.caller.Phone), resident.AppCall(true), resident.CommunityID(r.c.ID), household.Current(r.d.now())).
			Unique(true).Select(resident.FieldUnitID).Ints(r.ctx)
		if err != nil {
			return nil, err
		}
		own = units
	}
	var u *ent.Unit
	switch {
	case r.n.Full:
		var err error
		if u, err = r.unit(); err != nil {
			var re *sip.RouteError
			if errors.As(err, &re) {
				return nil, refuse(403, "Not your unit: 只能监视本单元的门口机")
			}
			return nil, err
		}
		for _, id := range own {
			if id == u.ID {
				return u, nil
			}
		}
		return nil, refuse(403, "Not your unit: 只能监视本单元的门口机")
	case len(own) == 1:
		q := r.d.db.Unit.Query().Where(unit.ID(own[0]))
		housing.WithUnitPath(q)
		return q.Only(r.ctx)
	case len(own) == 0:
		return nil, refuse(403, "No unit: 没有可监视的门口机")
	}
	return nil, refuse(404, "Several units: 请拨完整地址，如 M1-1-1-D1")
}
