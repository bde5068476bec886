package resident

import (
	"context"
	"time"

	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/store"
)

// Permissions are a resident's call permissions (业主权限管理).
type Permissions struct {
	AppCall     *bool // APP呼叫: the app rings when the door station calls the room
	CallForward *bool // 电话转移: unanswered calls go to the phone through the community's gateway
}

// SetPermissions changes the call permissions of resident id. Call
// forwarding needs a phone gateway configured for the community.
//
// Errors: errs.NotFound, errs.Invalid (no gateway).
func (s *Service) SetPermissions(ctx context.Context, cid, id int, p Permissions) (*ent.Resident, error) {
	c, err := s.community(ctx, cid)
	if err != nil {
		return nil, err
	}
	if _, err := s.Get(ctx, cid, id); err != nil {
		return nil, err
	}
	if p.CallForward != nil && *p.CallForward && c.PhoneGateway == "" {
		return nil, errs.Field("call_forward", "本小区未配置电话网关，不能开启电话转移（请在小区配置中填写电话网关）")
	}
	err = s.db.Resident.UpdateOneID(id).SetNillableAppCall(p.AppCall).SetNillableCallForward(p.CallForward).
		SetUpdatedAt(time.Now()).Exec(ctx)
	if err != nil {
		return nil, store.Map(err, "业主")
	}
	return s.Get(ctx, cid, id)
}
