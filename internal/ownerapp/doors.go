package ownerapp

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/device"
	"linli/internal/ent"
	"linli/internal/ent/community"
	entdevice "linli/internal/ent/device"
	"linli/internal/ent/unit"
	"linli/internal/errs"
	"linli/internal/housing"
	"linli/internal/httpapi"
)

// DefaultOpenTimeout is how long a remote opening waits for the device.
const DefaultOpenTimeout = 5 * time.Second

// Doors opens doors remotely (the device service, over MQTT).
type Doors interface {
	Open(ctx context.Context, req device.OpenRequest) (time.Time, error)
}

// Snapshots reads the snapshot of a record.
type Snapshots interface {
	Snapshot(ctx context.Context, cid, id int) ([]byte, error)
}

// Option configures a Service.
type Option func(*Service)

// WithDoors lets residents open doors through d, waiting at most timeout
// (DefaultOpenTimeout when 0) for the device.
func WithDoors(d Doors, timeout time.Duration) Option {
	return func(s *Service) {
		s.doors = d
		if timeout > 0 {
			s.openTimeout = timeout
		}
	}
}

// WithSnapshots serves call snapshots from r.
func WithSnapshots(r Snapshots) Option { return func(s *Service) { s.snapshots = r } }

// AppDoor is a door the resident may open from the app.
type AppDoor struct {
	ID            int    `json:"id"`
	Name          string `json:"name" doc:"如 1区1栋1单元门口机"`
	Kind          string `json:"kind" enum:"门口机,围墙机,管理机"`
	CommunityID   int    `json:"community_id"`
	CommunityName string `json:"community_name"`
	Online        bool   `json:"online" doc:"设备在线（可远程开门）"`
}

// myDoors returns the bound devices the phone of ctx may open: the door
// stations of its units, and the wall and management stations of its
// communities; with id > 0 only that one.
func (s *Service) myDoors(ctx context.Context, id int) ([]*ent.Device, []*ent.Resident, error) {
	rs, err := s.myResidents(ctx)
	if err != nil || len(rs) == 0 {
		return nil, rs, err
	}
	var units, cids []int
	for _, r := range rs {
		units, cids = append(units, r.UnitID), append(cids, r.CommunityID)
	}
	q := s.db.Device.Query().Where(entdevice.CommunityIDIn(cids...), entdevice.Or(
		entdevice.And(entdevice.KindEQ(entdevice.KindDoor), entdevice.UnitIDIn(units...)),
		entdevice.KindIn(entdevice.KindWall, entdevice.KindManagement)))
	if id > 0 {
		q.Where(entdevice.ID(id))
	}
	ds, err := q.Order(ent.Asc(entdevice.FieldCommunityID), ent.Asc(entdevice.FieldKind), ent.Asc(entdevice.FieldUnitID),
		ent.Asc(entdevice.FieldIndex)).All(actor.AsSystem(ctx))
	return ds, rs, err
}

var doorKinds = map[entdevice.Kind]string{entdevice.KindDoor: "门口机", entdevice.KindWall: "围墙机", entdevice.KindManagement: "管理机"}

// Doors lists the doors of the phone of ctx, unit door stations first.
func (s *Service) Doors(ctx context.Context) ([]AppDoor, error) {
	sys := actor.AsSystem(ctx)
	ds, _, err := s.myDoors(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := []AppDoor{}
	if len(ds) == 0 {
		return out, nil
	}
	var cids, uids []int
	for _, d := range ds {
		cids = append(cids, d.CommunityID)
		if d.UnitID != nil {
			uids = append(uids, *d.UnitID)
		}
	}
	cs, err := s.db.Community.Query().Where(community.IDIn(cids...)).All(sys)
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	uq := s.db.Unit.Query().Where(unit.IDIn(uids...))
	housing.WithUnitPath(uq)
	us, err := uq.All(sys)
	if err != nil {
		return nil, err
	}
	places := map[int]string{}
	for _, u := range us {
		b := u.Edges.Building
		places[u.ID] = b.Edges.Area.Name + b.Name + u.Name
	}
	for _, d := range ds {
		kind := doorKinds[d.Kind]
		name := fmt.Sprintf("%s%d", kind, d.Index)
		if d.Kind == entdevice.KindDoor {
			name = places[*d.UnitID] + kind
			if d.Index > 1 {
				name += fmt.Sprint(d.Index)
			}
		}
		out = append(out, AppDoor{ID: d.ID, Name: name, Kind: kind, CommunityID: d.CommunityID, CommunityName: names[d.CommunityID], Online: d.Online})
	}
	return out, nil
}

// OpenDoor opens door id for the phone of ctx: the device opens and
// reports an APP远程 unlock with the resident's name.
//
// Errors: errs.NotFound (not the phone's door), errs.Conflict (offline),
// errs.Timeout (the device did not answer), errs.TooMany.
func (s *Service) OpenDoor(ctx context.Context, id int) (time.Time, error) {
	a, _ := actor.From(ctx)
	ds, rs, err := s.myDoors(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	if len(ds) == 0 {
		return time.Time{}, errs.New(errs.NotFound, "门禁设备不存在或不是您可以开的门")
	}
	d := ds[0]
	// The resident row the opening is recorded under: of the device's unit
	// for a door station, else the first one in its community.
	var who *ent.Resident
	for _, r := range rs {
		if r.CommunityID == d.CommunityID && (d.UnitID == nil || *d.UnitID == r.UnitID) {
			who = r
			break
		}
	}
	if who == nil {
		return time.Time{}, errs.New(errs.NotFound, "门禁设备不存在或不是您可以开的门")
	}
	if s.doors == nil {
		return time.Time{}, errs.New(errs.Conflict, "设备离线，无法开门")
	}
	return s.doors.Open(ctx, device.OpenRequest{Device: d, Phone: a.Phone, ResidentID: who.ID, Timeout: s.openTimeout})
}

type doorsOutputBody struct {
	Items []AppDoor `json:"items"`
}

type doorInput struct {
	ID int `path:"id" minimum:"1" doc:"门禁设备编号"`
}

type openedOutputBody struct {
	OpenedAt time.Time `json:"opened_at" doc:"设备确认开门的时间"`
}

func (s *Service) registerDoors(api huma.API) {
	huma.Register(api, httpapi.Op("app-list-doors", http.MethodGet, "/app/v1/doors", "我可以开的门", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("所在单元的门口机、所在小区的围墙机和管理机（已安装的设备），online 为设备当前在线。")),
		func(ctx context.Context, _ *struct{}) (*httpapi.Body[doorsOutputBody], error) {
			items, err := s.Doors(ctx)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(doorsOutputBody{Items: items}), nil
		})
	huma.Register(api, httpapi.Op("app-open-door", http.MethodPost, "/app/v1/doors/{id}/open", "远程开门", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("向设备发送开门命令并等待设备确认（最多 5 秒）。设备离线 409；设备没有响应 504（没有开门，也不产生开锁记录）；"+
			"每个手机号每分钟最多 10 次，超过 429。开门后设备上报开锁记录（开锁方式 APP远程，显示住户姓名）。")),
		func(ctx context.Context, in *doorInput) (*httpapi.Body[openedOutputBody], error) {
			at, err := s.OpenDoor(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(openedOutputBody{OpenedAt: at}), nil
		})
}
