package schema

import (
	"context"
	"fmt"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema/mixin"

	"linli/internal/actor"
	"linli/internal/ent/intercept"
	"linli/internal/errs"
)

// TenantMixin scopes every query and mutation of an entity to the
// communities of the actor in the context. It is the single place where
// tenancy is enforced: a handler cannot forget it. Column is the column that
// holds the community id ("community_id", or "id" for Community itself).
//
// Staff of community B asking for an object of community A find nothing, so
// the API answers 404. A context without an actor is refused outright.
type TenantMixin struct {
	mixin.Schema
	Column string
}

type wherer interface {
	WhereP(...func(*sql.Selector))
}

// Interceptors adds the community filter to every query and traversal.
func (m TenantMixin) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{
		ent.TraverseFunc(func(ctx context.Context, q ent.Query) error {
			a, err := requireActor(ctx)
			if err != nil {
				return err
			}
			if a.Unrestricted() {
				return nil
			}
			w, err := intercept.NewQuery(q)
			if err != nil {
				return fmt.Errorf("tenant: %w", err)
			}
			w.WhereP(sql.FieldIn(m.Column, ids(a.Communities)...))
			return nil
		}),
	}
}

// Hooks refuses creating objects in a foreign community and narrows updates
// and deletes to the actor's communities.
func (m TenantMixin) Hooks() []ent.Hook {
	return []ent.Hook{
		func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, mu ent.Mutation) (ent.Value, error) {
				a, err := requireActor(ctx)
				if err != nil {
					return nil, err
				}
				if a.Unrestricted() {
					return next.Mutate(ctx, mu)
				}
				if v, set := mu.Field(m.Column); set {
					cid, _ := v.(int)
					if !a.CanAccess(cid) {
						return nil, errs.New(errs.NotFound, "小区不存在或无权访问")
					}
				} else if mu.Op().Is(ent.OpCreate) && m.Column == "id" {
					return nil, errs.New(errs.Forbidden, "只有平台管理员可以创建小区")
				}
				if !mu.Op().Is(ent.OpCreate) {
					w, ok := mu.(wherer)
					if !ok {
						return nil, fmt.Errorf("tenant: mutation %T cannot be filtered", mu)
					}
					w.WhereP(sql.FieldIn(m.Column, ids(a.Communities)...))
				}
				return next.Mutate(ctx, mu)
			})
		},
	}
}

func requireActor(ctx context.Context) (actor.Actor, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return a, fmt.Errorf("tenant: no actor in context")
	}
	return a, nil
}

func ids(cs []int) []any {
	out := make([]any, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}
