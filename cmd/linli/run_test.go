package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
	if !regexp.MustCompile(`(?m)^POST +/api/v1/communities/\{cid\}/cards +perm:cards\.edit\+residents\.view +internal/card/api\.go:\d+$`).Match(out.Bytes()) {
		t.Errorf("routes: no line for issue-card in\n%s", out.String())
	}
	for _, args := range [][]string{nil, {"frobnicate"}, {"sim", "-slot", "lift:1"}} {
		if err := run(context.Background(), args, getenv, &out, &errOut); err == nil {
			t.Errorf("run(%v) succeeded", args)
		}
	}
}

func TestBackupCommands(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"LINLI_DATA_DIR": dataDir, "LINLI_DB_URL": "postgres://linli@127.0.0.1/linli", "LINLI_DATA_KEY": "a2V5"}
	getenv := func(k string) string { return env[k] }
	var out, errOut bytes.Buffer
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	if err := run(context.Background(), []string{"backup", archive}, getenv, &out, &errOut); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup on PostgreSQL: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "files", "faces"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "files", "faces", "1.jpg"), []byte("jpeg"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"backup", "-files-only", archive}, getenv, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "files: 1, key: environment") || !strings.Contains(out.String(), "LINLI_DATA_KEY") {
		t.Fatalf("backup -files-only: %v %s", err, out.String())
	}
	out.Reset()
	target := filepath.Join(t.TempDir(), "data")
	if err := run(context.Background(), []string{"restore", "-data-dir", target, archive}, getenv, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "pg_dump") {
		t.Fatalf("restore: %v %s", err, out.String())
	}
	if got, _ := os.ReadFile(filepath.Join(target, "files", "faces", "1.jpg")); string(got) != "jpeg" {
		t.Fatalf("restored file: %q", got)
	}
	if err := run(context.Background(), []string{"restore", "-data-dir", target, archive}, getenv, &out, &errOut); err == nil {
		t.Fatal("restore over a data directory that is not empty without -force")
	}
	for _, args := range [][]string{{"backup"}, {"restore"}} {
		if err := run(context.Background(), args, getenv, &out, &errOut); err == nil {
			t.Errorf("run(%v) without a file succeeded", args)
		}
	}
}

// TestBackupWithFilesInBucket: with LINLI_BLOB_URL the archive holds the
// database and the key but no files (those in the data directory are not
// the server's), the manifest names the bucket, and restore says where
// the files are.
func TestBackupWithFilesInBucket(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"LINLI_DATA_DIR": dataDir, "LINLI_BLOB_URL": "s3://linli?endpoint=http://127.0.0.1:9000&region=us-east-1"}
	getenv := func(k string) string { return env[k] }
	var out, errOut bytes.Buffer
	// A server's start creates the database and the key.
	if err := os.WriteFile(filepath.Join(dataDir, "secret.key"), bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "files", "faces"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "files", "faces", "stale.jpg"), []byte("jpeg"), 0o600); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	if err := run(context.Background(), []string{"backup", "-files-only", archive}, getenv, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "files: 0, key: file") || !strings.Contains(out.String(), "s3://linli") {
		t.Fatalf("backup -files-only with a bucket: %v %s", err, out.String())
	}
	out.Reset()
	target := filepath.Join(t.TempDir(), "data")
	if err := run(context.Background(), []string{"restore", "-data-dir", target, archive}, getenv, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "the files were kept in s3://linli") {
		t.Fatalf("restore: %v %s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(target, "files", "faces", "stale.jpg")); err == nil {
		t.Error("a file of the data directory was archived although the files are in the bucket")
	}
	env["LINLI_DATA_KEY"] = "a2V5"
	if err := run(context.Background(), []string{"backup", "-files-only", archive}, getenv, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "没有需要备份的内容") {
		t.Errorf("backup of nothing: %v", err)
	}
	env["LINLI_BLOB_URL"] = "http://127.0.0.1:9000/linli"
	if err := run(context.Background(), []string{"backup", "-files-only", archive}, getenv, &out, &errOut); err == nil {
		t.Error("backup accepted a blob url that is not s3://")
	}
}
