// Package schema defines Linli's entities. The code generated from it lives in
// the parent package and is never edited by hand (go generate ./internal/ent).
package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Community is a 小区, the tenant: every other record belongs to one.
type Community struct{ ent.Schema }

// Mixin of Community.
func (Community) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "id"}}
}

// Fields of Community.
func (Community) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").MaxLen(100),
		field.String("region_code").MaxLen(6),
		field.String("address").Default("").MaxLen(400),
		field.Int("management_station_count").Default(1),
		field.Int("wall_station_count").Default(1),
		field.Enum("card_type").Values("ic", "id_card", "both").Default("ic"),
		field.String("community_password").MaxLen(64),
		field.Strings("resident_roles"),
		field.String("apply_token").Default("").MaxLen(64).Sensitive().Comment("secret part of the QR-code application link; empty until first used"),
		field.Int64("sync_version").Default(0).Comment("last whitelist version; bumped under a row lock so versions commit in order"),
		field.String("phone_gateway").Default("").MaxLen(200).Comment("SIP address of the community's phone gateway; empty: none, so 电话转移 is off"),
		field.Int("ring_seconds").Default(30).Comment("呼叫振铃时间: how long a call rings before 电话转移, 10–120"),
		field.String("unlock_dtmf").Default("#").MaxLen(4).Comment("the DTMF keys that open the door during a call"),
		field.Bool("require_two_factor").Default(false).Comment("要求登录验证: every staff account of the community proves a second factor on a new browser"),
		field.Bool("invite_needs_approval").Default(false).Comment("邀请需物业审核: a 业主's invitation waits for staff before the invitee becomes a resident"),
	}
}

// Edges of Community.
func (Community) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("areas", Area.Type),
		edge.From("staff", Account.Type).Ref("communities"),
	}
}

// Indexes of Community.
func (Community) Indexes() []ent.Index {
	return []ent.Index{index.Fields("name").Unique()}
}
