package sip

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// FuzzMessage feeds arbitrary bytes to the message entry point: the parser
// the transport uses, the server's own header parsing (digest credentials,
// URIs, nonce counts, Expires), and a running server over UDP, which must
// still answer OPTIONS afterwards.
func FuzzMessage(f *testing.F) {
	for _, seed := range []string{
		"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5555;branch=z9hG4bK-1\r\nFrom: <sip:d1@x>;tag=1\r\nTo: <sip:d1@x>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5555;branch=z9hG4bK-2;rport\r\nFrom: <sip:d1@x>;tag=2\r\nTo: <sip:d1@x>\r\nCall-ID: 2\r\nCSeq: 2 REGISTER\r\nContact: <sip:d1@127.0.0.1:5555>;expires=60, *\r\nExpires: 0\r\nAuthorization: Digest username=\"d1\", realm=\"linli\", nonce=\"AAAA\", uri=\"sip:127.0.0.1\", response=\"00\", qop=auth, nc=00000001, cnonce=\"x\"\r\nContent-Length: 0\r\n\r\n",
		"INVITE sip:0502@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5555;branch=z9hG4bK-3\r\nMax-Forwards: 0\r\nFrom: <sip:d1@x>;tag=3\r\nTo: <sip:0502@x>\r\nCall-ID: 3\r\nCSeq: 1 INVITE\r\nRoute: <sip:127.0.0.1;lr>\r\nX-Linli-Relay: 1;sig=00\r\nContent-Length: 4\r\n\r\nv=0\r\n",
		"BYE sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK-4\r\nFrom: <sip:a@b>;tag=a\r\nTo: <sip:c@d>;tag=b\r\nCall-ID: 4\r\nCSeq: 9 BYE\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK-5\r\nCall-ID: 5\r\nCSeq: 1 INVITE\r\n\r\n",
		"\r\n\r\n",
		"\x00\x01garbage",
	} {
		f.Add([]byte(seed))
	}
	s := startServer(f, openStore(f), estate(), newMemCallLog(), nil)
	conn, err := net.Dial("udp", s.Addr())
	if err != nil {
		f.Fatal(err)
	}
	defer conn.Close()
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		if msg, err := sip.ParseMessage(data); err == nil {
			if req, ok := msg.(*sip.Request); ok {
				for _, name := range []string{"Authorization", "Proxy-Authorization"} {
					for _, h := range req.GetHeaders(name) {
						if c, ok := parseCredentials(h.Value()); ok {
							sameURI(c.uri, req.Recipient)
							parseNC(c)
							digestResponse(c, string(req.Method), "pw")
						}
					}
				}
			}
		}
		_, _ = conn.Write(data)
		n++
		if n%50 != 0 {
			return
		}
		// Every 50 inputs: the server still answers.
		ping := "OPTIONS sip:" + s.Addr() + " SIP/2.0\r\nVia: SIP/2.0/UDP " + conn.LocalAddr().String() +
			";branch=z9hG4bK-ping" + itoa(n) + "\r\nFrom: <sip:p@x>;tag=p\r\nTo: <sip:p@x>\r\nCall-ID: ping" + itoa(n) +
			"\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
		_, _ = conn.Write([]byte(ping))
		buf := make([]byte, 65536)
		deadline := time.Now().Add(3 * time.Second)
		for {
			_ = conn.SetReadDeadline(deadline)
			m, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("server stopped answering after input %q", data)
			}
			if strings.Contains(string(buf[:m]), "Call-ID: ping"+itoa(n)) {
				return
			}
		}
	})
}
