package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RecoveryCode is a code or link sent to a console account's phone or
// e-mail: to reset a forgotten password (忘记密码), or to prove a new phone
// or address before it replaces the old one (替换手机, 替换邮箱). Only the
// hash of the code or link is kept. A request for an account that does not
// exist, or has nowhere to send to, is recorded too (with no secret), so that
// the limits answer the same whether or not the account exists.
type RecoveryCode struct{ ent.Schema }

// Fields of RecoveryCode.
func (RecoveryCode) Fields() []ent.Field {
	return []ent.Field{
		field.String("account").MaxLen(64).Immutable().Comment("the account name as requested, normalised"),
		field.Int("account_id").Default(0).Immutable().Comment("0 when the account does not exist"),
		field.Enum("purpose").Values("reset_sms", "reset_email", "change_phone", "change_email", "login_sms", "login_email").Immutable(),
		field.String("target").Default("").MaxLen(254).Immutable().Comment("the phone or e-mail address it was sent to"),
		field.String("secret_hash").Default("").MaxLen(64).Immutable().Sensitive().Comment("empty: nothing was sent"),
		field.String("ip").Default("").MaxLen(64).Immutable(),
		field.Int("attempts").Default(0),
		field.Bool("used").Default(false),
		field.Time("expires_at").Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of RecoveryCode.
func (RecoveryCode) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account", "created_at"), index.Fields("ip", "created_at"), index.Fields("target", "created_at"),
		index.Fields("secret_hash")}
}
