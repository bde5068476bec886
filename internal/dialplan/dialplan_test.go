package dialplan

import (
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Number
	}{
		{"0502", Number{Kind: Room, Floor: 5, RoomNo: 2}},
		{"502", Number{Kind: Room, Floor: 5, RoomNo: 2}},
		{" 1203 ", Number{Kind: Room, Floor: 12, RoomNo: 3}},
		{"1-1-1-0502", Number{Kind: Room, Full: true, Area: 1, Building: 1, UnitNo: 1, Floor: 5, RoomNo: 2}},
		{"1#1#1#0502", Number{Kind: Room, Full: true, Area: 1, Building: 1, UnitNo: 1, Floor: 5, RoomNo: 2}},
		{"12-345-6-502", Number{Kind: Room, Full: true, Area: 12, Building: 345, UnitNo: 6, Floor: 5, RoomNo: 2}},
		{"1-1-1-9901", Number{Kind: Room, Full: true, Area: 1, Building: 1, UnitNo: 1, Floor: 99, RoomNo: 1}},
		{"9900", Number{Kind: Management}},
		{"9901", Number{Kind: Management, Index: 1}},
		{"9999", Number{Kind: Management, Index: 99}},
		{"D1", Number{Kind: Door, Index: 1}},
		{"d12", Number{Kind: Door, Index: 12}},
		{"W2", Number{Kind: Wall, Index: 2}},
		{"1-2-3-D4", Number{Kind: Door, Full: true, Area: 1, Building: 2, UnitNo: 3, Index: 4}},
		{"1#2#3#d4", Number{Kind: Door, Full: true, Area: 1, Building: 2, UnitNo: 3, Index: 4}},
		{"MD1", Number{Kind: Door, Index: 1, Monitor: true}},
		{"mw3", Number{Kind: Wall, Index: 3, Monitor: true}},
		{"M1-1-1-D2", Number{Kind: Door, Full: true, Area: 1, Building: 1, UnitNo: 1, Index: 2, Monitor: true}},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		"", " ", "0", "12", "05020", "0500", "0002", "9", "M", "M0502", "M9901", "M1-1-1-0502",
		"1-1-0502", "1-1-1-1-0502", "1--1-0502", "-1-1-1-0502", "1-1-1-0502-", "1-1-1-", "0-1-1-0502",
		"1-0-1-0502", "1-1-0-0502", "1000-1-1-0502", "1-1-100-0502", "D0", "D", "D100", "W0", "X1",
		"1-1-1-W1", "sip:0502", "0502;x", "०५०२", "1-1-1-D", "MM0502", "1-1-1-0502\x00",
		"111111111111111111111111111",
	} {
		if n, err := Parse(in); err != ErrNotInPlan {
			t.Errorf("Parse(%q) = %+v, %v; want ErrNotInPlan", in, n, err)
		}
	}
}

// FuzzParse: any text either fails cleanly or parses to a number whose
// fields are in range.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0502", "502", "1-1-1-0502", "1#1#1#0502", "9901", "D1", "W1", "MD1", "M1-1-1-D1", "1-1-1-D1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		switch n.Kind {
		case Room:
			if n.Floor < 1 || n.Floor > 99 || n.RoomNo < 1 || n.RoomNo > 99 || n.Monitor {
				t.Fatalf("%q: %+v", s, n)
			}
		case Door, Wall:
			if n.Index < 1 || n.Index > 99 {
				t.Fatalf("%q: %+v", s, n)
			}
		case Management:
			if n.Index < 0 || n.Index > 99 || n.Full || n.Monitor {
				t.Fatalf("%q: %+v", s, n)
			}
		default:
			t.Fatalf("%q: unknown kind %+v", s, n)
		}
		if n.Full && (n.Area < 1 || n.Area > 999 || n.Building < 1 || n.Building > 999 || n.UnitNo < 1 || n.UnitNo > 99) {
			t.Fatalf("%q: %+v", s, n)
		}
	})
}
