package ipcam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	httpdigest "github.com/icholy/digest"
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
	client := httpClient(ctx)
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
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
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
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return resp, nil
}

// digest answers an HTTP digest challenge (RFC 7616) with the same library
// the SIP user agent uses. A challenge it cannot read or answer (garbled,
// an unknown algorithm or qop) is answered as plain MD5 with what could be
// read, and the camera says whether that will do.
func digest(challenge, method, uri, username, password string) string {
	path := uri
	if i := strings.Index(uri, "://"); i >= 0 {
		if j := strings.IndexByte(uri[i+3:], '/'); j >= 0 {
			path = uri[i+3+j:]
		} else {
			path = "/"
		}
	}
	opts := httpdigest.Options{Method: method, URI: path, Username: username, Password: password}
	chal, err := httpdigest.ParseChallenge("Digest " + challenge)
	if err != nil {
		chal = &httpdigest.Challenge{}
	}
	cred, err := httpdigest.Digest(chal, opts)
	if err != nil {
		cred, _ = httpdigest.Digest(&httpdigest.Challenge{Realm: chal.Realm, Nonce: chal.Nonce, Opaque: chal.Opaque}, opts)
	}
	return cred.String()
}
