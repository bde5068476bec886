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
		// Two-factor sign-in (登录验证). login_check: the account asked for a
		// code whenever it signs in from a browser it has not used before.
		// totp_secret: the sealed secret of its authenticator app, set once
		// enrolment is confirmed; totp_pending: one being enrolled.
		field.Bool("login_check").Default(false),
		field.Bytes("totp_secret").Optional().Nillable().Sensitive(),
		field.Bytes("totp_pending").Optional().Nillable().Sensitive(),
		field.Int64("totp_last_step").Default(0).Comment("the newest time step accepted, so that a code is never accepted twice"),
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

// LoginChallenge is a sign-in whose password was right and that waits for a
// second factor (a code by SMS or e-mail, an authenticator code or a
// recovery code). Only the hash of its token is stored.
type LoginChallenge struct{ ent.Schema }

// Fields of LoginChallenge.
func (LoginChallenge) Fields() []ent.Field {
	return []ent.Field{
		field.String("token_hash").Unique().Immutable().Sensitive(),
		field.Int("account_id").Immutable(),
		field.Bool("remember").Default(false).Immutable(),
		field.Int("attempts").Default(0),
		field.String("ip").Default("").MaxLen(64).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("expires_at").Immutable(),
	}
}

// Indexes of LoginChallenge.
func (LoginChallenge) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}

// TrustedDevice is a browser an account proved a second factor in and asked
// to be remembered (记住此设备): it signs in there without a code until
// expires_at. The browser is known by its signed device cookie; only the
// hash of the device id is stored.
type TrustedDevice struct{ ent.Schema }

// Fields of TrustedDevice.
func (TrustedDevice) Fields() []ent.Field {
	return []ent.Field{
		field.Int("account_id").Immutable(),
		field.String("device_hash").MaxLen(64).Immutable(),
		field.String("ip").Default("").MaxLen(64),
		field.String("user_agent").Default("").MaxLen(256),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("expires_at"),
	}
}

// Indexes of TrustedDevice.
func (TrustedDevice) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "device_hash").Unique(), index.Fields("expires_at")}
}

// BackupCode is one of the ten one-time recovery codes (恢复码) given when an
// authenticator is enrolled, for when the phone with the app is lost. Only
// its hash is stored.
type BackupCode struct{ ent.Schema }

// Fields of BackupCode.
func (BackupCode) Fields() []ent.Field {
	return []ent.Field{
		field.Int("account_id").Immutable(),
		field.String("code_hash").MaxLen(64).Immutable().Sensitive(),
		field.Bool("used").Default(false),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of BackupCode.
func (BackupCode) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id")}
}
