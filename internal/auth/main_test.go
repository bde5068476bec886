package auth

import (
	"os"
	"testing"

	"linli/internal/password"
)

// TestMain hashes the fixtures' passwords with the cheap argon2id setting.
func TestMain(m *testing.M) {
	password.UseTestCost()
	os.Exit(m.Run())
}
