package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// StaffRole is a role a community's property admin made in the role editor:
// a name and a set of permissions (package perm). The built-in roles
// (物业管理员, 客服, 保安, 工程) are not stored; they live in package perm.
type StaffRole struct{ ent.Schema }

// Mixin of StaffRole.
func (StaffRole) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of StaffRole.
func (StaffRole) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.String("name").MaxLen(32),
		field.Strings("permissions"),
	}
}

// Indexes of StaffRole.
func (StaffRole) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "name").Unique()}
}
