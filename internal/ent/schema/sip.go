package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SIPRegistration is one registered contact of a SIP account (a device or a
// resident's app installation). Rows live in the database so that a restart
// keeps them and every instance sees them; the instance fields say which
// instance holds the flow (the UDP source or TCP connection the contact
// registered through) and how other instances reach it.
type SIPRegistration struct{ ent.Schema }

// Mixin of SIPRegistration.
func (SIPRegistration) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

// Fields of SIPRegistration.
func (SIPRegistration) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").MaxLen(64).Immutable(),
		field.Int("community_id").Immutable(),
		field.String("contact").MaxLen(512).Immutable().Comment("the Contact URI as registered"),
		field.String("received").MaxLen(64).Comment("host:port the REGISTER came from"),
		field.String("transport").MaxLen(8).Comment("udp or tcp"),
		field.String("instance").MaxLen(64).Comment("the instance holding the flow"),
		field.String("instance_addr").MaxLen(64).Comment("that instance's SIP address (host:port), for relaying"),
		field.Time("expires_at"),
		field.String("call_id").MaxLen(255),
		field.Uint32("cseq"),
		field.String("user_agent").Default("").MaxLen(128),
	}
}

// Indexes of SIPRegistration.
func (SIPRegistration) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("username", "contact").Unique(),
		index.Fields("expires_at"),
		index.Fields("community_id"),
	}
}

// SIPKey is a secret shared by every instance of the SIP server: digest
// nonces are signed with it so that any instance can verify them, and
// branches relayed between instances carry a signature made with it.
type SIPKey struct{ ent.Schema }

// Fields of SIPKey.
func (SIPKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").MaxLen(32).Unique().Immutable(),
		field.Bytes("key").Sensitive().Immutable(),
	}
}
