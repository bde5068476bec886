package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Card is a 门禁卡 issued in a community. A normal card (普通卡) belongs to a
// resident and opens a set of units; a super card (超级卡) opens every door.
// 恢复白卡 sets the status to blank: the row stays as history and the number
// can be issued again.
type Card struct{ ent.Schema }

// Mixin of Card.
func (Card) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Card.
func (Card) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.String("number").MaxLen(20).Immutable().Comment("upper-case hex, 6–20 digits"),
		field.Enum("mode").Values("ic", "id_card").Default("ic"),
		field.Enum("type").Values("normal", "super").Immutable(),
		field.Enum("status").Values("active", "disabled", "blank").Default("active"),
		field.Int("resident_id").Optional().Nillable(),
		field.Int("room_id").Optional().Nillable(),
		field.Ints("unit_ids").Optional().Comment("units a normal card opens"),
		field.Time("valid_until").Optional().Nillable().Comment("nil: 永久有效"),
		field.Bool("expiry_synced").Default(false).Comment("the expiry job has told devices"),
	}
}

// Indexes of Card.
func (Card) Indexes() []ent.Index {
	return []ent.Index{
		// One number is issued once per community at a time.
		index.Fields("community_id", "number").Unique().Annotations(entsql.IndexWhere("status <> 'blank'")),
		index.Fields("community_id", "room_id"),
		index.Fields("resident_id"),
		index.Fields("valid_until", "expiry_synced"),
	}
}

// SyncChange records that a whitelist entry (a card number or a resident's
// face) of a community changed at a version. Devices ask for the changes
// after the version they have and get the entries' current state.
type SyncChange struct{ ent.Schema }

// Mixin of SyncChange.
func (SyncChange) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{Column: "community_id"}}
}

// Fields of SyncChange.
func (SyncChange) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int64("version").Immutable(),
		field.String("key").MaxLen(40).Immutable().Comment("card:<number> or face:<resident id>"),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of SyncChange.
func (SyncChange) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "version")}
}
