package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Notice is a 小区通知 (to every device and resident of the community) or a
// 房间通知 (to the indoor monitors and residents of chosen rooms). Devices
// show it from show_from until show_until; deleting it withdraws it.
type Notice struct{ ent.Schema }

// Mixin of Notice.
func (Notice) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}, TenantMixin{Column: "community_id"}}
}

// Fields of Notice.
func (Notice) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Enum("scope").Values("community", "rooms").Immutable(),
		field.String("title").MaxLen(100).Immutable(),
		field.Text("content").Immutable(),
		field.Time("show_from").Immutable().Comment("first day, 00:00 China time"),
		field.Time("show_until").Immutable().Comment("the day after the last day, 00:00 China time"),
		field.String("sent_by").Default("").MaxLen(64).Immutable(),
		field.Bool("expiry_synced").Default(false).Comment("the expiry job has told devices"),
	}
}

// Indexes of Notice.
func (Notice) Indexes() []ent.Index {
	return []ent.Index{index.Fields("community_id", "scope", "created_at"), index.Fields("show_until", "expiry_synced")}
}

// NoticeRoom is a room a 房间通知 goes to.
type NoticeRoom struct{ ent.Schema }

// Mixin of NoticeRoom.
func (NoticeRoom) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{Column: "community_id"}}
}

// Fields of NoticeRoom.
func (NoticeRoom) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("notice_id").Immutable(),
		field.Int("room_id").Immutable(),
	}
}

// Indexes of NoticeRoom.
func (NoticeRoom) Indexes() []ent.Index {
	return []ent.Index{index.Fields("notice_id", "room_id").Unique(), index.Fields("room_id")}
}

// NoticeRead records that a resident (by the phone number they sign in to
// the app with) read a notice.
type NoticeRead struct{ ent.Schema }

// Mixin of NoticeRead.
func (NoticeRead) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{Column: "community_id"}}
}

// Fields of NoticeRead.
func (NoticeRead) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.Int("notice_id").Immutable(),
		field.String("phone").MaxLen(20).Immutable(),
		field.Time("read_at").Immutable(),
	}
}

// Indexes of NoticeRead.
func (NoticeRead) Indexes() []ent.Index {
	return []ent.Index{index.Fields("notice_id", "phone").Unique(), index.Fields("phone")}
}
