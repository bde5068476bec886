package schema

import (
	"context"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"linli/internal/actor"
	"linli/internal/ent/intercept"
	"linli/internal/errs"
)

// AuditEntry is one line of 操作日志: a change made through the console API,
// a reveal of personal data (身份证号, exports), or a sign-in attempt. Entries
// are append-only: only the server itself (the retention janitor) may
// delete them, and nobody may edit them. The account is kept by id and name
// without a foreign key, so an entry outlives the account it names.
type AuditEntry struct{ ent.Schema }

// Fields of AuditEntry.
func (AuditEntry) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Int("account_id").Optional().Nillable().Immutable().Comment("the signed-in account; empty for a failed sign-in"),
		field.String("account").Default("").MaxLen(64).Immutable().Comment("login name; for sign-ins the name that was tried"),
		field.String("actor_name").Default("").MaxLen(64).Immutable().Comment("称呼 of the account at the time"),
		field.Int("community_id").Optional().Nillable().Immutable().Comment("the community the object belongs to, when the path names one"),
		field.String("category").MaxLen(16).Immutable().Comment("change, reveal, signin or signin_failed"),
		field.String("kind").MaxLen(64).Immutable().Comment("the API operation id, e.g. delete-building"),
		field.String("summary").Default("").MaxLen(128).Immutable(),
		field.String("method").MaxLen(8).Immutable(),
		field.String("path").MaxLen(256).Immutable(),
		field.String("object").Default("").MaxLen(256).Immutable().Comment("the path parameters, e.g. cid=3 id=17"),
		field.String("ip").Default("").MaxLen(64).Immutable(),
		field.Int("status").Immutable().Comment("the HTTP status of the answer"),
		field.String("detail").Default("").MaxLen(256).Immutable().Comment("the error text for a refused request"),
	}
}

// Indexes of AuditEntry.
func (AuditEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("created_at"),
		index.Fields("community_id", "created_at"),
		index.Fields("account_id", "created_at"),
	}
}

// Interceptors let staff read the entries of their communities and their
// own; operators and the system read all.
func (AuditEntry) Interceptors() []ent.Interceptor {
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
				return err
			}
			w.WhereP(sql.OrPredicates(sql.FieldIn("community_id", ids(a.Communities)...), sql.FieldEQ("account_id", a.AccountID)))
			return nil
		}),
	}
}

// Hooks keep the log append-only: entries are never updated, and only the
// server itself deletes them when they pass the retention period.
func (AuditEntry) Hooks() []ent.Hook {
	return []ent.Hook{
		func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, mu ent.Mutation) (ent.Value, error) {
				a, err := requireActor(ctx)
				if err != nil {
					return nil, err
				}
				switch {
				case mu.Op().Is(ent.OpCreate):
				case mu.Op().Is(ent.OpDelete|ent.OpDeleteOne) && a.Kind == actor.System:
				default:
					return nil, errs.New(errs.Forbidden, "操作日志不能修改或删除")
				}
				return next.Mutate(ctx, mu)
			})
		},
	}
}
