package ua

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// authParams reads the name="value" pairs of an Authorization header.
func authParams(v string) map[string]string {
	out := map[string]string{}
	v = strings.TrimPrefix(v, "Digest ")
	for _, part := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		out[k] = strings.Trim(val, `"`)
	}
	return out
}

func hexHash(h func() hash.Hash, parts ...string) string {
	x := h()
	x.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(x.Sum(nil))
}

// TestDigestPicksSHA256AndSignsTheRequestURI checks the answer to a
// challenge offering both algorithms (RFC 8760) by recomputing it, with
// the Request-URI, parameters included, as digest uri.
func TestDigestPicksSHA256AndSignsTheRequestURI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offers []string
		want   string
		hash   func() hash.Hash
	}{
		{"MD5 only", []string{`Digest realm="linli", nonce="n1", qop="auth", algorithm=MD5`}, "MD5", md5.New},
		{"SHA-256 offered second", []string{`Digest realm="linli", nonce="n1", qop="auth", algorithm=MD5`,
			`Digest realm="linli", nonce="n1", qop="auth", algorithm=SHA-256`}, "SHA-256", sha256.New},
		{"no qop", []string{`Digest realm="linli", nonce="n1"`}, "", md5.New},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := sip.Uri{Scheme: "sip", User: "0502", Host: "127.0.0.1", Port: 5060, UriParams: sip.NewParams()}
			uri.UriParams.Add("transport", "udp")
			req := sip.NewRequest(sip.INVITE, uri)
			res := sip.NewResponse(407, "Proxy Authentication Required")
			for _, o := range tc.offers {
				res.AppendHeader(sip.NewHeader("Proxy-Authenticate", o))
			}
			a := &authenticator{username: "d7", password: "s3cret"}
			if err := a.challenged(req, res); err != nil {
				t.Fatal(err)
			}
			h := req.GetHeader("Proxy-Authorization")
			if h == nil {
				t.Fatalf("no Proxy-Authorization in\n%s", req)
			}
			p := authParams(h.Value())
			if p["uri"] != "sip:0502@127.0.0.1:5060;transport=udp" || p["algorithm"] != tc.want || p["username"] != "d7" {
				t.Fatalf("credentials %v", p)
			}
			ha1 := hexHash(tc.hash, "d7", "linli", "s3cret")
			ha2 := hexHash(tc.hash, "INVITE", p["uri"])
			want := hexHash(tc.hash, ha1, "n1", ha2)
			if p["qop"] == "auth" {
				want = hexHash(tc.hash, ha1, "n1", p["nc"], p["cnonce"], "auth", ha2)
			}
			if p["response"] != want {
				t.Errorf("response %s, want %s", p["response"], want)
			}
		})
	}
}

func TestDigestRefusesUnknownAlgorithms(t *testing.T) {
	res := sip.NewResponse(401, "Unauthorized")
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="x", nonce="n", algorithm=SHA-512-256`))
	if _, _, err := strongest(res); err == nil {
		t.Error("SHA-512-256 was accepted")
	}
}

func TestDTMFInfoBodies(t *testing.T) {
	for _, tc := range []struct {
		ct, body string
		want     byte
	}{
		{"application/dtmf-relay", "Signal=#\r\nDuration=160\r\n", '#'},
		{"application/dtmf-relay", "Signal= 5\nDuration= 100", '5'},
		{"application/dtmf-relay", "Signal=11\r\nDuration=160", '#'},
		{"Application/DTMF-Relay; charset=utf-8", "signal=*", '*'},
		{"application/dtmf", "#", '#'},
		{"application/dtmf-relay", "Signal=x", 0},
		{"text/plain", "Signal=#", 0},
	} {
		got, ok := parseDTMFInfo(tc.ct, []byte(tc.body))
		if got != tc.want || ok != (tc.want != 0) {
			t.Errorf("%s %q: %q %v, want %q", tc.ct, tc.body, got, ok, tc.want)
		}
	}
	if got, _ := parseDTMFInfo(dtmfRelayType, dtmfRelayBody('#')); got != '#' {
		t.Errorf("own body reads back as %q", got)
	}
}

// FuzzDTMFInfo feeds INFO bodies from peers: never a panic, and only a
// real key comes out.
func FuzzDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=#\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("5"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		if d, ok := parseDTMFInfo(ct, body); ok && !strings.ContainsRune(dtmfDigits, rune(d)) {
			t.Errorf("key %q", d)
		}
	})
}
