package app_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"linli/internal/app"
)

// TestRequestFieldsDocumented walks the API document and fails for any
// request body field or query/path parameter without a description: the
// description is the field's help in the console's types and the label its
// validation errors name it by.
func TestRequestFieldsDocumented(t *testing.T) {
	t.Parallel()
	raw, err := app.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name        string `json:"name"`
				In          string `json:"in"`
				Description string `json:"description"`
			} `json:"parameters"`
			RequestBody *struct {
				Content map[string]struct {
					Schema *schema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]*schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var missing []string
	seen := map[*schema]bool{}
	var walk func(where string, s *schema)
	walk = func(where string, s *schema) {
		if s == nil {
			return
		}
		if s.Ref != "" {
			name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
			where = name
			s = doc.Components.Schemas[name]
			if s == nil || seen[s] {
				return
			}
			seen[s] = true
		}
		for name, p := range s.Properties {
			// A list of files carries its description on its items.
			documented := p.Description != "" || p.Items != nil && p.Items.Description != ""
			if !documented {
				missing = append(missing, where+"."+name)
			}
			walk(where+"."+name, p)
		}
		walk(where+"[]", s.Items)
	}
	for path, item := range doc.Paths {
		for method, op := range item {
			for _, p := range op.Parameters {
				if (p.In == "query" || p.In == "path") && p.Description == "" {
					missing = append(missing, strings.ToUpper(method)+" "+path+" "+p.In+"."+p.Name)
				}
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Content {
					walk(op.OperationID, mt.Schema)
				}
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s has no description: give its field a doc tag", m)
	}
}

type schema struct {
	Ref         string             `json:"$ref"`
	Description string             `json:"description"`
	Properties  map[string]*schema `json:"properties"`
	Items       *schema            `json:"items"`
}
