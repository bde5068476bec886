package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Resident is a 业主 (owner, family member, tenant…) of a room. Area,
// building and unit are copied from the room so that lists filter fast.
type Resident struct{ ent.Schema }

// Mixin of Resident.
func (Resident) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Resident.
func (Resident) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("room_id"),
		field.Int("area_id"),
		field.Int("building_id"),
		field.Int("unit_id"),
		field.String("name").MaxLen(64),
		field.String("phone").Default("").MaxLen(16).Comment("11-digit mobile, the app account; empty when none"),
		field.Enum("gender").Values("male", "female", "unknown").Default("unknown"),
		field.String("role").MaxLen(32),
		field.Bytes("id_number_sealed").Optional().Nillable().Sensitive().Comment("AES-GCM sealed ID number"),
		field.String("id_number_masked").Default("").MaxLen(32),
		field.String("email").Default("").MaxLen(254),
		field.String("hometown_code").Default("").MaxLen(6),
		field.String("address").Default("").MaxLen(200),
		field.Bool("app_call").Default(true),
		field.Bool("call_forward").Default(false),
		field.String("face_photo").Default("").Sensitive().Comment("blob key of the re-encoded face photo"),
		field.Bool("face_enabled").Default(false),
		field.Time("face_valid_from").Optional().Nillable(),
		field.Time("face_valid_to").Optional().Nillable().Comment("nil: permanent"),
		field.Int("face_consent_by").Optional().Nillable().Comment("account that recorded the consent"),
		field.Time("face_consent_at").Optional().Nillable(),
		field.Bool("face_expiry_synced").Default(false).Comment("the expiry job has told devices"),
		// Family members (业主邀请) and the resident's own face consent.
		field.Enum("origin").Values("staff", "import", "application", "invitation").Default("staff").
			Comment("how the resident came: 物业添加, 导入, 申请, 业主邀请"),
		field.Time("access_until").Optional().Nillable().Comment("23:59:59 China time of the last day (租户有效期至); nil: no end"),
		field.Bool("access_ended_synced").Default(false).Comment("the expiry job has taken the ended resident's access off devices"),
		field.String("face_consent_version").Default("").MaxLen(32).Comment("version of the consent text the resident accepted in the app; empty: consent recorded by staff"),
	}
}

// Edges of Resident.
func (Resident) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("room", Room.Type).Ref("residents").Field("room_id").Unique().Required(),
	}
}

// Indexes of Resident.
func (Resident) Indexes() []ent.Index {
	return []ent.Index{
		// One phone once per room; several rooms may share a phone (one app account).
		index.Fields("room_id", "phone").Unique().Annotations(entsql.IndexWhere("phone <> ''")),
		index.Fields("community_id", "unit_id", "updated_at"),
		index.Fields("community_id", "phone"),
		index.Fields("community_id", "updated_at"),
	}
}

// AuditLog records who changed or revealed personal data, and when.
type AuditLog struct{ ent.Schema }

// Mixin of AuditLog.
func (AuditLog) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{Column: "community_id"}}
}

// Fields of AuditLog.
func (AuditLog) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("account_id").Immutable(),
		field.String("account").MaxLen(64).Immutable(),
		field.String("action").MaxLen(64).Immutable().Comment("e.g. reveal_id_number, delete_resident"),
		field.String("target").MaxLen(32).Immutable().Comment("e.g. resident"),
		field.Int("target_id").Immutable(),
		field.String("detail").Default("").MaxLen(500).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of AuditLog.
func (AuditLog) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "created_at")}
}
