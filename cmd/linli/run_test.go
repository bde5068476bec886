package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	getenv := func(string) string { return "" }
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"version"}, getenv, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "linli ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"openapi"}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]any
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.OpenAPI != "3.1.0" || doc.Paths["/api/v1/session"] == nil {
		t.Fatalf("openapi: %v %q", err, doc.OpenAPI)
	}
	out.Reset()
	if err := run(context.Background(), []string{"routes"}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	// One line per route: method, path, access, file:line of the declaration.
	if !regexp.MustCompile(`(?m)^POST +/api/v1/communities/\{cid\}/cards +perm:cards\.edit +internal/card/api\.go:\d+$`).Match(out.Bytes()) {
		t.Errorf("routes: no line for issue-card in\n%s", out.String())
	}
	for _, args := range [][]string{nil, {"frobnicate"}, {"sim", "-slot", "lift:1"}} {
		if err := run(context.Background(), args, getenv, &out, &errOut); err == nil {
			t.Errorf("run(%v) succeeded", args)
		}
	}
}
