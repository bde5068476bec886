package auth

import (
	"testing"

	"linli/internal/secret"
)

func testBox(tb testing.TB) *secret.Box {
	tb.Helper()
	b, err := secret.New(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
