package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Device is a physical device bound to a slot of a community: a unit door
// station (门口机N), a wall station (围墙机N), a management station (管理机N) or
// a room's indoor monitor (室内分机). Slots themselves follow from the housing
// and the counts; only bound devices have a row.
type Device struct{ ent.Schema }

// Mixin of Device.
func (Device) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Device.
func (Device) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Enum("kind").Values("door", "wall", "management", "indoor").Immutable(),
		field.Int("unit_id").Optional().Nillable().Immutable(),
		field.Int("room_id").Optional().Nillable().Immutable(),
		field.Int("index").Immutable().Comment("门口机N / 围墙机N / 管理机N; 1 for indoor monitors"),
		field.String("slot").MaxLen(40).Immutable().Comment("kind:unit-or-room:index, unique per community"),
		field.String("serial").MaxLen(64).Unique(),
		field.String("model").Default("").MaxLen(64),
		field.String("firmware").Default("").MaxLen(64),
		field.Enum("orientation").Values("landscape", "portrait").Default("landscape"),
		field.String("ip").Default("").MaxLen(64),
		field.Bool("online").Default(false),
		field.Time("last_seen").Optional().Nillable(),
		field.Time("bound_at"),
		field.String("token_hash").MaxLen(64).Unique().Sensitive(),
		field.String("mqtt_password_hash").MaxLen(64).Sensitive(),
		field.Bytes("sip_password_sealed").Sensitive(),
		// The last firmware upgrade started for the device and how it went.
		field.Int("upgrade_firmware_id").Optional().Nillable(),
		field.String("upgrade_version").Default("").MaxLen(32),
		field.Enum("upgrade_state").Values("pending", "downloading", "installing", "succeeded", "failed").Optional().Nillable(),
		field.Int("upgrade_progress").Default(0).Comment("0–100, while downloading"),
		field.String("upgrade_message").Default("").MaxLen(200),
		field.Time("upgrade_updated_at").Optional().Nillable(),
	}
}

// Indexes of Device.
func (Device) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "slot").Unique(), index.Fields("community_id", "unit_id")}
}
