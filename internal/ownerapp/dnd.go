package ownerapp

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/dnd"
	"linli/internal/ent"
	"linli/internal/ent/appphone"
	"linli/internal/httpapi"
)

// phoneSettings returns the settings row of phone p, or the defaults
// (unsaved) when it has none.
func (s *Service) phoneSettings(ctx context.Context, p string) (*ent.AppPhone, error) {
	row, err := s.db.AppPhone.Query().Where(appphone.Phone(p)).Only(actor.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return &ent.AppPhone{Phone: p, DndSchedule: []dnd.Period{}}, nil
	}
	return row, err
}

// updatePhone changes the settings row of phone p with change, creating
// the row first when the phone has none.
func (s *Service) updatePhone(ctx context.Context, p string, change func(*ent.AppPhoneUpdateOne, *ent.AppPhone)) error {
	sys := actor.AsSystem(ctx)
	row, err := s.db.AppPhone.Query().Where(appphone.Phone(p)).Only(sys)
	if ent.IsNotFound(err) {
		err = s.db.AppPhone.Create().SetPhone(p).Exec(sys)
		if err != nil && !ent.IsConstraintError(err) { // created meanwhile: fine
			return err
		}
		row, err = s.db.AppPhone.Query().Where(appphone.Phone(p)).Only(sys)
	}
	if err != nil {
		return err
	}
	u := s.db.AppPhone.UpdateOne(row)
	change(u, row)
	return u.Exec(sys)
}

// AppDND is a phone's 免打扰 with whether it is in effect now.
type AppDND struct {
	dnd.Settings
	Active bool `json:"active" doc:"此刻正在免打扰（北京时间）"`
}

// GetDND returns the 免打扰 of the phone of ctx.
func (s *Service) GetDND(ctx context.Context) (*AppDND, error) {
	a, _ := actor.From(ctx)
	row, err := s.phoneSettings(ctx, a.Phone)
	if err != nil {
		return nil, err
	}
	set := SettingsOf(row)
	return &AppDND{Settings: set, Active: dnd.Active(set, s.now())}, nil
}

// SettingsOf returns the 免打扰 settings of a phone's row.
func SettingsOf(row *ent.AppPhone) dnd.Settings {
	set := dnd.Settings{On: row.DndOn, ScheduleEnabled: row.DndScheduleEnabled, Schedule: row.DndSchedule}
	if set.Schedule == nil {
		set.Schedule = []dnd.Period{}
	}
	return set
}

// SetDND stores the 免打扰 of the phone of ctx.
//
// Errors: errs.Invalid.
func (s *Service) SetDND(ctx context.Context, set dnd.Settings) (*AppDND, error) {
	a, _ := actor.From(ctx)
	if err := dnd.Check(&set); err != nil {
		return nil, err
	}
	if err := s.updatePhone(ctx, a.Phone, func(u *ent.AppPhoneUpdateOne, _ *ent.AppPhone) {
		u.SetDndOn(set.On).SetDndScheduleEnabled(set.ScheduleEnabled).SetDndSchedule(set.Schedule)
	}); err != nil {
		return nil, err
	}
	return s.GetDND(ctx)
}

type dndInput struct{ Body dnd.Settings }

func (s *Service) registerDND(api huma.API) {
	huma.Register(api, httpapi.Op("app-get-dnd", http.MethodGet, "/app/v1/dnd", "免打扰", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("本手机号的免打扰设置；active 表示此刻正在免打扰。免打扰时门口机呼叫不再振铃本手机号的 APP（室内分机照常振铃），也不推送来电。")),
		func(ctx context.Context, _ *struct{}) (*httpapi.Body[*AppDND], error) {
			d, err := s.GetDND(ctx)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(d), nil
		})
	huma.Register(api, httpapi.Op("app-set-dnd", http.MethodPut, "/app/v1/dnd", "设置免打扰", auth.ResidentOnly(),
		httpapi.Tags("业主 APP"),
		httpapi.Security("app"),
		httpapi.Describe("手动开关 on，或按时间段（北京时间，最多 7 段；结束早于开始表示跨过午夜）自动免打扰。")),
		func(ctx context.Context, in *dndInput) (*httpapi.Body[*AppDND], error) {
			d, err := s.SetDND(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(d), nil
		})
}
