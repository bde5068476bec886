package housing

import "testing"

func TestParseRoomNo(t *testing.T) {
	for _, tt := range []struct {
		in            string
		floor, number int
		ok            bool
	}{
		{"101", 1, 1, true},
		{"0101", 1, 1, true},
		{" 0502 ", 5, 2, true},
		{"1203", 12, 3, true},
		{"9999", 99, 99, true},
		{"100", 0, 0, false},
		{"0001", 0, 0, false},
		{"01", 0, 0, false},
		{"10101", 0, 0, false},
		{"1a1", 0, 0, false},
		{"", 0, 0, false},
		{"NULL", 0, 0, false},
	} {
		f, n, err := ParseRoomNo(tt.in)
		if (err == nil) != tt.ok || f != tt.floor || n != tt.number {
			t.Errorf("ParseRoomNo(%q) = %d, %d, %v", tt.in, f, n, err)
		}
	}
}

func FuzzParseRoomNo(f *testing.F) {
	for _, s := range []string{"101", "0101", "9999", "", "١٠١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		floor, number, err := ParseRoomNo(s)
		if err != nil {
			return
		}
		if floor < 1 || floor > MaxFloor || number < 1 || number > MaxRoomNumber {
			t.Fatalf("ParseRoomNo(%q) = %d, %d out of range", s, floor, number)
		}
		f2, n2, err := ParseRoomNo(RoomNo(floor, number))
		if err != nil || f2 != floor || n2 != number {
			t.Fatalf("round trip of %q failed: %d %d %v", s, f2, n2, err)
		}
	})
}
