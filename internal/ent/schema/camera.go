package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Camera is a community IP camera (监控设备) that speaks ONVIF: staff give
// its address and credentials; the rest is what the camera said when it
// was last probed. The password is sealed (AES-GCM, internal/secret)
// because the server needs it again for snapshots and the live stream.
type Camera struct{ ent.Schema }

// Mixin of Camera.
func (Camera) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{Column: "community_id"}}
}

// Fields of Camera.
func (Camera) Fields() []ent.Field {
	return []ent.Field{
		field.Int("community_id").Immutable(),
		field.String("name").MaxLen(50),
		field.String("address").MaxLen(200).Comment("host:port of the ONVIF service as staff typed it (normalized)"),
		field.String("username").MaxLen(64),
		field.Bytes("password_sealed").Sensitive(),
		field.Int("device_id").Optional().Nillable().Comment("the door station this camera is, if any"),
		field.String("manufacturer").Default("").MaxLen(100),
		field.String("model").Default("").MaxLen(100),
		field.String("firmware").Default("").MaxLen(100),
		field.String("serial").Default("").MaxLen(100),
		field.String("profile_token").Default("").MaxLen(100),
		field.String("stream_uri").Default("").MaxLen(500).Comment("rtsp URI without credentials, on the typed host"),
		field.String("snapshot_uri").Default("").MaxLen(500),
		field.Int("width").Default(0),
		field.Int("height").Default(0),
		field.String("video_codec").Default("").MaxLen(20),
		field.String("audio_codec").Default("").MaxLen(20),
		field.Time("last_checked_at").Optional().Nillable(),
		field.String("last_error").Default("").MaxLen(200).Comment("Chinese, empty when the last probe or stream went well"),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Indexes of Camera.
func (Camera) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("community_id", "name").Unique(),
	}
}
