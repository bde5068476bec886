// Package config holds Linli's configuration: a plain struct filled from
// command-line flags with LINLI_* environment variables as fallbacks. It is
// passed down explicitly, never kept in a global.
package config

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config is the configuration of `linli serve`.
type Config struct {
	HTTPAddr      string // LINLI_HTTP_ADDR, default ":8080"
	DataDir       string // LINLI_DATA_DIR, default "./data"
	DBURL         string // LINLI_DB_URL: empty = SQLite in DataDir; postgres://… = PostgreSQL
	AdminAccount  string // LINLI_ADMIN_ACCOUNT, default "admin"
	AdminPassword string // LINLI_ADMIN_PASSWORD: initial password of the first operator; random when empty
	LogLevel      string // LINLI_LOG_LEVEL: debug, info, warn, error
	LogFormat     string // LINLI_LOG_FORMAT: text or json
	DataKey       string // LINLI_DATA_KEY: base64 AES-256 key sealing ID numbers; empty: DataDir/secret.key, generated once
	PublicURL     string // LINLI_PUBLIC_URL: how phones reach this server (QR codes, 忘记密码 links); empty: taken from each request
	// TrustedProxies are the load balancers and reverse proxies whose
	// X-Forwarded-For names the client (LINLI_TRUSTED_PROXIES); empty: none.
	TrustedProxies []netip.Prefix
	MQTTAddr       string // LINLI_MQTT_ADDR: the embedded broker's address, default ":1883"; "off" disables it
	MQTTURL        string // LINLI_MQTT_URL: an external MQTT 5 broker (mqtt://admin:password@host:port); replaces the embedded one
	// PresenceGrace is how long devices have to answer after the server's
	// session with the external broker came back from a loss; devices not
	// heard since the loss are then shown 离线 (LINLI_PRESENCE_GRACE, default 60 s).
	PresenceGrace time.Duration
	SIPAddr       string // LINLI_SIP_ADDR: the SIP server's UDP and TCP address, default ":5060"; "off" disables it
	SIPAdvertise  string // LINLI_SIP_ADVERTISE: host[:port] devices reach the SIP server at (Record-Route, other instances); default the listen address
	// Media of calls answered in browsers (门口呼叫, H5) and camera views.
	RTPPorts             string // LINLI_RTP_PORTS: UDP port range for device RTP and browser ICE, default "20000-20999"
	MediaIP              string // LINLI_MEDIA_IP: the address devices send RTP to; default the SIP server's advertised host when it is an IP, else 127.0.0.1
	MediaPublicIP        string // LINLI_MEDIA_PUBLIC_IP: address announced to browsers when the server is behind NAT (1:1)
	ICEServers           string // LINLI_ICE_SERVERS: STUN/TURN servers for browsers, comma-separated: stun:host:3478, turn:user:pass@host:3478
	MediaMaxSessions     int    // LINLI_MEDIA_MAX_SESSIONS: concurrent media sessions per server, default 200
	MediaMaxPerCommunity int    // LINLI_MEDIA_MAX_PER_COMMUNITY: concurrent media sessions per community, default 50
	RetentionDays        int    // LINLI_RECORD_RETENTION_DAYS: how long call and unlock records and their snapshots are kept, default 180
	// E-mail (password-reset links, codes for 替换邮箱).
	SMTPURL            string // LINLI_SMTP_URL: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://host:465; empty: mail goes to the log
	SMTPFrom           string // LINLI_SMTP_FROM: the From address, default "Linli <no-reply@localhost>"
	AuditRetentionDays int    // LINLI_AUDIT_RETENTION_DAYS: how long 操作日志 entries are kept, default 365
	MetricsAddr        string // LINLI_METRICS_ADDR: a separate listener for Prometheus's /metrics; empty: /metrics on the HTTP address
	// Files (photos, snapshots, ads, firmware) in an S3-compatible store.
	BlobURL string // LINLI_BLOB_URL: s3://bucket?endpoint=http://host:9000&region=us-east-1&prefix=…; empty: DataDir/files
	// S3 credentials, from the standard AWS environment variables only.
	S3AccessKeyID     string // AWS_ACCESS_KEY_ID
	S3SecretAccessKey string // AWS_SECRET_ACCESS_KEY
	S3SessionToken    string // AWS_SESSION_TOKEN
	S3Region          string // AWS_REGION (the URL's region= wins)
	// CamerasOnLoopback lets 监控设备 be on this machine (127.0.0.1, ::1):
	// a local ONVIF bridge or `linli sim camera` (LINLI_CAMERAS_ON_LOOPBACK).
	CamerasOnLoopback bool
	PprofAddr         string // LINLI_PPROF_ADDR: a loopback listener for Go's /debug/pprof profiles; empty: none
	MemoryLimit       int64  // LINLI_MEMORY_LIMIT: the Go runtime's soft memory limit in bytes (GOMEMLIMIT), from "400MiB"; 0: none
	// DoorOpenTimeout is how long a remote opening from the app waits for
	// the device's answer (0: 5 s). Set by tests, not from the environment.
	DoorOpenTimeout time.Duration
	// WatchTime is how long a 监视 view lasts before 延长 (0: 60 s). Set
	// by tests, not from the environment.
	WatchTime time.Duration
	// CallRecheck is how often an open call page's rights are checked
	// again (0: 10 s). Set by tests, not from the environment.
	CallRecheck time.Duration
}

