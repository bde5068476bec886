// Package dialplan reads the numbers people and devices dial (拨号规则):
// rooms by short number within a door station's unit (0502, 502) or by full
// address (1-1-1-0502, 1#1#1#0502), management stations (9901…), door and
// wall stations (1-1-1-D1, W1) and 监视 (monitoring: M prefix).
//
// Parse only reads the text; who may reach what is decided by the caller of
// Parse against the housing of the caller's community.
package dialplan

import (
	"errors"
	"strings"
)

// Kinds of numbers.
const (
	Room       = "room"       // a room: its indoor monitor and residents' apps
	Management = "management" // 管理机: one station, or every one (Index 0)
	Door       = "door"       // a unit's door station (门口机N)
	Wall       = "wall"       // a wall station (围墙机N)
)

// ManagementAll is the number that rings every management station at once
// (管理中心); ManagementBase+N is 管理机N.
const (
	ManagementAll  = "9900"
	ManagementBase = 9900
)

// Number is a parsed dialled number.
type Number struct {
	Kind string
	// Full is true when the number names its area, building and unit;
	// false for short forms (0502, D1) that mean the caller's own unit.
	Full                   bool
	Area, Building, UnitNo int // with Full
	Floor, RoomNo          int // rooms: floor 1–99, room 1–99
	Index                  int // door, wall and management stations: N of 门口机N…; 0 for every management station
	Monitor                bool
}

// ErrNotInPlan is returned for text that is not a number of the plan.
var ErrNotInPlan = errors.New("number not in the dial plan")

// MaxLen is the longest number the plan knows (M999-999-99-D20 is 15).
const MaxLen = 24

// Parse reads a dialled number. Separators are - or #; letters are
// case-insensitive; spaces around the number are ignored.
//
// Errors: ErrNotInPlan.
func Parse(s string) (Number, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" || len(s) > MaxLen {
		return Number{}, ErrNotInPlan
	}
	var n Number
	if rest, ok := strings.CutPrefix(s, "M"); ok {
		n.Monitor = true
		s = rest
	}
	parts := strings.Split(strings.ReplaceAll(s, "#", "-"), "-")
	for _, p := range parts {
		if p == "" {
			return Number{}, ErrNotInPlan // leading, trailing or doubled separator
		}
	}
	switch len(parts) {
	case 1:
		return short(n, parts[0])
	case 4:
		a, okA := digits(parts[0], 1, 3)
		b, okB := digits(parts[1], 1, 3)
		u, okU := digits(parts[2], 1, 2)
		if !okA || !okB || !okU || a < 1 || b < 1 || u < 1 {
			return Number{}, ErrNotInPlan
		}
		n.Full, n.Area, n.Building, n.UnitNo = true, a, b, u
		last := parts[3]
		if idx, ok := station(last, 'D'); ok {
			n.Kind, n.Index = Door, idx
			return n, nil
		}
		if n.Monitor {
			return Number{}, ErrNotInPlan // only stations are monitored
		}
		f, r, ok := roomNo(last)
		if !ok {
			return Number{}, ErrNotInPlan
		}
		n.Kind, n.Floor, n.RoomNo = Room, f, r
		return n, nil
	}
	return Number{}, ErrNotInPlan
}

// short reads a number without separators: a room of the caller's unit, a
// management station, D<n> or W<n>.
func short(n Number, p string) (Number, error) {
	if idx, ok := station(p, 'D'); ok {
		n.Kind, n.Index = Door, idx
		return n, nil
	}
	if idx, ok := station(p, 'W'); ok {
		n.Kind, n.Index = Wall, idx
		return n, nil
	}
	if n.Monitor {
		return Number{}, ErrNotInPlan
	}
	if v, ok := digits(p, 4, 4); ok && v >= ManagementBase && v <= ManagementBase+99 {
		n.Kind, n.Index = Management, v-ManagementBase
		return n, nil
	}
	f, r, ok := roomNo(p)
	if !ok {
		return Number{}, ErrNotInPlan
	}
	n.Kind, n.Floor, n.RoomNo = Room, f, r
	return n, nil
}

// station reads D<n> or W<n>, n 1–99.
func station(p string, letter byte) (int, bool) {
	if len(p) < 2 || p[0] != letter {
		return 0, false
	}
	v, ok := digits(p[1:], 1, 2)
	return v, ok && v >= 1
}

// roomNo reads FFRR or FRR: floor 1–99, room 01–99.
func roomNo(p string) (floor, room int, ok bool) {
	v, ok := digits(p, 3, 4)
	if !ok {
		return 0, 0, false
	}
	floor, room = v/100, v%100
	return floor, room, floor >= 1 && room >= 1
}

// digits reads min–max decimal digits.
func digits(p string, min, max int) (int, bool) {
	if len(p) < min || len(p) > max {
		return 0, false
	}
	v := 0
	for i := range len(p) {
		if p[i] < '0' || p[i] > '9' {
			return 0, false
		}
		v = v*10 + int(p[i]-'0')
	}
	return v, true
}
