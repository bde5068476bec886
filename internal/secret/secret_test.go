package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	box, err := Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	a, b := box.Seal("11010519491231002X"), box.Seal("11010519491231002X")
	if bytes.Equal(a, b) || bytes.Contains(a, []byte("1101051949")) {
		t.Fatal("sealing is deterministic or leaks plaintext")
	}
	if got, err := box.Open(a); err != nil || got != "11010519491231002X" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// The same directory gives the same key after a restart.
	again, err := Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(a); err != nil || got != "11010519491231002X" {
		t.Fatalf("after reload: %q, %v", got, err)
	}
	// Tampering and a foreign key are detected.
	a[len(a)-1] ^= 1
	if _, err := box.Open(a); err != ErrOpen {
		t.Fatalf("tampered value opened: %v", err)
	}
	other, _ := Load("", t.TempDir())
	if _, err := other.Open(b); err != ErrOpen {
		t.Fatal("a foreign key opened the value")
	}
	if _, err := Load("not base64!", dir); err == nil {
		t.Fatal("a bad configured key was accepted")
	}
}

func TestSignAndVerify(t *testing.T) {
	key := make([]byte, 32)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	signed := b.Sign("device-1")
	if v, ok := b.Verify(signed); !ok || v != "device-1" {
		t.Fatalf("Verify(%q) = %q, %v", signed, v, ok)
	}
	other := make([]byte, 32)
	other[0] = 1
	b2, _ := New(other)
	for _, bad := range []string{"", "device-1", "device-1.", ".x", signed + "x", "device-2" + signed[len("device-1"):], b2.Sign("device-1")} {
		if _, ok := b.Verify(bad); ok {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
}
