// Package region holds China's administrative divisions (GB/T 2260) as a
// province → city → district tree, for address cascaders and for turning a
// stored district code back into a readable label.
//
// The data is embedded from regions.json; SOURCE.md says where it comes from
// and how to regenerate it.
package region

import (
	_ "embed"
	"encoding/json"
	"strings"
	"sync"
)

//go:embed regions.json
var regionsJSON []byte

// Node is one division in the tree: a province, a city or a district.
// Codes are 6-digit GB/T 2260 codes, e.g. "440000", "440300", "440306".
type Node struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Children []Node `json:"children,omitempty"`
}

// Division is a single division's code and name, without its children.
type Division struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Path is the chain of divisions leading to a leaf code.
//
// District is zero for the few prefecture-level cities that have no
// county-level divisions (东莞市, 中山市, 儋州市): there the city is the leaf.
type Path struct {
	Province Division `json:"province"`
	City     Division `json:"city"`
	District Division `json:"district"`
}

// Label returns the non-empty names joined by "/", e.g. "广东省/深圳市/宝安区",
// or "" for a zero Path.
func (p Path) Label() string {
	var parts []string
	for _, d := range []Division{p.Province, p.City, p.District} {
		if d.Name != "" {
			parts = append(parts, d.Name)
		}
	}
	return strings.Join(parts, "/")
}

var (
	loadOnce sync.Once
	tree     []Node
	leaves   map[string]Path
	cities   map[string]Path // prefecture-level cities, leaves or not
)

func load() {
	if err := json.Unmarshal(regionsJSON, &tree); err != nil {
		panic("region: bad embedded regions.json: " + err.Error())
	}
	leaves = make(map[string]Path)
	cities = make(map[string]Path)
	for _, p := range tree {
		for _, c := range p.Children {
			path := Path{Province: division(p), City: division(c)}
			cities[c.Code] = path
			if len(c.Children) == 0 {
				leaves[c.Code] = path
				continue
			}
			for _, d := range c.Children {
				path.District = division(d)
				leaves[d.Code] = path
			}
		}
	}
}

func division(n Node) Division { return Division{Code: n.Code, Name: n.Name} }

// Tree returns all provinces with their cities and districts, in code order.
// The slice is shared: callers must not modify it.
func Tree() []Node {
	loadOnce.Do(load)
	return tree
}

// Lookup returns the path to a leaf code (normally a district). Province and
// city codes are not leaves and are not found.
func Lookup(code string) (Path, bool) {
	loadOnce.Do(load)
	p, ok := leaves[code]
	return p, ok
}

// LookupPlace returns the path to a district or to a city, for places where
// a city is precise enough (户籍城市). Province codes are not found.
func LookupPlace(code string) (Path, bool) {
	loadOnce.Do(load)
	if p, ok := leaves[code]; ok {
		return p, true
	}
	p, ok := cities[code]
	return p, ok
}
