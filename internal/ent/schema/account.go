package schema

import (
	"context"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"linli/internal/ent/intercept"
	"linli/internal/errs"
)

// Account is a console login: a platform operator or property staff.
type Account struct{ ent.Schema }

// Mixin of Account.
func (Account) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of Account.
func (Account) Fields() []ent.Field {
	return []ent.Field{
		field.String("account").MaxLen(64).Unique(),
		field.String("name").Default("").MaxLen(64),
		field.String("phone").Default("").MaxLen(32),
		field.String("email").Default("").MaxLen(254),
		field.Enum("role").Values("operator", "property_admin"),
		field.String("password_hash").Sensitive(),
		field.Bool("must_change_password").Default(true),
		field.Bool("disabled").Default(false),
		field.Time("password_changed_at").Optional().Nillable(),
		// staff_role is the 角色 of property staff: a built-in role key of
		// package perm or "custom:<id>" of a StaffRole; empty means 物业管理员.
		field.String("staff_role").Default("").MaxLen(32),
	}
}

// Edges of Account.
func (Account) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("communities", Community.Type),
		edge.To("sessions", Session.Type),
	}
}

// Interceptors let staff read only their own account; operators and the
// system read all.
func (Account) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{
		ent.TraverseFunc(func(ctx context.Context, q ent.Query) error {
			a, err := requireActor(ctx)
			if err != nil {
				return err
			}
			if !a.Unrestricted() {
				w, err := intercept.NewQuery(q)
				if err != nil {
					return err
				}
				w.WhereP(sql.FieldEQ("id", a.AccountID))
			}
			return nil
		}),
	}
}

// Hooks let staff change only their own account.
func (Account) Hooks() []ent.Hook {
	return []ent.Hook{
		func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, mu ent.Mutation) (ent.Value, error) {
				a, err := requireActor(ctx)
				if err != nil {
					return nil, err
				}
				if !a.Unrestricted() {
					if mu.Op().Is(ent.OpCreate) {
						return nil, errs.New(errs.Forbidden, "只有平台管理员可以创建账号")
					}
					mu.(wherer).WhereP(sql.FieldEQ("id", a.AccountID))
				}
				return next.Mutate(ctx, mu)
			})
		},
	}
}

// Session is a console login session. Only a hash of its token is stored.
type Session struct{ ent.Schema }

// Fields of Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("token_hash").Unique().Immutable().Sensitive(),
		field.Int("account_id").Immutable(),
		field.Bool("remember").Default(false).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("last_seen_at").Default(time.Now),
		field.Time("expires_at"),
		field.String("ip").Default("").MaxLen(64),
		field.String("user_agent").Default("").MaxLen(256),
	}
}

// Edges of Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", Account.Type).Ref("sessions").Field("account_id").Unique().Required().Immutable(),
	}
}

// Indexes of Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id"), index.Fields("expires_at")}
}

// LoginFailure records one failed login, for lockout and per-IP throttling.
// The account name is stored as typed (lower-cased), whether or not it exists.
type LoginFailure struct{ ent.Schema }

// Fields of LoginFailure.
func (LoginFailure) Fields() []ent.Field {
	return []ent.Field{
		field.String("account").MaxLen(64).Immutable(),
		field.String("ip").MaxLen(64).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of LoginFailure.
func (LoginFailure) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account", "created_at"), index.Fields("ip", "created_at")}
}
