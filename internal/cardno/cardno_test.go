package cardno

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		f    Format
		want string
		ok   bool
	}{
		{"09e98cf6", Hex, "09E98CF6", true},
		{" 09 E9 8C F6 ", "", "09E98CF6", true},
		{"0x09e98cf6", Hex, "09E98CF6", true},
		{"09:E9:8C:F6", Hex, "09E98CF6", true},
		{"12345", Hex, "", false},
		{"09E98CF6G", Hex, "", false},
		{strings.Repeat("A", 21), Hex, "", false},
		{"166300918", Decimal, "09E98CF6", true},
		{"255", Decimal, "000000FF", true},
		{"12AB", Decimal, "", false},
		{"", Hex, "", false},
		{"123456", "octal", "", false},
	} {
		got, err := Parse(tt.in, tt.f)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("Parse(%q, %q) = %q, %v; want %q", tt.in, tt.f, got, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"09e98cf6", "166301942", "", "0x", "ffffffffffffffffffffffff"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, hex bool) {
		format := Decimal
		if hex {
			format = Hex
		}
		got, err := Parse(s, format)
		if err != nil {
			return
		}
		if len(got) < 6 || len(got) > 20 || strings.ToUpper(got) != got {
			t.Fatalf("Parse(%q) = %q", s, got)
		}
		if again, err := Parse(got, Hex); err != nil || again != got {
			t.Fatalf("canonical form %q does not parse back: %q %v", got, again, err)
		}
	})
}
