package app_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"linli/internal/apptest"
	"linli/internal/sim"
)

// TestNudgeCarriesChange: a small whitelist change reaches devices inside
// the MQTT nudge, and they apply it without a sync request; a room notice
// reaches only its room's monitor that way; a device made before nudges
// carried changes syncs over HTTP and ends with the same whitelist; a
// device that lost a nudge catches up with a sync at the next one.
func TestNudgeCarriesChange(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "通知小区", "NG")
		m := a.Manager
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		device := func(serial string, slot sim.Slot, bare bool) *sim.Device {
			d := sim.New(sim.Config{Server: s.URL, MQTTAddr: s.App.MQTTAddr().String(), CommunityID: a.ID, Password: "pwNGx9",
				Slot: slot, Serial: serial, SIPAddr: "off", BareNudges: bare}, logger)
			if err := d.Bind(context.Background()); err != nil {
				t.Fatal(err)
			}
			runSim(t, d)
			waitFor(t, serial+" synced once", func() bool { return d.Status().Syncs == 1 })
			return d
		}
		door := device("NG-DOOR", sim.Slot{Kind: "door", UnitID: a.UnitID, Index: 1}, false)
		old := device("NG-OLD", sim.Slot{Kind: "door", UnitID: a.UnitID, Index: 2}, true)
		monitor := device("NG-ROOM", sim.Slot{Kind: "indoor", RoomID: a.RoomID, Index: 1}, false)
		holds := func(d *sim.Device, key string) bool { return slices.Contains(d.Status().Whitelist, key) }

		m.Must(201, "POST", a.Path("/cards/super"), map[string]any{"number": "5A5A0001"})
		for _, d := range []*sim.Device{door, old, monitor} {
			waitFor(t, "the super card on every device", func() bool { return holds(d, "card:5A5A0001") })
		}
		for name, d := range map[string]*sim.Device{"door station": door, "indoor monitor": monitor} {
			if st := d.Status(); st.Syncs != 1 || st.Nudged != 1 {
				t.Errorf("%s: %d syncs, %d changes from nudges; want the change from the nudge alone", name, st.Syncs, st.Nudged)
			}
		}
		if st := old.Status(); st.Syncs != 2 || st.Nudged != 0 {
			t.Errorf("older door station: %d syncs, %d changes from nudges; want a sync", st.Syncs, st.Nudged)
		}

		// A room notice: the room's monitor gets it from the nudge, the
		// door station only moves to the new version.
		m.Must(201, "POST", a.Path("/room-notices"), map[string]any{"title": "房间通知", "content": "请取快递",
			"show_from": chinaToday(), "show_to": chinaToday(), "room_ids": []int{a.RoomID}})
		waitFor(t, "the room notice on the monitor", func() bool {
			st := monitor.Status()
			return len(st.Notices) == 1 && st.Notices[0].Title == "房间通知"
		})
		waitFor(t, "the door stations at the notice's version", func() bool {
			v := monitor.Status().Version
			return door.Status().Version == v && old.Status().Version == v
		})
		if st := door.Status(); len(st.Notices) != 0 || st.Syncs != 1 || st.Nudged != 2 {
			t.Errorf("door station after a room notice: %d notices, %d syncs, %d changes from nudges", len(st.Notices), st.Syncs, st.Nudged)
		}
		if st := monitor.Status(); st.Syncs != 1 || st.Nudged != 2 {
			t.Errorf("monitor after a room notice: %d syncs, %d changes from nudges", st.Syncs, st.Nudged)
		}

		// The door station loses a nudge: the next one does not follow on
		// its version, so it syncs and holds both cards.
		door.LoseNudges(1)
		m.Must(201, "POST", a.Path("/cards/super"), map[string]any{"number": "5A5A0002"})
		waitFor(t, "the door station's nudge lost", func() bool { return door.Status().Losing == 0 })
		waitFor(t, "the second card on the older door station", func() bool { return holds(old, "card:5A5A0002") })
		if holds(door, "card:5A5A0002") {
			t.Fatal("the door station holds a card whose nudge it lost")
		}
		m.Must(201, "POST", a.Path("/cards/super"), map[string]any{"number": "5A5A0003"})
		waitFor(t, "the door station caught up", func() bool {
			return holds(door, "card:5A5A0002") && holds(door, "card:5A5A0003") && holds(old, "card:5A5A0003")
		})
		if st := door.Status(); st.Syncs != 2 {
			t.Errorf("door station after a lost nudge: %d syncs, want 2 (the catch-up)", st.Syncs)
		}
		d, o := door.Status(), old.Status()
		if d.Version != o.Version || !slices.Equal(d.Whitelist, o.Whitelist) {
			t.Errorf("door stations of one unit differ: version %d %v, older %d %v", d.Version, d.Whitelist, o.Version, o.Whitelist)
		}
	})
}
