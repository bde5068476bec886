package account

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/httpapi"
	"linli/internal/store"
)

// SetDisabled disables (停用) or enables (启用) account id. Disabling ends
// every session of the account at once, in the same transaction, and its
// sign-ins are refused with "账号已停用" until it is enabled again. Nobody
// disables the account they are signed in with.
//
// Errors: errs.NotFound, errs.Conflict (one's own account).
func (s *Service) SetDisabled(ctx context.Context, id int, disabled bool) (*ent.Account, error) {
	if a, ok := actor.From(ctx); ok && a.AccountID == id && disabled {
		return nil, errs.New(errs.Conflict, "不能停用当前登录的账号")
	}
	err := s.db.InTx(ctx, func(tx *ent.Tx) error {
		if err := tx.Account.UpdateOneID(id).SetDisabled(disabled).SetUpdatedAt(time.Now()).Exec(ctx); err != nil {
			return store.Map(err, "账号")
		}
		if disabled {
			return auth.KillSessions(ctx, tx.Client(), id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "account disabled", "id", id, "disabled", disabled)
	return s.Get(ctx, id)
}

type disableInput struct {
	AccountPath
	Body struct {
		Disabled bool `json:"disabled" doc:"true 停用（立即退出该账号的所有登录设备）；false 启用"`
	}
}

func (s *Service) registerDisable(api huma.API) {
	huma.Register(api, httpapi.Op("set-account-disabled", http.MethodPut, "/api/v1/accounts/{id}/disabled", "停用或启用账号", auth.OperatorOnly(),
		httpapi.Tags("账号管理"),
		httpapi.Describe("停用后该账号的所有会话立即失效，登录时提示“账号已停用”。")), func(ctx context.Context, in *disableInput) (*httpapi.Body[Account], error) {
		a, err := s.SetDisabled(ctx, in.ID, in.Body.Disabled)
		if err != nil {
			return nil, err
		}
		names, err := s.RoleNames(ctx, []*ent.Account{a})
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(view(a, names[a.ID])), nil
	})
}
