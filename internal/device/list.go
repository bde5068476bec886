package device

import (
	"context"
	"fmt"
	"slices"
	"time"

	"linli/internal/ent"
	entdevice "linli/internal/ent/device"
	"linli/internal/ent/room"
	"linli/internal/ent/unit"
	"linli/internal/errs"
	"linli/internal/housing"
	"linli/internal/store"
)

// SlotView is one row of 设备列表: a slot and the device bound to it, if any.
type SlotView struct {
	Slot
	Label       string     `json:"label" doc:"如 【测试小区1】-1区-2栋-1单元-门口机6"`
	DeviceID    int        `json:"device_id,omitempty"`
	Serial      string     `json:"serial,omitempty" doc:"序列号"`
	Model       string     `json:"model,omitempty" doc:"型号"`
	Firmware    string     `json:"firmware,omitempty" doc:"固件版本"`
	Orientation string     `json:"orientation,omitempty" enum:"landscape,portrait," doc:"屏幕方向"`
	IP          string     `json:"ip,omitempty"`
	Status      string     `json:"status" enum:"online,offline,unbound" doc:"在线、离线、未绑定"`
	LastSeen    *time.Time `json:"last_seen,omitempty" doc:"最后在线"`
	BoundAt     *time.Time `json:"bound_at,omitempty" doc:"绑定时间"`
	Upgrade     *Upgrade   `json:"upgrade,omitempty" doc:"最近一次固件升级"`
	SIP         string     `json:"sip,omitempty" enum:"registered,unregistered," doc:"SIP 注册：已注册、未注册（未绑定或 SIP 服务关闭时为空）"`
	SIPContacts []string   `json:"sip_contacts,omitempty" doc:"已注册时设备的 SIP 地址（host:port，NAT 后为服务器看到的地址）"`
}

// SIPContact is one live SIP registration of a device.
type SIPContact struct {
	Address   string // host:port the server reaches the device at
	Transport string // udp or tcp
}

// SIPPresence returns the live registrations of SIP usernames (d<device
// id>), by username; nil when the SIP server is off.
type SIPPresence func(ctx context.Context, usernames []string) (map[string][]SIPContact, error)

// SIPUsername is the SIP account of device id.
func SIPUsername(id int) string { return fmt.Sprintf("d%d", id) }

// withSIP fills the SIP state of the bound rows.
func (s *Service) withSIP(ctx context.Context, rows []SlotView) error {
	if s.sipPresence == nil {
		return nil
	}
	var names []string
	for _, v := range rows {
		if v.DeviceID > 0 {
			names = append(names, SIPUsername(v.DeviceID))
		}
	}
	if len(names) == 0 {
		return nil
	}
	regs, err := s.sipPresence(ctx, names)
	if err != nil || regs == nil {
		return err
	}
	for i, v := range rows {
		if v.DeviceID == 0 {
			continue
		}
		rows[i].SIP = "unregistered"
		for _, c := range regs[SIPUsername(v.DeviceID)] {
			rows[i].SIP = "registered"
			addr := c.Address
			if c.Transport == "tcp" {
				addr += " (TCP)"
			}
			rows[i].SIPContacts = append(rows[i].SIPContacts, addr)
		}
	}
	return nil
}

// SlotFilter selects rows of 设备列表.
type SlotFilter struct {
	Kind                       string // "" = door, wall and management stations
	AreaID, BuildingID, UnitID int
	Status                     string // online, offline, unbound, or ""
}

