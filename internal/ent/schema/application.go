package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Application is a 业主申请 filed from the community's QR-code page: someone
// asks to become a resident of a room; staff approve (a resident is created)
// or reject it with a reason the applicant can read.
type Application struct{ ent.Schema }

// Mixin of Application.
func (Application) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Application.
func (Application) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("room_id").Immutable(),
		field.Int("area_id").Immutable(),
		field.Int("building_id").Immutable(),
		field.Int("unit_id").Immutable(),
		field.String("name").MaxLen(64),
		field.Enum("gender").Values("male", "female", "unknown").Default("unknown"),
		field.String("phone").MaxLen(16),
		field.String("contact_phone").Default("").MaxLen(16),
		field.Bytes("id_number_sealed").Optional().Nillable().Sensitive(),
		field.String("id_number_masked").Default("").MaxLen(32),
		field.String("role").MaxLen(32),
		field.Strings("photos").Sensitive().Comment("blob keys of the re-encoded photos"),
		field.Enum("status").Values("pending", "approved", "rejected").Default("pending"),
		field.String("reason").Default("").MaxLen(200),
		field.Int("resident_id").Optional().Nillable(),
		field.Int("decided_by").Optional().Nillable(),
		field.Time("decided_at").Optional().Nillable(),
		field.String("ip").Default("").MaxLen(64),
	}
}

// Indexes of Application.
func (Application) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("community_id", "status", "created_at"),
		index.Fields("phone", "created_at"),
		index.Fields("ip", "created_at"),
	}
}
