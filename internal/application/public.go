package application

import (
	"context"
	"time"

	"linli/internal/ent"
	entapp "linli/internal/ent/application"
	"linli/internal/ent/area"
	"linli/internal/ent/building"
	"linli/internal/ent/room"
	"linli/internal/ent/unit"
	"linli/internal/errs"
	"linli/internal/housing"
	"linli/internal/phone"
)

// Form is what the H5 page needs to draw the form of a community.
type Form struct {
	Community string     `json:"community" doc:"小区名称"`
	Roles     []string   `json:"roles" doc:"可选角色"`
	Areas     []FormArea `json:"areas"`
}

// FormArea is an area with its buildings and units, for the room picker.
type FormArea struct {
	ID        int            `json:"id"`
	Name      string         `json:"name"`
	Buildings []FormBuilding `json:"buildings"`
}

// FormBuilding is a building in the room picker.
type FormBuilding struct {
	ID    int        `json:"id"`
	Name  string     `json:"name"`
	Units []FormUnit `json:"units"`
}

// FormUnit is a unit in the room picker.
type FormUnit struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// FormRoom is a room in the room picker.
type FormRoom struct {
	ID     int    `json:"id"`
	Floor  int    `json:"floor"`
	RoomNo string `json:"room_no"`
}

// PublicForm returns the community, roles and housing of a link token.
func (s *Service) PublicForm(ctx context.Context, token string) (*Form, error) {
	sys, c, err := s.byToken(ctx, token)
	if err != nil {
		return nil, err
	}
	as, err := s.db.Area.Query().Where(area.CommunityID(c.ID)).Order(ent.Asc(area.FieldNumber)).
		WithBuildings(func(q *ent.BuildingQuery) {
			q.Order(ent.Asc(building.FieldNumber)).WithUnits(func(q *ent.UnitQuery) { q.Order(ent.Asc(unit.FieldNumber)) })
		}).All(sys)
	if err != nil {
		return nil, err
	}
	f := &Form{Community: c.Name, Roles: c.ResidentRoles, Areas: []FormArea{}}
	for _, a := range as {
		fa := FormArea{ID: a.ID, Name: a.Name, Buildings: []FormBuilding{}}
		for _, b := range a.Edges.Buildings {
			fb := FormBuilding{ID: b.ID, Name: b.Name, Units: []FormUnit{}}
			for _, u := range b.Edges.Units {
				fb.Units = append(fb.Units, FormUnit{ID: u.ID, Name: u.Name})
			}
			fa.Buildings = append(fa.Buildings, fb)
		}
		f.Areas = append(f.Areas, fa)
	}
	return f, nil
}

// PublicRooms returns the rooms of a unit of the link's community.
func (s *Service) PublicRooms(ctx context.Context, token string, unitID int) ([]FormRoom, error) {
	sys, c, err := s.byToken(ctx, token)
	if err != nil {
		return nil, err
	}
	rs, err := s.db.Room.Query().Where(room.CommunityID(c.ID), room.UnitID(unitID)).
		Order(ent.Asc(room.FieldFloor), ent.Asc(room.FieldNumber)).All(sys)
	if err != nil {
		return nil, err
	}
	out := make([]FormRoom, len(rs))
	for i, r := range rs {
		out[i] = FormRoom{ID: r.ID, Floor: r.Floor, RoomNo: housing.RoomNo(r.Floor, r.Number)}
	}
	return out, nil
}

// StatusItem is what an applicant sees of an application by phone lookup.
type StatusItem struct {
	Room      string    `json:"room" doc:"申请房间"`
	Name      string    `json:"name" doc:"姓名"`
	Status    string    `json:"status" enum:"pending,approved,rejected" doc:"申请中、通过、打回"`
	Reason    string    `json:"reason" doc:"打回原因"`
	CreatedAt time.Time `json:"created_at" doc:"申请时间"`
}

// PublicStatus lists the applications of a phone number in the link's
// community, so that an applicant can see the result and a reason. Lookups
// are limited per address.
func (s *Service) PublicStatus(ctx context.Context, token, ph, ip string) ([]StatusItem, error) {
	if !s.lookups.allow(ip, s.now()) {
		return nil, errs.New(errs.TooMany, "查询过于频繁，请稍后再试")
	}
	sys, c, err := s.byToken(ctx, token)
	if err != nil {
		return nil, err
	}
	p, perr := phone.Parse(ph)
	if perr != nil {
		return nil, errs.Field("phone", perr.Error())
	}
	as, err := s.db.Application.Query().Where(entapp.CommunityID(c.ID), entapp.Phone(p)).
		Order(ent.Desc(entapp.FieldCreatedAt)).Limit(20).All(sys)
	if err != nil {
		return nil, err
	}
	labels, err := s.roomLabels(sys, c.Name, as)
	if err != nil {
		return nil, err
	}
	out := make([]StatusItem, len(as))
	for i, a := range as {
		out[i] = StatusItem{Room: labels[a.RoomID], Name: a.Name, Status: string(a.Status), Reason: a.Reason, CreatedAt: a.CreatedAt}
	}
	return out, nil
}

// roomLabels returns the location labels of the rooms of as.
func (s *Service) roomLabels(ctx context.Context, communityName string, as []*ent.Application) (map[int]string, error) {
	ids := make([]int, len(as))
	for i, a := range as {
		ids[i] = a.RoomID
	}
	return housing.RoomLabels(ctx, s.db.Client, communityName, ids)
}