// Slots lists the slots of community cid with their devices.
func (s *Service) Slots(ctx context.Context, cid int, f SlotFilter) ([]SlotView, error) {
	c, err := store.Community(ctx, s.db.Client, cid)
	if err != nil {
		return nil, err
	}
	devs, err := s.db.Device.Query().Where(entdevice.CommunityID(cid)).All(ctx)
	if err != nil {
		return nil, err
	}
	bySlot := make(map[string]*ent.Device, len(devs))
	for _, d := range devs {
		bySlot[d.Slot] = d
	}
	var out []SlotView
	add := func(sl Slot, label string) {
		v := SlotView{Slot: sl, Label: label, Status: "unbound"}
		if d, ok := bySlot[sl.Key()]; ok {
			v.DeviceID, v.Serial, v.Model, v.Firmware, v.IP = d.ID, d.Serial, d.Model, d.Firmware, d.IP
			v.Orientation, v.LastSeen = string(d.Orientation), d.LastSeen
			bound := d.BoundAt
			v.BoundAt = &bound
			v.Upgrade = s.upgradeOf(d)
			v.Status = "offline"
			if d.Online {
				v.Status = "online"
			}
		}
		if f.Status == "" || f.Status == v.Status {
			out = append(out, v)
		}
	}
	inPlace := f.AreaID > 0 || f.BuildingID > 0 || f.UnitID > 0
	if f.Kind == "" || f.Kind == KindDoor {
		q := s.db.Unit.Query().Where(unit.CommunityID(cid))
		housing.WithUnitPath(q)
		if f.UnitID > 0 {
			q.Where(unit.ID(f.UnitID))
		}
		us, err := q.All(ctx)
		if err != nil {
			return nil, err
		}
		slices.SortFunc(us, housing.CompareUnits)
		for _, u := range us {
			b := u.Edges.Building
			if f.BuildingID > 0 && b.ID != f.BuildingID || f.AreaID > 0 && b.AreaID != f.AreaID {
				continue
			}
			for i := 1; i <= u.DeviceCount; i++ {
				add(Slot{Kind: KindDoor, UnitID: u.ID, Index: i}, housing.Label(c.Name, b.Edges.Area.Name, b.Name, u.Name, fmt.Sprintf("门口机%d", i)))
			}
		}
	}
	if !inPlace && (f.Kind == "" || f.Kind == KindWall) {
		for i := 1; i <= c.WallStationCount; i++ {
			add(Slot{Kind: KindWall, Index: i}, housing.Label(c.Name, fmt.Sprintf("围墙机%d", i)))
		}
	}
	if !inPlace && (f.Kind == "" || f.Kind == KindManagement) {
		for i := 1; i <= c.ManagementStationCount; i++ {
			add(Slot{Kind: KindManagement, Index: i}, housing.Label(c.Name, fmt.Sprintf("管理机%d", i)))
		}
	}
	if f.Kind == KindIndoor {
		q := s.db.Room.Query().Where(room.CommunityID(cid)).
			WithUnit(housing.WithUnitPath).
			Order(ent.Asc(room.FieldUnitID), ent.Asc(room.FieldFloor), ent.Asc(room.FieldNumber))
		if f.UnitID > 0 {
			q.Where(room.UnitID(f.UnitID))
		}
		rs, err := q.All(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			b := r.Edges.Unit.Edges.Building
			if f.BuildingID > 0 && b.ID != f.BuildingID || f.AreaID > 0 && b.AreaID != f.AreaID {
				continue
			}
			add(Slot{Kind: KindIndoor, RoomID: r.ID, Index: 1}, housing.RoomLabel(c.Name, r)+"-室内分机")
		}
	}
	if out == nil {
		out = []SlotView{}
	}
	if err := s.withSIP(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Unbind removes device id from its slot; its credentials stop working.
func (s *Service) Unbind(ctx context.Context, cid, id int) error {
	d, err := s.db.Device.Query().Where(entdevice.ID(id), entdevice.CommunityID(cid)).Only(ctx)
	if err != nil {
		return store.Map(err, "设备")
	}
	// The broker account goes first: a device whose unbinding failed can
	// still be unbound again, but a leftover account would go on working.
	if s.broker != nil {
		if err := s.broker.RemoveDevice(ctx, fmt.Sprintf("dev-%d", d.ID)); err != nil {
			s.logger.ErrorContext(ctx, "remove the device's broker account", "device", id, "err", err)
			return &errs.Error{Code: errs.Unavailable, Message: "设备消息服务暂时不可用，请稍后再解绑", Err: err}
		}
	}
	if err := s.db.Device.DeleteOneID(d.ID).Exec(ctx); err != nil {
		return store.Map(err, "设备")
	}
	s.logger.InfoContext(ctx, "device unbound", "community", cid, "device", id, "serial", d.Serial)
	return nil
}
