package config

import (
	"io"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.DataDir != "./data" || c.DBURL != "" || c.AdminAccount != "admin" || c.MQTTAddr != ":1883" || c.SIPAddr != ":5060" || c.LogLevel != "info" {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = Load([]string{"-http-addr", "127.0.0.1:9000"}, env(map[string]string{
		"LINLI_HTTP_ADDR": ":7000", "LINLI_DB_URL": "postgres://x/y", "LINLI_ADMIN_PASSWORD": "Secret-1",
		"LINLI_DATA_KEY": "a2V5", "LINLI_MQTT_ADDR": "off", "LINLI_SIP_ADDR": "off", "LINLI_LOG_LEVEL": "debug",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9000" || c.DBURL != "postgres://x/y" || c.AdminPassword != "Secret-1" || c.DataKey != "a2V5" || c.MQTTAddr != "off" || c.SIPAddr != "off" || c.LogLevel != "debug" {
		t.Fatalf("flags over environment: %+v", c)
	}
	for _, args := range [][]string{{"-log-level", "loud"}, {"-log-format", "xml"}, {"extra"}, {"-no-such-flag"}} {
		if _, err := Load(args, env(nil), io.Discard); err == nil {
			t.Errorf("Load(%v) accepted", args)
		}
	}
}

func TestLoadMetricsAddr(t *testing.T) {
	c, err := Load(nil, func(k string) string { return map[string]string{"LINLI_METRICS_ADDR": "127.0.0.1:9100"}[k] }, io.Discard)
	if err != nil || c.MetricsAddr != "127.0.0.1:9100" {
		t.Fatalf("LINLI_METRICS_ADDR: %q %v", c.MetricsAddr, err)
	}
	if c, _ := Load(nil, func(string) string { return "" }, io.Discard); c.MetricsAddr != "" {
		t.Fatalf("metrics address by default: %q", c.MetricsAddr)
	}
}

func TestLoadBlobURL(t *testing.T) {
	env := map[string]string{"LINLI_BLOB_URL": "s3://linli?endpoint=http://127.0.0.1:9000", "AWS_ACCESS_KEY_ID": "id",
		"AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token", "AWS_REGION": "cn-north-1"}
	c, err := Load(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.BlobURL != env["LINLI_BLOB_URL"] || c.S3AccessKeyID != "id" || c.S3SecretAccessKey != "secret" ||
		c.S3SessionToken != "token" || c.S3Region != "cn-north-1" {
		t.Fatalf("LINLI_BLOB_URL and AWS_*: %+v %v", c, err)
	}
	c, err = Load([]string{"-blob-url", "s3://other?region=us-east-1"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.BlobURL != "s3://other?region=us-east-1" {
		t.Fatalf("-blob-url over the environment: %q %v", c.BlobURL, err)
	}
}

func TestLoadPresenceGrace(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string { return map[string]string{"LINLI_PRESENCE_GRACE": v}[k] }
	}
	for _, tc := range []struct {
		env  string
		args []string
		want time.Duration
	}{
		{"", nil, 60 * time.Second},
		{"3s", nil, 3 * time.Second},
		{"2m", []string{"-presence-grace", "5s"}, 5 * time.Second},
	} {
		c, err := Load(tc.args, env(tc.env), io.Discard)
		if err != nil || c.PresenceGrace != tc.want {
			t.Errorf("LINLI_PRESENCE_GRACE=%q %v: %s %v, want %s", tc.env, tc.args, c.PresenceGrace, err, tc.want)
		}
	}
	for _, v := range []string{"60", "soon", "0s", "500ms", "2h"} {
		if _, err := Load(nil, env(v), io.Discard); err == nil {
			t.Errorf("LINLI_PRESENCE_GRACE=%q accepted", v)
		}
	}
}

// TestLoadMemoryLimitAndPprof: LINLI_MEMORY_LIMIT takes GOMEMLIMIT's sizes,
// and profiles are served on loopback addresses only.
func TestLoadMemoryLimitAndPprof(t *testing.T) {
	for _, tc := range []struct {
		env   map[string]string
		limit int64
		ok    bool
	}{
		{map[string]string{}, 0, true},
		{map[string]string{"LINLI_MEMORY_LIMIT": "400MiB"}, 400 << 20, true},
		{map[string]string{"LINLI_MEMORY_LIMIT": "2GiB"}, 2 << 30, true},
		{map[string]string{"LINLI_MEMORY_LIMIT": "1048576B"}, 1 << 20, true},
		{map[string]string{"LINLI_MEMORY_LIMIT": "400MB"}, 0, false},
		{map[string]string{"LINLI_MEMORY_LIMIT": "-1MiB"}, 0, false},
		{map[string]string{"LINLI_MEMORY_LIMIT": "lots"}, 0, false},
		{map[string]string{"LINLI_PPROF_ADDR": "127.0.0.1:6060"}, 0, true},
		{map[string]string{"LINLI_PPROF_ADDR": "localhost:0"}, 0, true},
		{map[string]string{"LINLI_PPROF_ADDR": "[::1]:6060"}, 0, true},
		{map[string]string{"LINLI_PPROF_ADDR": ":6060"}, 0, false},
		{map[string]string{"LINLI_PPROF_ADDR": "0.0.0.0:6060"}, 0, false},
		{map[string]string{"LINLI_PPROF_ADDR": "192.168.1.5:6060"}, 0, false},
	} {
		c, err := Load(nil, func(k string) string { return tc.env[k] }, io.Discard)
		if (err == nil) != tc.ok || err == nil && c.MemoryLimit != tc.limit {
			t.Errorf("%v: limit %d, %v", tc.env, c.MemoryLimit, err)
		}
	}
}
