package region

import (
	"fmt"
	"regexp"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		code  string
		ok    bool
		label string
	}{
		{"440306", true, "广东省/深圳市/宝安区"},
		{"110101", true, "北京市/市辖区/东城区"},
		{"310101", true, "上海市/市辖区/黄浦区"},
		{"500101", true, "重庆市/市辖区/万州区"},
		{"120101", true, "天津市/市辖区/和平区"},
		{"441900", true, "广东省/东莞市"}, // city without county-level divisions
		{"999999", false, ""},
		{"440000", false, ""}, // province, not a leaf
		{"440300", false, ""}, // city, not a leaf
		{"", false, ""},
	}
	for _, tt := range tests {
		p, ok := Lookup(tt.code)
		if ok != tt.ok {
			t.Errorf("Lookup(%q) ok = %v, want %v", tt.code, ok, tt.ok)
			continue
		}
		if got := p.Label(); got != tt.label {
			t.Errorf("Lookup(%q).Label() = %q, want %q", tt.code, got, tt.label)
		}
	}
}

func TestLookupPath(t *testing.T) {
	p, ok := Lookup("440306")
	if !ok {
		t.Fatal("440306 not found")
	}
	want := Path{
		Province: Division{"440000", "广东省"},
		City:     Division{"440300", "深圳市"},
		District: Division{"440306", "宝安区"},
	}
	if p != want {
		t.Errorf("Lookup(440306) = %+v, want %+v", p, want)
	}
}

func TestTreeCodes(t *testing.T) {
	sixDigits := regexp.MustCompile(`^[0-9]{6}$`)
	seen := map[string]string{}
	var check func(n Node, depth int)
	check = func(n Node, depth int) {
		if !sixDigits.MatchString(n.Code) {
			t.Errorf("%s %s: code is not 6 digits", n.Code, n.Name)
		}
		if prev, dup := seen[n.Code]; dup {
			t.Errorf("code %s used by both %s and %s", n.Code, prev, n.Name)
		}
		seen[n.Code] = n.Name
		if n.Name == "" {
			t.Errorf("%s: empty name", n.Code)
		}
		if depth == 3 && len(n.Children) > 0 {
			t.Errorf("%s %s: district has children", n.Code, n.Name)
		}
		if depth < 3 && len(n.Children) == 0 {
			if depth == 1 {
				t.Errorf("province %s %s has no cities", n.Code, n.Name)
			} else if _, ok := Lookup(n.Code); !ok {
				t.Errorf("city leaf %s %s not found by Lookup", n.Code, n.Name)
			}
		}
		for _, c := range n.Children {
			check(c, depth+1)
		}
	}
	provinces := Tree()
	if len(provinces) < 31 {
		t.Fatalf("got %d provinces, want at least 31", len(provinces))
	}
	for _, p := range provinces {
		check(p, 1)
	}
}

func ExampleLookup() {
	for _, code := range []string{"440306", "110101", "310101", "500101", "441900", "440000"} {
		p, ok := Lookup(code)
		fmt.Printf("%s %v %q\n", code, ok, p.Label())
	}
	// Output:
	// 440306 true "广东省/深圳市/宝安区"
	// 110101 true "北京市/市辖区/东城区"
	// 310101 true "上海市/市辖区/黄浦区"
	// 500101 true "重庆市/市辖区/万州区"
	// 441900 true "广东省/东莞市"
	// 440000 false ""
}

func TestLookupPlace(t *testing.T) {
	tests := []struct {
		code  string
		ok    bool
		label string
	}{
		{"440306", true, "广东省/深圳市/宝安区"},
		{"440300", true, "广东省/深圳市"},
		{"441900", true, "广东省/东莞市"},
		{"440000", false, ""},
		{"999999", false, ""},
	}
	for _, tt := range tests {
		p, ok := LookupPlace(tt.code)
		if ok != tt.ok || p.Label() != tt.label {
			t.Errorf("LookupPlace(%q) = %q, %v; want %q, %v", tt.code, p.Label(), ok, tt.label, tt.ok)
		}
	}
	if _, ok := Lookup("440300"); ok {
		t.Error("Lookup(440300) found a city: a community's city must be a district")
	}
}
