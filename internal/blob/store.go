package blob

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"linli/internal/errs"
)

// Store is where files are kept: the data directory (Dir) or an
// S3-compatible bucket (S3). Keys are checked the same way by both.
type Store interface {
	// Put stores data under key, replacing what was there. A failed Put
	// leaves nothing readable under key that was not there before.
	Put(ctx context.Context, key string, data []byte) error
	// PutReader stores what r yields under key and returns how many bytes
	// it stored. A failed read leaves nothing behind.
	PutReader(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open opens the file under key for streaming (and seeking, for HTTP
	// range requests), or returns ErrNotFound.
	Open(ctx context.Context, key string) (File, error)
	// Get returns the data under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Check says whether files can be written now (for /readyz).
	Check(ctx context.Context) error
	// RemoveTemporary removes what interrupted writes begun before before
	// left behind, and says how many it removed.
	RemoveTemporary(ctx context.Context, before time.Time) (int, error)
	Listing
}

// File is a stored file opened for reading.
type File interface {
	io.ReadSeekCloser
	// Info describes the file as it was when it was opened.
	Info() Object
}

// Unavailable is the error of a store that cannot be reached or does not
// answer in time: the request may succeed later. The HTTP layer answers it
// with 503 and its message.
func Unavailable(cause error) error {
	return &errs.Error{Code: errs.Unavailable, Message: "文件存储暂不可用，请稍后重试", Err: cause}
}

var keyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9/_.-]{0,200}$`)

// checkKey refuses keys that are not plain relative paths of lower-case
// names: no "..", no absolute paths, no empty segments.
func checkKey(key string) error {
	if !keyRE.MatchString(key) || filepath.Clean(key) != key || filepath.IsAbs(key) || key == ".." ||
		strings.HasPrefix(key, "../") || strings.Contains(key, "/../") || strings.HasSuffix(key, "/..") {
		return fmt.Errorf("blob: bad key %q", key)
	}
	return nil
}

// Credentials sign the requests to an S3-compatible store; they come from
// the standard AWS environment variables.
type Credentials struct {
	AccessKeyID     string // AWS_ACCESS_KEY_ID
	SecretAccessKey string // AWS_SECRET_ACCESS_KEY
	SessionToken    string // AWS_SESSION_TOKEN
	Region          string // AWS_REGION; the URL's region= wins
}

// Open returns the store that rawURL names: the directory localDir when
// rawURL is empty, or a bucket for s3://bucket?endpoint=…&region=…&prefix=….
// An unreachable bucket is not an error here (Check says so later); a
// malformed URL or missing credentials are.
func Open(rawURL, localDir string, cred Credentials) (Store, error) {
	if rawURL == "" {
		return NewDir(localDir)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("blob url: %w", err)
	}
	if u.Scheme != "s3" {
		return nil, fmt.Errorf("blob url %q: want s3://bucket?endpoint=…", u.Redacted())
	}
	return NewS3(S3Config{URL: u, Credentials: cred})
}
