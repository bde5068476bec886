package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	for _, args := range [][]string{nil, {"frobnicate"}, {"sim", "-slot", "lift:1"}} {
		if err := run(context.Background(), args, getenv, &out, &errOut); err == nil {
			t.Errorf("run(%v) succeeded", args)
		}
	}
}
