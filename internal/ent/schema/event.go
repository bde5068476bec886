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
		field.String("event_id").MaxLen(64).Comment("the device's own id of the event; sip:<hash of the Call-ID> for a call the server recorded before the device reported it"),
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
		field.Time("occurred_at").Comment("the device's clock; for a call through the server, when the server received it"),
		field.Time("received_at").Immutable().Comment("the server's clock"),
		field.String("snapshot_key").Default("").MaxLen(200),
		field.String("content_hash").MaxLen(64).Comment("SHA-256 of the device's report, to tell a retry from a conflict; empty until the device reports"),
		// Calls through the SIP server (呼叫记录 from the signalling), and
		// unlocks during a call (通话中开锁) that name the call.
		field.String("call_id").Default("").MaxLen(200).Comment("the SIP Call-ID"),
		field.Int("room_id").Optional().Nillable().Comment("the room the call resolved to"),
		field.Int("callee_device_id").Optional().Nillable().Comment("the device called (监视, 管理机)"),
		field.String("callee").Default("").MaxLen(160).Comment("what the number resolved to: the room's or device's label"),
		field.Time("answered_at").Optional().Nillable(),
		field.Time("ended_at").Optional().Nillable(),
		field.Int("talk_seconds").Default(0),
		field.String("answerer").Default("").MaxLen(64).Comment("室内分机, the resident's name, 电话转移 138****1234, 管理机1"),
		field.Int("answerer_resident_id").Optional().Nillable(),
		field.String("result").Default("").MaxLen(16).Comment("answered, missed, busy, cancelled, forwarded, failed; empty while ringing or for a call only the device reported"),
		field.Int("sip_code").Default(0),
		field.Bool("monitor").Default(false).Comment("监视: never a missed call"),
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
		index.Fields("community_id", "call_id").Unique().Annotations(entsql.IndexWhere("call_id <> '' AND kind = 'call'")),
	}
}
