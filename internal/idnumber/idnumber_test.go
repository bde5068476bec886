package idnumber

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"11010519491231002X", "11010519491231002X", nil},
		{" 11010519491231002x ", "11010519491231002X", nil},
		{"440306199001011233", "", ErrCheck},
		{"440306199001011234", "", ErrCheck},
		{"11010519491231002", "", ErrLength},
		{"1101051949123100X2", "", ErrDigits},
		{"110105194913310023", "", ErrBirthDate},
		{"990105194912310021", "", ErrRegion},
		{"", "", ErrLength},
	}
	// A valid number built here so the table does not depend on one example.
	tests = append(tests, struct {
		in, want string
		err      error
	}{withCheck("44030619900101123"), withCheck("44030619900101123"), nil})
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func withCheck(first17 string) string {
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * weights[i]
	}
	return first17 + string(checkChars[sum%11])
}

func TestMask(t *testing.T) {
	if got := Mask("110101199003071234"); got != "110101********1234" {
		t.Fatalf("Mask = %q", got)
	}
	if got := Mask("123"); got != "***" {
		t.Fatalf("Mask(short) = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "440306199001011233", "", "xxxxxxxxxxxxxxxxxx", "１１０１０５１９４９１２３１００２Ｘ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			if got != "" {
				t.Fatalf("Parse(%q) returned %q with error %v", s, got, err)
			}
			return
		}
		if len(got) != 18 {
			t.Fatalf("Parse(%q) = %q: not 18 characters", s, got)
		}
		again, err := Parse(got)
		if err != nil || again != got {
			t.Fatalf("Parse is not idempotent on %q: %q, %v", got, again, err)
		}
		if m := Mask(got); len(m) != 18 || m[6:14] != "********" {
			t.Fatalf("Mask(%q) = %q", got, m)
		}
	})
}
