package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Event is a call or an unlock a device reported (呼叫记录, 开锁记录). The
// device's own event id makes reports idempotent. The place (label, area,
// building, unit) is copied at arrival, so records outlive an unbinding.
type Event struct{ ent.Schema }

// Mixin of Event.
func (Event) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{Column: "community_id"}}
}

// Fields of Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("device_id").Immutable(),
		field.String("event_id").MaxLen(64).Immutable().Comment("the device's own id of the event"),
		field.Enum("kind").Values("call", "unlock").Immutable(),
		field.String("unlock_type").Default("").MaxLen(16).Immutable().Comment("card, face, password, app, call, qrcode, management, id_card, button, other"),
		field.String("card").Default("").MaxLen(20).Immutable(),
		field.Int("resident_id").Optional().Nillable().Immutable(),
		field.String("resident_name").Default("").MaxLen(50).Immutable(),
		field.String("target").Default("").MaxLen(32).Immutable().Comment("what a call dialled: 0502, 1-1-1-0502"),
		field.String("device_label").MaxLen(160).Immutable(),
		field.Int("area_id").Optional().Nillable().Immutable(),
		field.Int("building_id").Optional().Nillable().Immutable(),
		field.Int("unit_id").Optional().Nillable().Immutable(),
		field.Time("occurred_at").Immutable().Comment("the device's clock"),
		field.Time("received_at").Immutable().Comment("the server's clock"),
		field.String("snapshot_key").Default("").MaxLen(200).Immutable(),
		field.String("content_hash").MaxLen(64).Immutable().Comment("SHA-256 of the report, to tell a retry from a conflict"),
	}
}

// Indexes of Event.
func (Event) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("device_id", "event_id").Unique(),
		index.Fields("community_id", "kind", "occurred_at"),
		index.Fields("community_id", "kind", "unit_id", "occurred_at"),
		index.Fields("received_at"),
		// The sweep of orphan files asks which snapshot keys have a record.
		index.Fields("snapshot_key").Annotations(entsql.IndexWhere("snapshot_key <> ''")),
	}
}
