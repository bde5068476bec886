package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Ad is a picture in one of the door stations' ad slots (门口机内容管理):
// landscape (横屏) and portrait (竖屏) slots 1…4 per community.
type Ad struct{ ent.Schema }

// Mixin of Ad.
func (Ad) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Ad.
func (Ad) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Enum("orientation").Values("landscape", "portrait").Immutable(),
		field.Int("slot").Immutable(),
		field.String("image_key").MaxLen(200),
		field.String("sha256").MaxLen(64),
		field.Int("size"),
		field.Int("width"),
		field.Int("height"),
	}
}

// Indexes of Ad.
func (Ad) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "orientation", "slot").Unique()}
}

// AdTarget is a door station chosen to show the ads of its orientation.
// With no targets for an orientation, every door station of that
// orientation shows them.
type AdTarget struct{ ent.Schema }

// Mixin of AdTarget.
func (AdTarget) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{Column: "community_id"}}
}

// Fields of AdTarget.
func (AdTarget) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Enum("orientation").Values("landscape", "portrait").Immutable(),
		field.Int("device_id").Immutable(),
	}
}

// Indexes of AdTarget.
func (AdTarget) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "orientation", "device_id").Unique()}
}
