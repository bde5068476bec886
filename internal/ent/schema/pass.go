package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Pass is a visitor pass (访客通行) a resident made for the doors of their
// unit and the community's wall stations: a QR code and a 6-digit PIN that
// open within a time window, for a number of uses or without limit. A
// delivery code (快递码) is a pass of kind delivery, usually for one door.
// The PIN and the QR token are kept as they are, because the door stations
// check them offline from their (device-authenticated) whitelist.
type Pass struct{ ent.Schema }

// Mixin of Pass.
func (Pass) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{Column: "community_id"}}
}

// Fields of Pass.
func (Pass) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("room_id").Immutable(),
		field.Int("unit_id").Immutable().Comment("the room's unit: its door stations get the pass"),
		field.Int("resident_id").Immutable().Comment("the resident row (phone in this room) that created it"),
		field.String("phone").MaxLen(20).Immutable(),
		field.String("creator_name").Default("").MaxLen(50).Immutable(),
		field.String("visitor_name").MaxLen(32).Immutable(),
		field.String("note").Default("").MaxLen(100).Immutable(),
		field.Enum("kind").Values("visitor", "delivery").Immutable(),
		field.Int("door_id").Optional().Nillable().Immutable().Comment("delivery to one door: only that device gets it"),
		field.Time("valid_from").Immutable(),
		field.Time("valid_to").Immutable(),
		field.Int("max_uses").Immutable().Comment("0: 不限次数"),
		field.Int("uses").Default(0).Comment("uses reported by every device, counted once per event"),
		field.String("pin").MaxLen(6).Immutable(),
		field.String("qr_token").MaxLen(64).Unique().Immutable(),
		field.String("share_token").MaxLen(64).Unique().Immutable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.String("revoked_by").Default("").MaxLen(64).Comment("业主 or the staff account's name"),
		field.Bool("expiry_synced").Default(false).Comment("the expiry job has told devices"),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of Pass.
func (Pass) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("community_id", "valid_to"),
		index.Fields("community_id", "pin"),
		index.Fields("room_id", "created_at"),
		index.Fields("valid_to", "expiry_synced"),
	}
}

// PassUse is one use of a pass a device reported (an unlock event with the
// pass). The device's event id makes the count idempotent: a retried report
// counts once, whichever device sent it.
type PassUse struct{ ent.Schema }

// Mixin of PassUse.
func (PassUse) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{Column: "community_id"}}
}

// Fields of PassUse.
func (PassUse) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("pass_id").Immutable(),
		field.Int("device_id").Immutable(),
		field.String("event_id").MaxLen(64).Immutable(),
		field.Time("used_at").Immutable().Comment("the device's clock"),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of PassUse.
func (PassUse) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("device_id", "event_id").Unique(),
		index.Fields("pass_id"),
	}
}
