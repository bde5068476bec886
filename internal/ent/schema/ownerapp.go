package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AppCode is an SMS sign-in code sent to a resident's phone. Only its hash
// is kept; it works once, for a few minutes and a few attempts.
type AppCode struct{ ent.Schema }

// Fields of AppCode.
func (AppCode) Fields() []ent.Field {
	return []ent.Field{
		field.String("phone").MaxLen(20).Immutable(),
		field.String("code_hash").MaxLen(64).Immutable().Sensitive(),
		field.String("ip").Default("").MaxLen(64).Immutable(),
		field.Int("attempts").Default(0),
		field.Bool("used").Default(false),
		field.Time("expires_at").Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of AppCode.
func (AppCode) Indexes() []ent.Index {
	return []ent.Index{index.Fields("phone", "created_at"), index.Fields("ip", "created_at")}
}

// AppSession is a resident's signed-in app. The token is kept as a hash.
type AppSession struct{ ent.Schema }

// Fields of AppSession.
func (AppSession) Fields() []ent.Field {
	return []ent.Field{
		field.String("token_hash").MaxLen(64).Unique().Immutable().Sensitive(),
		field.String("phone").MaxLen(20).Immutable(),
		field.Time("expires_at"),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Bytes("sip_password_sealed").Optional().Nillable().Sensitive().Comment("the SIP password of this app installation (username a<id>), sealed"),
		field.String("device_name").Default("").MaxLen(64).Comment("what the app calls the phone, e.g. iPhone 15"),
		field.String("push_platform").Default("").MaxLen(16).Comment("apns, fcm, hms, mipush or log; empty: no push"),
		field.String("push_token").Default("").MaxLen(512).Sensitive(),
	}
}

// Indexes of AppSession.
func (AppSession) Indexes() []ent.Index {
	return []ent.Index{index.Fields("phone"), index.Fields("expires_at")}
}
