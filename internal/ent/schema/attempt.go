package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ApplicationAttempt is one submission of the public 业主申请 form that got
// as far as its photos, accepted or refused. It is written before the
// photos are decoded, so that the per-address limit counts the work a
// submission causes, not only the applications that result.
type ApplicationAttempt struct{ ent.Schema }

// Fields of ApplicationAttempt.
func (ApplicationAttempt) Fields() []ent.Field {
	return []ent.Field{
		field.String("ip").MaxLen(64).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of ApplicationAttempt.
func (ApplicationAttempt) Indexes() []ent.Index {
	return []ent.Index{index.Fields("ip", "created_at"), index.Fields("created_at")}
}
