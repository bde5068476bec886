package apptest

import (
	"testing"

	"linli/internal/password"
)

// Main runs the tests of a package that starts servers, with the cheap
// argon2id setting of password.UseTestCost: every server creates its first
// operator and the fixtures sign in many accounts. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(apptest.Main(m)) }
func Main(m *testing.M) int {
	password.UseTestCost()
	return m.Run()
}
