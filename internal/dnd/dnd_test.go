package dnd

import (
	"errors"
	"testing"
	"time"

	"linli/internal/errs"
	"linli/internal/region"
)

// at is a moment in China time; 2026-12-07 is a Monday.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 12, 6+day, hour, minute, 0, 0, region.Time)
}

func TestActive(t *testing.T) {
	night := Settings{ScheduleEnabled: true, Schedule: []Period{{Weekdays: []int{1, 2, 3, 4, 5}, Start: "22:00", End: "07:00"}}}
	lunch := Settings{ScheduleEnabled: true, Schedule: []Period{{Weekdays: []int{6, 7}, Start: "12:00", End: "14:30"}}}
	allDay := Settings{ScheduleEnabled: true, Schedule: []Period{{Weekdays: []int{3}, Start: "00:00", End: "00:00"}}}
	for _, tc := range []struct {
		name string
		s    Settings
		now  time.Time
		want bool
	}{
		{"off", Settings{}, at(1, 23, 0), false},
		{"manual on", Settings{On: true}, at(1, 12, 0), true},
		{"schedule disabled", Settings{Schedule: night.Schedule}, at(1, 23, 0), false},
		{"Monday 22:00 starts", night, at(1, 22, 0), true},
		{"Monday 21:59 not yet", night, at(1, 21, 59), false},
		{"Tuesday 06:59 from Monday night", night, at(2, 6, 59), true},
		{"Tuesday 07:00 ended", night, at(2, 7, 0), false},
		{"Saturday 03:00 from Friday night", night, at(6, 3, 0), true},
		{"Sunday 23:00 not listed", night, at(7, 23, 0), false},
		{"Monday 03:00 from Sunday night (not listed)", night, at(1, 3, 0), false},
		{"Sunday 13:00 lunch", lunch, at(7, 13, 0), true},
		{"Sunday 14:30 end is exclusive", lunch, at(7, 14, 30), false},
		{"Friday 13:00 lunch not listed", lunch, at(5, 13, 0), false},
		{"Wednesday whole day", allDay, at(3, 23, 59), true},
		{"Thursday not", allDay, at(4, 0, 0), false},
		{"UTC instant read in China time", night, time.Date(2026, 12, 7, 14, 30, 0, 0, time.UTC), true}, // Monday 22:30 CST
		{"invalid period never matches", Settings{ScheduleEnabled: true, Schedule: []Period{{Weekdays: []int{1}, Start: "25:00", End: "07:00"}}}, at(1, 23, 0), false},
	} {
		if got := Active(tc.s, tc.now); got != tc.want {
			t.Errorf("%s: Active = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	ok := Settings{ScheduleEnabled: true, Schedule: []Period{{Weekdays: []int{5, 1, 1}, Start: "22:00", End: "07:00"}}}
	if err := Check(&ok); err != nil {
		t.Fatal(err)
	}
	if w := ok.Schedule[0].Weekdays; len(w) != 2 || w[0] != 1 || w[1] != 5 {
		t.Errorf("weekdays not normalised: %v", w)
	}
	empty := Settings{}
	if err := Check(&empty); err != nil || empty.Schedule == nil {
		t.Errorf("empty settings: %v %v", err, empty.Schedule)
	}
	many := Settings{}
	for range MaxPeriods + 1 {
		many.Schedule = append(many.Schedule, Period{Weekdays: []int{1}, Start: "01:00", End: "02:00"})
	}
	for name, s := range map[string]Settings{
		"too many periods": many,
		"no weekday":       {Schedule: []Period{{Start: "01:00", End: "02:00"}}},
		"weekday 0":        {Schedule: []Period{{Weekdays: []int{0}, Start: "01:00", End: "02:00"}}},
		"weekday 8":        {Schedule: []Period{{Weekdays: []int{8}, Start: "01:00", End: "02:00"}}},
		"bad start":        {Schedule: []Period{{Weekdays: []int{1}, Start: "1:00", End: "02:00"}}},
		"bad end":          {Schedule: []Period{{Weekdays: []int{1}, Start: "01:00", End: "24:00"}}},
		"letters":          {Schedule: []Period{{Weekdays: []int{1}, Start: "ab:cd", End: "02:00"}}},
		"space":            {Schedule: []Period{{Weekdays: []int{1}, Start: " 1:00", End: "02:00"}}},
		"sign":             {Schedule: []Period{{Weekdays: []int{1}, Start: "+1:00", End: "02:00"}}},
	} {
		if err := Check(&s); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}