// Load parses args (without the program and command names) with getenv
// supplying defaults. Errors in args are reported on stderr by the flag set.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	envInt := func(key string, def int) int {
		if v, err := strconv.Atoi(getenv(key)); err == nil {
			return v
		}
		return def
	}
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.HTTPAddr, "http-addr", env("LINLI_HTTP_ADDR", ":8080"), "HTTP listen address (LINLI_HTTP_ADDR); a port of 0 picks a free one")
	fs.StringVar(&c.DataDir, "data-dir", env("LINLI_DATA_DIR", "./data"), "directory for the SQLite database and files (LINLI_DATA_DIR)")
	fs.StringVar(&c.DBURL, "db-url", env("LINLI_DB_URL", ""), "database URL (LINLI_DB_URL): empty for SQLite in the data dir, postgres://… for PostgreSQL")
	fs.StringVar(&c.AdminAccount, "admin-account", env("LINLI_ADMIN_ACCOUNT", "admin"), "login of the first platform operator (LINLI_ADMIN_ACCOUNT)")
	fs.StringVar(&c.PublicURL, "public-url", env("LINLI_PUBLIC_URL", ""), "external address for links in QR codes, e.g. https://wuye.example.com (LINLI_PUBLIC_URL); empty: from the request")
	fs.StringVar(&c.MQTTAddr, "mqtt-addr", env("LINLI_MQTT_ADDR", ":1883"), "embedded MQTT broker address for devices (LINLI_MQTT_ADDR); port 0 picks one; off disables it")
	grace := 60 * time.Second
	if v := getenv("LINLI_PRESENCE_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("LINLI_PRESENCE_GRACE %q: want a duration such as 60s or 2m", v)
		}
		grace = d
	}
	fs.DurationVar(&c.PresenceGrace, "presence-grace", grace, "after the session with the external broker was lost, how long devices have to answer before those not heard since are shown offline (LINLI_PRESENCE_GRACE)")
	fs.StringVar(&c.SIPAddr, "sip-addr", env("LINLI_SIP_ADDR", ":5060"), "SIP address for devices and apps, UDP and TCP (LINLI_SIP_ADDR); port 0 picks one; off disables it")
	fs.StringVar(&c.SIPAdvertise, "sip-advertise", env("LINLI_SIP_ADVERTISE", ""), "host[:port] at which devices and other instances reach this SIP server (LINLI_SIP_ADVERTISE); default: the listen address, 127.0.0.1 when it listens on every interface")
	fs.StringVar(&c.RTPPorts, "rtp-ports", env("LINLI_RTP_PORTS", "20000-20999"), "UDP port range for call media, device RTP and browser ICE (LINLI_RTP_PORTS); 0 lets the system choose")
	fs.StringVar(&c.MediaIP, "media-ip", env("LINLI_MEDIA_IP", ""), "address devices send call media to (LINLI_MEDIA_IP); default: the SIP server's advertised host when it is an IP address, else 127.0.0.1")
	fs.StringVar(&c.MediaPublicIP, "media-public-ip", env("LINLI_MEDIA_PUBLIC_IP", ""), "public address announced to browsers when this server is behind 1:1 NAT (LINLI_MEDIA_PUBLIC_IP)")
	fs.IntVar(&c.MediaMaxSessions, "media-max-sessions", envInt("LINLI_MEDIA_MAX_SESSIONS", 200), "concurrent media sessions (calls and views answered in browsers) per server (LINLI_MEDIA_MAX_SESSIONS)")
	fs.IntVar(&c.MediaMaxPerCommunity, "media-max-per-community", envInt("LINLI_MEDIA_MAX_PER_COMMUNITY", 50), "concurrent media sessions per community (LINLI_MEDIA_MAX_PER_COMMUNITY)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", env("LINLI_SMTP_FROM", "Linli <no-reply@localhost>"), "From address of mail (LINLI_SMTP_FROM)")
	fs.IntVar(&c.RetentionDays, "record-retention-days", envInt("LINLI_RECORD_RETENTION_DAYS", 180), "days call and unlock records and their snapshots are kept (LINLI_RECORD_RETENTION_DAYS)")
	fs.IntVar(&c.AuditRetentionDays, "audit-retention-days", envInt("LINLI_AUDIT_RETENTION_DAYS", 365), "days 操作日志 (audit log) entries are kept (LINLI_AUDIT_RETENTION_DAYS)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("LINLI_METRICS_ADDR", ""), "separate listen address for Prometheus metrics at /metrics, e.g. 127.0.0.1:9100 (LINLI_METRICS_ADDR); empty: /metrics on the HTTP address")
	fs.StringVar(&c.BlobURL, "blob-url", env("LINLI_BLOB_URL", ""), "S3-compatible store for files, s3://bucket?endpoint=http://host:9000&region=us-east-1&prefix=linli (LINLI_BLOB_URL; credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); empty: the data dir's files directory")
	fs.StringVar(&c.PprofAddr, "pprof-addr", env("LINLI_PPROF_ADDR", ""), "loopback address for Go's /debug/pprof profiles, e.g. 127.0.0.1:6060 (LINLI_PPROF_ADDR); empty: none")
	proxies := fs.String("trusted-proxies", env("LINLI_TRUSTED_PROXIES", ""), "addresses or networks of reverse proxies whose X-Forwarded-For names the client, comma-separated, e.g. 127.0.0.1,10.0.0.0/8 (LINLI_TRUSTED_PROXIES); empty: none")
	camerasOnLoopback := getenv("LINLI_CAMERAS_ON_LOOPBACK")
	fs.BoolVar(&c.CamerasOnLoopback, "cameras-on-loopback", camerasOnLoopback == "1" || camerasOnLoopback == "true", "allow 监控设备 on this machine (127.0.0.1): a local ONVIF bridge or the fake camera of `linli sim camera` (LINLI_CAMERAS_ON_LOOPBACK=1)")
	memoryLimit := fs.String("memory-limit", env("LINLI_MEMORY_LIMIT", ""), "soft memory limit of the Go runtime, e.g. 400MiB (LINLI_MEMORY_LIMIT); empty: none")
	fs.StringVar(&c.LogLevel, "log-level", env("LINLI_LOG_LEVEL", "info"), "log level: debug, info, warn, error (LINLI_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("LINLI_LOG_FORMAT", "text"), "log format: text or json (LINLI_LOG_FORMAT)")
	// The admin password is read from the environment only, so that it never
	// shows in a process list.
	c.AdminPassword = getenv("LINLI_ADMIN_PASSWORD")
	c.DataKey = getenv("LINLI_DATA_KEY")
	// So is the external broker's URL, which holds its password.
	c.MQTTURL = getenv("LINLI_MQTT_URL")
	// And the TURN servers' credentials.
	c.ICEServers = getenv("LINLI_ICE_SERVERS")
	// Environment only: it holds a password.
	c.SMTPURL = getenv("LINLI_SMTP_URL")
	// The S3 credentials are the standard AWS variables, read here rather
	// than by the S3 client so that two servers in one process may differ.
	c.S3AccessKeyID = getenv("AWS_ACCESS_KEY_ID")
	c.S3SecretAccessKey = getenv("AWS_SECRET_ACCESS_KEY")
	c.S3SessionToken = getenv("AWS_SESSION_TOKEN")
	c.S3Region = getenv("AWS_REGION")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if _, err := c.Level(); err != nil {
		return c, err
	}
	if c.RetentionDays < 1 || c.RetentionDays > 3650 {
		return c, fmt.Errorf("record retention %d days: want 1 to 3650", c.RetentionDays)
	}
	if c.AuditRetentionDays < 1 || c.AuditRetentionDays > 3650 {
		return c, fmt.Errorf("audit retention %d days: want 1 to 3650", c.AuditRetentionDays)
	}
	if _, _, err := c.PortRange(); err != nil {
		return c, err
	}
	if c.PresenceGrace < time.Second || c.PresenceGrace > time.Hour {
		return c, fmt.Errorf("presence grace %s: want 1s to 1h", c.PresenceGrace)
	}
	if c.MediaMaxSessions < 1 || c.MediaMaxPerCommunity < 1 {
		return c, fmt.Errorf("media session limits must be at least 1")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	var err error
	if c.MemoryLimit, err = parseBytes(*memoryLimit); err != nil {
		return c, fmt.Errorf("memory limit: %w", err)
	}
	if c.TrustedProxies, err = parseProxies(*proxies); err != nil {
		return c, fmt.Errorf("trusted proxies: %w", err)
	}
	if c.PprofAddr != "" && !loopback(c.PprofAddr) {
		return c, fmt.Errorf("pprof address %q: profiles are served on a loopback address only, e.g. 127.0.0.1:6060", c.PprofAddr)
	}
	return c, nil
}

// parseBytes reads a size as GOMEMLIMIT writes it: a number with B, KiB,
// MiB, GiB or TiB; empty is 0.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		bytes  int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n <= 0 || n > (1<<62)/u.bytes {
				break
			}
			return n * u.bytes, nil
		}
	}
	return 0, fmt.Errorf("%q: want a size such as 400MiB or 2GiB (B, KiB, MiB, GiB, TiB)", s)
}

// loopback reports whether host:port addr names a loopback host.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Level returns the slog level of c.LogLevel.
func (c Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return l, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// PortRange returns the bounds of RTPPorts; 0, 0 when the system chooses.
func (c Config) PortRange() (int, int, error) {
	v := strings.TrimSpace(c.RTPPorts)
	if v == "" || v == "0" {
		return 0, 0, nil
	}
	lo, hi, ok := strings.Cut(v, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || a < 1024 || b > 65535 || b-a < 15 {
		return 0, 0, fmt.Errorf("RTP ports %q: want a range like 20000-20999 (at least 16 ports, 1024–65535)", v)
	}
	return a, b, nil
}

// parseProxies reads a comma-separated list of addresses and networks
// (LINLI_TRUSTED_PROXIES: "127.0.0.1,10.0.0.0/8").
func parseProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q: want an address such as 127.0.0.1 or a network such as 10.0.0.0/8", f)
			}
			out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q: want an address such as 127.0.0.1 or a network such as 10.0.0.0/8", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
