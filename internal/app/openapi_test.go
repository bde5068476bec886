package app_test

import (
	"bytes"
	"os"
	"testing"

	"linli/internal/app"
)

// TestConsoleTypesUpToDate checks that the OpenAPI document the console's
// TypeScript types are generated from is the server's current one. When it
// fails: go run ./cmd/linli openapi > web/console/openapi.json, then
// (cd web/console && npm run gen:api && npm run build).
func TestConsoleTypesUpToDate(t *testing.T) {
	t.Parallel()
	want, err := app.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../web/console/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Fatal("web/console/openapi.json is stale: run `go run ./cmd/linli openapi > web/console/openapi.json` and regenerate the console types")
	}
}
