package ipcam

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxSnapshot is the largest snapshot accepted.
const MaxSnapshot = 4 << 20

// ErrNotImage is a snapshot answer that is no JPEG picture.
var ErrNotImage = errors.New("ipcam: snapshot is not a JPEG picture")

// Snapshot fetches a JPEG from uri with the camera's credentials, by HTTP
// digest or basic authentication as the camera asks. Errors: ErrAuth,
// ErrUnreachable, ErrNotImage.
func Snapshot(ctx context.Context, uri, username, password string) ([]byte, error) {
	client := httpClient()
	resp, err := get(ctx, client, uri, "")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		challenge := resp.Header.Get("WWW-Authenticate")
		resp.Body.Close()
		var authz string
		switch {
		case strings.HasPrefix(strings.ToLower(challenge), "digest "):
			authz = digest(challenge[len("digest "):], http.MethodGet, uri, username, password)
		default:
			req, _ := http.NewRequest(http.MethodGet, uri, nil)
			req.SetBasicAuth(username, password)
			authz = req.Header.Get("Authorization")
		}
		if resp, err = get(ctx, client, uri, authz); err != nil {
			return nil, err
		}
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return nil, ErrAuth
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP %d", ErrNotImage, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxSnapshot+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	if len(data) > MaxSnapshot || !bytes.HasPrefix(data, []byte{0xff, 0xd8}) {
		return nil, ErrNotImage
	}
	return data, nil
}

func get(ctx context.Context, client *http.Client, uri, authz string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, ErrAddress
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return resp, nil
}

// digest answers an HTTP digest challenge (RFC 7616, MD5, qop auth or none).
func digest(challenge, method, uri, username, password string) string {
	p := params(challenge)
	path := uri
	if i := strings.Index(uri, "://"); i >= 0 {
		if j := strings.IndexByte(uri[i+3:], '/'); j >= 0 {
			path = uri[i+3+j:]
		} else {
			path = "/"
		}
	}
	ha1 := md5hex(username + ":" + p["realm"] + ":" + password)
	ha2 := md5hex(method + ":" + path)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	cnonce := hex.EncodeToString(b)
	var resp, qop string
	for _, q := range strings.Split(p["qop"], ",") {
		if strings.TrimSpace(q) == "auth" {
			qop = "auth"
		}
	}
	if qop != "" {
		resp = md5hex(ha1 + ":" + p["nonce"] + ":00000001:" + cnonce + ":auth:" + ha2)
	} else {
		resp = md5hex(ha1 + ":" + p["nonce"] + ":" + ha2)
	}
	out := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5`,
		username, p["realm"], p["nonce"], path, resp)
	if qop != "" {
		out += fmt.Sprintf(`, qop=auth, nc=00000001, cnonce="%s"`, cnonce)
	}
	if o := p["opaque"]; o != "" {
		out += fmt.Sprintf(`, opaque="%s"`, o)
	}
	return out
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// params reads a comma-separated list of key=value or key="value".
func params(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		s = strings.TrimLeft(s, " ,")
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				val, s = s[1:], ""
			} else {
				val, s = s[1:1+end], s[2+end:]
			}
		} else if end := strings.IndexByte(s, ','); end >= 0 {
			val, s = s[:end], s[end:]
		} else {
			val, s = s, ""
		}
		out[key] = strings.TrimSpace(val)
	}
	return out
}
