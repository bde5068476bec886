package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Invitation is a 业主's invitation of a family member or tenant to their
// room (业主邀请). The invitee becomes a resident at once, or when staff
// approve it if the community wants that (邀请需物业审核).
type Invitation struct{ ent.Schema }

// Mixin of Invitation.
func (Invitation) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Invitation.
func (Invitation) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("room_id").Immutable(),
		field.Int("inviter_id").Immutable().Comment("the inviting 业主 (a resident row)"),
		field.String("inviter_name").MaxLen(64).Immutable(),
		field.String("phone").MaxLen(16).Immutable(),
		field.String("name").MaxLen(64).Immutable(),
		field.String("role").MaxLen(32).Immutable(),
		field.Time("access_until").Optional().Nillable().Immutable().Comment("23:59:59 China time of the last day"),
		field.Enum("status").Values("joined", "pending", "rejected", "withdrawn").Default("pending"),
		field.String("reason").Default("").MaxLen(200).Comment("why staff rejected it"),
		field.Int("resident_id").Optional().Nillable().Comment("the resident it created"),
		field.Int("decided_by").Optional().Nillable().Comment("the staff account that approved or rejected it"),
		field.Time("decided_at").Optional().Nillable(),
	}
}

// Indexes of Invitation.
func (Invitation) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("room_id", "created_at"),
		index.Fields("community_id", "status", "created_at"),
	}
}
