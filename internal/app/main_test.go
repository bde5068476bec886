package app_test

import (
	"os"
	"testing"

	"linli/internal/apptest"
)

// TestMain hashes passwords with the cheap argon2id setting (apptest.Main).
func TestMain(m *testing.M) { os.Exit(apptest.Main(m)) }
