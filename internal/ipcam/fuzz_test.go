package ipcam

import (
	"net"
	"strings"
	"testing"
)

// FuzzHost: whatever staff type, Host either refuses it or returns a
// host:port without credentials, path or query.
func FuzzHost(f *testing.F) {
	for _, s := range []string{"192.168.1.64", "192.168.1.64:8080", "http://cam.local:8899/onvif/device_service", "[::1]:80",
		"rtsp://10.0.0.2", "http://u:p@10.0.0.2", "10.0.0.2:99999", "", "http://10.0.0.2/?x=1", "http://[fe80::1%25eth0]:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		hp, err := Host(in)
		if err != nil {
			return
		}
		host, port, err := net.SplitHostPort(hp)
		if err != nil || host == "" || port == "" || strings.ContainsAny(hp, "/?#@ ") {
			t.Errorf("Host(%q) = %q", in, hp)
		}
	})
}

// FuzzDigestChallenge: a camera's WWW-Authenticate header never breaks the
// digest answer.
func FuzzDigestChallenge(f *testing.F) {
	for _, s := range []string{`realm="cam", qop="auth", nonce="abc", algorithm=MD5`, `realm=cam,nonce=x`, `qop="auth-int,auth"`, `"`, `a=`, `=`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, challenge string) {
		out := digest(challenge, "GET", "http://127.0.0.1/snapshot.jpg", "admin", "pw")
		if !strings.HasPrefix(out, "Digest ") || !strings.Contains(out, `uri="/snapshot.jpg"`) {
			t.Errorf("digest(%q) = %q", challenge, out)
		}
	})
}
