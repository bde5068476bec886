package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Area is a 区域 of a community.
type Area struct{ ent.Schema }

// Mixin of Area.
func (Area) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Area.
func (Area) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("number"),
		field.String("name").MaxLen(100),
		field.String("parking_lot_no").Default("").MaxLen(64),
		field.String("parking_lot_key").Default("").MaxLen(128),
	}
}

// Edges of Area.
func (Area) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("community", Community.Type).Ref("areas").Field("community_id").Unique().Required().Immutable(),
		edge.To("buildings", Building.Type),
	}
}

// Indexes of Area.
func (Area) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "number").Unique()}
}

// Building is a 楼栋 of an area.
type Building struct{ ent.Schema }

// Mixin of Building.
func (Building) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Building.
func (Building) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("area_id").Immutable(),
		field.Int("number"),
		field.String("name").MaxLen(100),
	}
}

// Edges of Building.
func (Building) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("area", Area.Type).Ref("buildings").Field("area_id").Unique().Required().Immutable(),
		edge.To("units", Unit.Type),
	}
}

// Indexes of Building.
func (Building) Indexes() []ent.Index {
	return []ent.Index{index.Fields("area_id", "number").Unique(), index.Fields("community_id")}
}

// Unit is a 单元 of a building; its device_count is the number of door stations.
type Unit struct{ ent.Schema }

// Mixin of Unit.
func (Unit) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Unit.
func (Unit) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("building_id").Immutable(),
		field.Int("number"),
		field.String("name").MaxLen(100),
		field.Enum("type").Values("normal", "villa").Default("normal"),
		field.Int("device_count").Default(1),
	}
}

// Edges of Unit.
func (Unit) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("building", Building.Type).Ref("units").Field("building_id").Unique().Required().Immutable(),
		edge.To("rooms", Room.Type),
	}
}

// Indexes of Unit.
func (Unit) Indexes() []ent.Index {
	return []ent.Index{index.Fields("building_id", "number").Unique(), index.Fields("community_id")}
}

// Room is a 房间 of a unit, numbered by floor and number (canonical FFRR).
type Room struct{ ent.Schema }

// Mixin of Room.
func (Room) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Room.
func (Room) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("unit_id").Immutable(),
		field.Int("floor"),
		field.Int("number"),
	}
}

// Edges of Room.
func (Room) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("unit", Unit.Type).Ref("rooms").Field("unit_id").Unique().Required().Immutable(),
		edge.To("residents", Resident.Type),
	}
}

// Indexes of Room.
func (Room) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("unit_id", "floor", "number").Unique(),
		// Lists of a community's rooms are ordered by unit, floor and number.
		index.Fields("community_id", "unit_id", "floor", "number"),
	}
}
