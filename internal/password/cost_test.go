package password

import (
	"strings"
	"testing"
)

// TestServerCost: without UseTestCost (this package's tests never call it,
// nor does the server), Hash uses 64 MiB, three passes and two lanes.
func TestServerCost(t *testing.T) {
	if testCost.Load() {
		t.Fatal("test cost is on in the password package's own tests")
	}
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=65536,t=3,p=2$"; !strings.HasPrefix(h, want) {
		t.Fatalf("Hash = %q, want prefix %q", h, want)
	}
}

// TestCostsVerifyAcross: a hash made at the server's cost verifies while the
// test cost is on, and one made at the test cost verifies after it is off,
// because each hash carries its parameters.
func TestCostsVerifyAcross(t *testing.T) {
	server, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	UseTestCost()
	t.Cleanup(func() { testCost.Store(false) })
	cheap, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=16,t=1,p=2$"; !strings.HasPrefix(cheap, want) {
		t.Fatalf("Hash with the test cost = %q, want prefix %q", cheap, want)
	}
	for _, h := range []string{server, cheap} {
		if ok, err := Verify("correct horse battery", h); err != nil || !ok {
			t.Errorf("Verify(right, %.30s…) = %v, %v", h, ok, err)
		}
		if ok, err := Verify("correct horse batterY", h); err != nil || ok {
			t.Errorf("Verify(wrong, %.30s…) = %v, %v", h, ok, err)
		}
	}
	testCost.Store(false)
	if ok, err := Verify("correct horse battery", cheap); err != nil || !ok {
		t.Errorf("Verify(right, cheap) after the test cost = %v, %v", ok, err)
	}
}
