package perm

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestBuiltinRolesDocumented checks the table of built-in roles in
// docs/roles.md against Builtins, so that the manual says what the gate does.
func TestBuiltinRolesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/roles.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "| Permission | 物业管理员 | 客服 | 保安 | 工程 |")
	if !ok {
		t.Fatal("docs/roles.md has no table of built-in roles")
	}
	rows := 0
	for _, line := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		label := strings.TrimSpace(cells[0])
		p := Perm("")
		for _, i := range All {
			if i.Label == label {
				p = i.Perm
			}
		}
		if p == "" {
			t.Errorf("docs/roles.md lists an unknown permission %q", label)
			continue
		}
		rows++
		for col, b := range Builtins {
			documented := strings.TrimSpace(cells[col+1]) == "✓"
			if documented != slices.Contains(b.Perms, p) {
				t.Errorf("docs/roles.md: %s %s is %v, the code says %v", b.Name, label, documented, !documented)
			}
		}
	}
	if rows != len(All) {
		t.Errorf("docs/roles.md lists %d permissions, there are %d", rows, len(All))
	}
}

func TestLabels(t *testing.T) {
	if got := Label(ResidentsEdit); got != "业主·编辑" {
		t.Errorf("Label(ResidentsEdit) = %q", got)
	}
	seen := map[Perm]bool{}
	for _, i := range All {
		if seen[i.Perm] {
			t.Errorf("%s listed twice", i.Perm)
		}
		seen[i.Perm] = true
	}
	for _, b := range Builtins {
		for _, p := range b.Perms {
			if !Known(p) {
				t.Errorf("%s holds unknown %s", b.Name, p)
			}
		}
	}
}

// TestNeeds checks that what a permission needs is closed over and that
// every built-in role already holds what its permissions need.
func TestNeeds(t *testing.T) {
	got := WithNeeds([]Perm{RecordsExport, ResidentsEdit, ResidentsEdit, "residents.fly"})
	want := []Perm{HousingView, ResidentsView, ResidentsEdit, RecordsView, RecordsExport}
	if !slices.Equal(got, want) {
		t.Errorf("WithNeeds = %v, want %v", got, want)
	}
	for _, b := range Builtins {
		if full := WithNeeds(b.Perms); !slices.Equal(full, b.Perms) {
			t.Errorf("%s lacks what its permissions need: has %v, needs %v", b.Name, b.Perms, full)
		}
	}
	for _, i := range All {
		for _, n := range i.Needs {
			if !Known(n) || n == i.Perm {
				t.Errorf("%s needs %q", i.Perm, n)
			}
		}
	}
}
