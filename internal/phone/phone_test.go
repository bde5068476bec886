package phone

import "testing"

func TestParse(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"13800138000", "13800138000"},
		{"+86 138 0013 8000", "13800138000"},
		{"0086-138-0013-8000", "13800138000"},
		{" 19912345678 ", "19912345678"},
		{"12800138000", ""},
		{"1380013800", ""},
		{"138001380001", ""},
		{"1380013800a", ""},
		{"NULL", ""},
		{"", ""},
		{"+8613800138000", "13800138000"},
	} {
		got, err := Parse(tt.in)
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if Mask("13800138000") != "138****8000" {
		t.Fatal(Mask("13800138000"))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"13800138000", "+86 138 0013 8000", "", "０１３８", "+86+86"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			return
		}
		if len(got) != 11 || got[0] != '1' {
			t.Fatalf("Parse(%q) = %q", s, got)
		}
		if again, err := Parse(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q, %v", got, again, err)
		}
	})
}
