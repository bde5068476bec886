package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"linli/internal/dnd"
)

// DoorCommand is a remote opening (APP远程开门) a resident asked for: the
// command sent to the device over MQTT and, once the device answers, its
// acknowledgement. The command id correlates the answer, which may reach
// any server instance; the rows also count a phone's openings for the rate
// limit. The unlock record itself comes from the device's event report.
type DoorCommand struct{ ent.Schema }

// Fields of DoorCommand.
func (DoorCommand) Fields() []ent.Field {
	return []ent.Field{
		field.String("command_id").MaxLen(32).Unique().Immutable(),
		field.Int("community_id").Immutable(),
		field.Int("device_id").Immutable(),
		field.String("phone").MaxLen(20).Immutable(),
		field.Int("resident_id").Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("acked_at").Optional().Nillable(),
		field.Bool("ok").Default(false).Comment("the device says it opened"),
		field.String("message").Default("").MaxLen(200).Comment("the device's reason when it could not open"),
	}
}

// Indexes of DoorCommand.
func (DoorCommand) Indexes() []ent.Index {
	return []ent.Index{index.Fields("phone", "created_at"), index.Fields("created_at")}
}

// AppPhone holds what belongs to a resident's phone (the app account)
// rather than to one sign-in: 免打扰 and how far the phone has seen its
// missed calls.
type AppPhone struct{ ent.Schema }

// Fields of AppPhone.
func (AppPhone) Fields() []ent.Field {
	return []ent.Field{
		field.String("phone").MaxLen(20).Unique().Immutable(),
		field.Bool("dnd_on").Default(false),
		field.Bool("dnd_schedule_enabled").Default(false),
		field.JSON("dnd_schedule", []dnd.Period{}).Optional(),
		field.Int("calls_seen_id").Default(0).Comment("missed calls with a record id up to this are seen"),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}
