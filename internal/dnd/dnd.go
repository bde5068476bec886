// Package dnd is 免打扰 (do not disturb) of a resident's phone: a manual
// switch and weekly periods in China time. While it is active the phone's
// app is left out of door calls (the indoor monitor still rings) and gets
// no call pushes.
package dnd

import (
	"fmt"
	"slices"
	"time"

	"linli/internal/errs"
	"linli/internal/region"
)

// MaxPeriods bounds the schedule.
const MaxPeriods = 7

// Period is a weekly period: on the given weekdays (1 = Monday … 7 =
// Sunday) from Start to End ("HH:MM", China time). An End before Start
// crosses midnight: the period started on a listed weekday ends the next
// morning. Start == End is the whole day.
type Period struct {
	Weekdays []int  `json:"weekdays" doc:"星期几，1=星期一 … 7=星期日"`
	Start    string `json:"start" doc:"开始时间 HH:MM（北京时间）"`
	End      string `json:"end" doc:"结束时间 HH:MM；早于开始时间表示跨过午夜到次日"`
}

// Settings are a phone's 免打扰 settings.
type Settings struct {
	On              bool     `json:"on" doc:"手动开启免打扰"`
	ScheduleEnabled bool     `json:"schedule_enabled" doc:"按时间段自动免打扰"`
	Schedule        []Period `json:"schedule" maxItems:"7" doc:"免打扰时间段，最多 7 段"`
}

// minutes parses "HH:MM" into minutes after midnight.
func minutes(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// Check validates s and normalises it (weekdays sorted, without repeats).
//
// Errors: errs.Invalid naming the wrong field.
func Check(s *Settings) error {
	if len(s.Schedule) > MaxPeriods {
		return errs.Fieldf("schedule", "免打扰时间段最多 %d 个", MaxPeriods)
	}
	if s.Schedule == nil {
		s.Schedule = []Period{}
	}
	for i := range s.Schedule {
		p := &s.Schedule[i]
		if len(p.Weekdays) == 0 {
			return errs.Fieldf(fmt.Sprintf("schedule[%d].weekdays", i), "第 %d 个时间段没有选择星期几", i+1)
		}
		for _, d := range p.Weekdays {
			if d < 1 || d > 7 {
				return errs.Fieldf(fmt.Sprintf("schedule[%d].weekdays", i), "第 %d 个时间段的星期几应为 1（星期一）到 7（星期日）", i+1)
			}
		}
		slices.Sort(p.Weekdays)
		p.Weekdays = slices.Compact(p.Weekdays)
		if _, ok := minutes(p.Start); !ok {
			return errs.Fieldf(fmt.Sprintf("schedule[%d].start", i), "第 %d 个时间段的开始时间应为 HH:MM，如 22:00", i+1)
		}
		if _, ok := minutes(p.End); !ok {
			return errs.Fieldf(fmt.Sprintf("schedule[%d].end", i), "第 %d 个时间段的结束时间应为 HH:MM，如 07:00", i+1)
		}
	}
	return nil
}

// weekday returns t's weekday as 1 (Monday) … 7 (Sunday).
func weekday(t time.Time) int {
	if d := int(t.Weekday()); d != 0 {
		return d
	}
	return 7
}

// Active says whether s is in effect at now (China time): the manual switch
// is on, or the schedule is enabled and now falls in one of its periods.
// A period crossing midnight counts from its start on a listed weekday to
// its end the next day. Invalid periods never match.
func Active(s Settings, now time.Time) bool {
	if s.On {
		return true
	}
	if !s.ScheduleEnabled {
		return false
	}
	t := now.In(region.Time)
	day, min := weekday(t), t.Hour()*60+t.Minute()
	yesterday := day - 1
	if yesterday == 0 {
		yesterday = 7
	}
	for _, p := range s.Schedule {
		start, ok1 := minutes(p.Start)
		end, ok2 := minutes(p.End)
		if !ok1 || !ok2 {
			continue
		}
		switch {
		case start == end: // the whole day
			if slices.Contains(p.Weekdays, day) {
				return true
			}
		case start < end:
			if slices.Contains(p.Weekdays, day) && min >= start && min < end {
				return true
			}
		default: // crosses midnight
			if slices.Contains(p.Weekdays, day) && min >= start || slices.Contains(p.Weekdays, yesterday) && min < end {
				return true
			}
		}
	}
	return false
}
