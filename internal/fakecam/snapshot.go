package fakecam

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	httpdigest "github.com/icholy/digest"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"sync"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

const realm = "fakecam"

var (
	nonceOnce sync.Once
	nonceText string
)

// serverNonce is the digest nonce the camera hands out (one per process:
// enough for a test camera).
func serverNonce() string {
	nonceOnce.Do(func() {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		nonceText = hex.EncodeToString(b)
	})
	return nonceText
}

// snapshot serves a JPEG behind HTTP digest authentication (RFC 7616, MD5,
// qop=auth), as most cameras do.
func (c *Camera) snapshot(w http.ResponseWriter, r *http.Request) {
	if !c.digestOK(r) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Digest realm="%s", qop="auth", nonce="%s", algorithm=MD5`, realm, serverNonce()))
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	c.snaps.Add(1)
	w.Header().Set("Content-Type", "image/jpeg")
	_, _ = w.Write(Picture(c.cfg.Name, time.Now()))
}

// digestOK checks the answer to the challenge. The header is read with
// the digest library the client side uses; the response is computed here
// on its own, so that a fault in the client's answer shows.
func (c *Camera) digestOK(r *http.Request) bool {
	p, err := httpdigest.ParseCredentials(r.Header.Get("Authorization"))
	if err != nil || p.Username != c.cfg.Username || p.Realm != realm || p.Nonce != serverNonce() || p.URI != r.URL.RequestURI() {
		return false
	}
	ha1 := md5hex(c.cfg.Username + ":" + realm + ":" + c.cfg.Password)
	ha2 := md5hex(r.Method + ":" + p.URI)
	var want string
	if p.QOP == "auth" {
		want = md5hex(fmt.Sprintf("%s:%s:%08x:%s:auth:%s", ha1, p.Nonce, p.Nc, p.Cnonce, ha2))
	} else {
		want = md5hex(ha1 + ":" + p.Nonce + ":" + ha2)
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(p.Response)) == 1
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Picture draws the camera's snapshot: colour bars with its name and the
// time in large letters, 640×480.
func Picture(name string, at time.Time) []byte {
	const w, h, scale = 160, 120, 4
	small := image.NewRGBA(image.Rect(0, 0, w, h))
	bars := []color.RGBA{{192, 192, 192, 255}, {192, 192, 0, 255}, {0, 192, 192, 255}, {0, 192, 0, 255},
		{192, 0, 192, 255}, {192, 0, 0, 255}, {0, 0, 192, 255}}
	for x := range w {
		c := bars[x*len(bars)/w]
		for y := range h {
			small.SetRGBA(x, y, c)
		}
	}
	for y := 40; y < 84; y++ {
		for x := range w {
			small.SetRGBA(x, y, color.RGBA{20, 20, 20, 255})
		}
	}
	d := &font.Drawer{Dst: small, Src: image.White, Face: basicfont.Face7x13}
	for i, line := range []string{name, at.Format("15:04:05")} {
		d.Dot = fixed.P((w-d.MeasureString(line).Round())/2, 58+i*18)
		d.DrawString(line)
	}
	big := image.NewRGBA(image.Rect(0, 0, w*scale, h*scale))
	for y := range h * scale {
		for x := range w * scale {
			big.SetRGBA(x, y, small.RGBAAt(x/scale, y/scale))
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, big, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}
