package auth

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIPBehindProxies(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	cases := []struct {
		name    string
		proxies []netip.Prefix
		peer    string
		xff     string
		want    string
	}{
		{"no proxies: the header is not believed", nil, "127.0.0.1:5000", "1.2.3.4", "127.0.0.1"},
		{"an untrusted peer", proxies, "192.0.2.7:5000", "1.2.3.4", "192.0.2.7"},
		{"one trusted proxy", proxies, "127.0.0.1:5000", "198.51.100.9", "198.51.100.9"},
		{"a forged first entry is skipped", proxies, "127.0.0.1:5000", "6.6.6.6, 198.51.100.9", "198.51.100.9"},
		{"two proxies", proxies, "127.0.0.1:5000", "198.51.100.9, 10.1.2.3", "198.51.100.9"},
		{"garbage stops at the last proxy", proxies, "127.0.0.1:5000", "198.51.100.9, junk, 10.1.2.3", "10.1.2.3"},
		{"no header", proxies, "127.0.0.1:5000", "", "127.0.0.1"},
		{"IPv4 in IPv6", proxies, "[::ffff:127.0.0.1]:5000", "::ffff:198.51.100.9", "198.51.100.9"},
	}
	for _, c := range cases {
		s := &Service{proxies: c.proxies}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := s.clientIP(r); got != c.want {
			t.Errorf("%s: client %q, want %q", c.name, got, c.want)
		}
	}
}

func TestOwnHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true, "192.0.2.10:8080": true, "192.0.2.10": true,
		"evil.example.com": false, "192.0.2.11:8080": false, "wuye.example.com:8080": false,
	} {
		r := request{host: host, local: "192.0.2.10:8080"}
		if got := r.hostIsOwn(); got != want {
			t.Errorf("host %q: own %v, want %v", host, got, want)
		}
	}
}
