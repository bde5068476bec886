package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// archiveOf writes a tar.gz of entries (name → content) followed by a
// manifest that lists them truthfully.
func archiveOf(t *testing.T, entries [][2]string) string {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	m := Manifest{Format: Format, Key: KeyNone}
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(data)
	}
	for _, e := range entries {
		add(e[0], []byte(e[1]))
		sum := sha256.Sum256([]byte(e[1]))
		m.Entries = append(m.Entries, Entry{Name: e[0], Size: int64(len(e[1])), SHA256: hex.EncodeToString(sum[:])})
	}
	data, _ := json.Marshal(m)
	add(manifestName, data)
	_ = tw.Close()
	_ = gz.Close()
	p := filepath.Join(t.TempDir(), "a.tar.gz")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRestoreRefusesForeignEntries: an archive naming anything outside the
// data directory's own entries is refused before anything is written.
func TestRestoreRefusesForeignEntries(t *testing.T) {
	for _, name := range []string{"files/../../escape", "../escape", "/etc/passwd", "files/./x", "other.txt", "files/a/../../x"} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			target := filepath.Join(parent, "data")
			_, err := Restore(context.Background(), archiveOf(t, [][2]string{{"files/ok.jpg", "x"}, {name, "evil"}}), target, false)
			if err == nil || !strings.Contains(err.Error(), "无效或已损坏") {
				t.Fatalf("restore of an archive with %q: %v", name, err)
			}
			if _, err := os.Stat(filepath.Join(parent, "escape")); err == nil {
				t.Fatal("an entry was written outside the data directory")
			}
			if _, err := os.Stat(target); err == nil {
				t.Fatal("a refused restore left the target directory")
			}
		})
	}
	// The same archive without the foreign entry restores.
	target := filepath.Join(t.TempDir(), "data")
	if _, err := Restore(context.Background(), archiveOf(t, [][2]string{{"files/faces/ok.jpg", "x"}}), target, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(target, "files", "faces", "ok.jpg")); string(got) != "x" {
		t.Fatalf("restored file: %q", got)
	}
}
