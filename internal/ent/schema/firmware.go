package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Firmware is a firmware image the platform operator uploaded for one device
// model. It belongs to no community: every community's devices of that model
// may be upgraded to it. Versions of a model only increase.
type Firmware struct{ ent.Schema }

// Mixin of Firmware.
func (Firmware) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of Firmware.
func (Firmware) Fields() []ent.Field {
	return []ent.Field{
		field.String("model").MaxLen(64).Immutable(),
		field.String("version").MaxLen(32).Immutable(),
		field.String("file_name").MaxLen(200).Immutable(),
		field.Int64("size").Immutable(),
		field.String("sha256").MaxLen(64).Immutable().Comment("hex of the file's SHA-256"),
		field.String("blob_key").MaxLen(200).Immutable(),
		field.String("notes").Default("").MaxLen(500),
		field.String("uploaded_by").Default("").MaxLen(64).Immutable(),
	}
}

// Indexes of Firmware.
func (Firmware) Indexes() []ent.Index {
	return []ent.Index{index.Fields("model", "version").Unique()}
}
