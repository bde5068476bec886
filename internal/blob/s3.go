package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Time limits of the calls to an S3-compatible store. A call that takes
// longer fails as Unavailable: a slow store makes the requests that need it
// fail, never wait without end, and holds no lock that others wait for.
const (
	// S3CallTimeout bounds a whole call that moves little data: Put of a
	// photo or snapshot, Get, Stat, Delete, one page of a listing.
	S3CallTimeout = 30 * time.Second
	// S3CheckTimeout bounds the write-and-remove probe of /readyz.
	S3CheckTimeout = 5 * time.Second
	// s3ConnectTimeout bounds connecting; s3HeaderTimeout waiting for the
	// answer to a request once it is sent. Streams (firmware up and down)
	// have no overall limit, only these and the caller's context.
	s3ConnectTimeout = 5 * time.Second
	s3HeaderTimeout  = 30 * time.Second
	// s3PartSize is the part size of uploads of unknown length (firmware);
	// smaller ones go in a single request.
	s3PartSize = 16 << 20
)

// S3Config says which bucket an S3 store uses and how to reach it.
type S3Config struct {
	// URL is s3://bucket?endpoint=http://127.0.0.1:9000&region=us-east-1&prefix=linli/:
	// endpoint's scheme chooses http or https (default https://s3.amazonaws.com
	// style, from region); keys are addressed path-style, which every
	// S3-compatible server understands; prefix puts the keys below a folder
	// of a shared bucket.
	URL         *url.URL
	Credentials Credentials
}

// S3 stores blobs as objects of a bucket in an S3-compatible store.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
	where  string // for logs and errors: the URL without secrets
}

var _ Store = (*S3)(nil)

// NewS3 returns a store of the bucket cfg names. It does not contact the
// store; Check does.
func NewS3(cfg S3Config) (*S3, error) {
	u := cfg.URL
	bucket := u.Host
	if bucket == "" {
		return nil, fmt.Errorf("blob url %q: no bucket (s3://bucket?endpoint=…)", u.Redacted())
	}
	q := u.Query()
	region := q.Get("region")
	if region == "" {
		region = cfg.Credentials.Region
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		if region == "" {
			return nil, fmt.Errorf("blob url %q: give endpoint= or region=", u.Redacted())
		}
		endpoint = "https://s3." + region + ".amazonaws.com"
	}
	ep, err := url.Parse(endpoint)
	if err != nil || (ep.Scheme != "http" && ep.Scheme != "https") || ep.Host == "" || (ep.Path != "" && ep.Path != "/") {
		return nil, fmt.Errorf("blob url: endpoint %q: want http://host:port or https://host", endpoint)
	}
	prefix := strings.Trim(q.Get("prefix"), "/")
	if prefix != "" {
		if err := checkKey(prefix); err != nil {
			return nil, fmt.Errorf("blob url: prefix %q: lower-case letters, digits and / _ . - only", prefix)
		}
		prefix += "/"
	}
	if cfg.Credentials.AccessKeyID == "" || cfg.Credentials.SecretAccessKey == "" {
		return nil, errors.New("blob url: an S3 store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	if region == "" {
		region = "us-east-1"
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: s3ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   s3ConnectTimeout,
		ResponseHeaderTimeout: s3HeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
	}
	client, err := minio.New(ep.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.Credentials.AccessKeyID, cfg.Credentials.SecretAccessKey, cfg.Credentials.SessionToken),
		Secure:       ep.Scheme == "https",
		Transport:    transport,
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
		// One retry for a dropped connection; more would hold a request
		// for seconds when the store is down.
		MaxRetries: 2,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	where := "s3://" + bucket + "/" + prefix + " at " + ep.Scheme + "://" + ep.Host
	return &S3{client: client, bucket: bucket, prefix: prefix, where: where}, nil
}

// String names the bucket, prefix and endpoint (no credentials).
func (s *S3) String() string { return s.where }

func (s *S3) object(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

// fail turns an error of the client into ErrNotFound, or Unavailable for a
// store that could not be reached, refused the credentials or failed: all
// of them are reasons to try again later, none a fault of the request.
func (s *S3) fail(op, key string, err error) error {
	if err == nil {
		return nil
	}
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey:
		return ErrNotFound
	}
	return Unavailable(fmt.Errorf("blob: %s %s in %s: %w", op, key, s.where, err))
}

// Put stores data under key in one request; the object appears whole or
// not at all.
func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, S3CallTimeout)
	defer cancel()
	_, err = s.client.PutObject(ctx, s.bucket, name, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true})
	return s.fail("put", key, err)
}

// PutReader stores what r yields under key. What fits in one part goes up
// in one request; larger files go up in parts, which the store joins only
// once the last one arrived, so the object appears whole or not at all. A
// failure aborts the upload, and RemoveTemporary clears what a crash left.
func (s *S3) PutReader(ctx context.Context, key string, r io.Reader) (int64, error) {
	name, err := s.object(key)
	if err != nil {
		return 0, err
	}
	first := make([]byte, s3PartSize)
	n, err := io.ReadFull(r, first)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return int64(n), s.Put(ctx, key, first[:n])
	case err != nil:
		return int64(n), fmt.Errorf("blob: write: %w", err)
	}
	cr := &countingReader{r: r}
	_, err = s.client.PutObject(ctx, s.bucket, name, io.MultiReader(bytes.NewReader(first), cr), -1,
		minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: s3PartSize})
	total := int64(n) + cr.n
	if err != nil {
		if cr.err != nil {
			// The caller's stream failed, not the store.
			return total, fmt.Errorf("blob: write: %w", cr.err)
		}
		return total, s.fail("put", key, err)
	}
	return total, nil
}

// countingReader counts what it passed on and keeps its source's error.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// Open opens the object under key for streaming. It asks for the object's
// size at once (so a missing file is ErrNotFound here, before an answer
// has begun); reads fetch the data from the current offset, so seeking
// serves HTTP range requests without reading what is skipped. The stream
// lives as long as ctx.
func (s *S3) Open(ctx context.Context, key string) (File, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	info, err := s.stat(ctx, key, name)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail("open", key, err)
	}
	return &s3File{Object: obj, s: s, info: info}, nil
}

// s3File is an object opened for reading.
type s3File struct {
	*minio.Object
	s    *S3
	info Object
}

func (f *s3File) Info() Object { return f.info }

func (f *s3File) Read(p []byte) (int, error) {
	n, err := f.Object.Read(p)
	if err != nil && err != io.EOF {
		err = f.s.fail("read", f.info.Key, err)
	}
	return n, err
}

func (f *s3File) Seek(offset int64, whence int) (int64, error) {
	n, err := f.Object.Seek(offset, whence)
	if err != nil {
		err = f.s.fail("seek", f.info.Key, err)
	}
	return n, err
}

// Get returns the data under key, or ErrNotFound.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, S3CallTimeout)
	defer cancel()
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail("get", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, s.fail("get", key, err)
	}
	return data, nil
}

// Delete removes key; a missing key is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, S3CallTimeout)
	defer cancel()
	err = s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{})
	if errors.Is(s.fail("delete", key, err), ErrNotFound) {
		return nil
	}
	return s.fail("delete", key, err)
}

// Stat describes the object under key, or returns ErrNotFound.
func (s *S3) Stat(ctx context.Context, key string) (Object, error) {
	name, err := s.object(key)
	if err != nil {
		return Object{}, err
	}
	return s.stat(ctx, key, name)
}

func (s *S3) stat(ctx context.Context, key, name string) (Object, error) {
	ctx, cancel := context.WithTimeout(ctx, S3CallTimeout)
	defer cancel()
	info, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return Object{}, s.fail("stat", key, err)
	}
	return Object{Key: key, Size: info.Size, ModTime: info.LastModified}, nil
}

// List yields the objects whose keys start with prefix, a page at a time
// as the store sends them, in key order. Breaking out of the loop stops
// the listing.
func (s *S3) List(ctx context.Context, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for info := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
			if info.Err != nil {
				yield(Object{}, s.fail("list", prefix, info.Err))
				return
			}
			key := strings.TrimPrefix(info.Key, s.prefix)
			if checkKey(key) != nil {
				continue // not one of ours: written by something else
			}
			if !yield(Object{Key: key, Size: info.Size, ModTime: info.LastModified}, nil) {
				return
			}
		}
	}
}

// Check writes and removes a small object, so that /readyz reports a
// store that cannot be reached or refuses writes.
func (s *S3) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, S3CheckTimeout)
	defer cancel()
	name := s.prefix + "readyz/check"
	if _, err := s.client.PutObject(ctx, s.bucket, name, strings.NewReader("ok"), 2,
		minio.PutObjectOptions{DisableMultipart: true}); err != nil {
		return s.fail("check", name, err)
	}
	return s.fail("check", name, s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}))
}

// RemoveTemporary aborts the multipart uploads under the prefix begun
// before before (what an interrupted firmware upload leaves in the
// bucket, invisible to readers but taking space).
func (s *S3) RemoveTemporary(ctx context.Context, before time.Time) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := 0
	for up := range s.client.ListIncompleteUploads(ctx, s.bucket, s.prefix, true) {
		if up.Err != nil {
			return n, s.fail("list uploads", s.prefix, up.Err)
		}
		if !up.Initiated.Before(before) {
			continue
		}
		if err := s.client.RemoveIncompleteUpload(ctx, s.bucket, up.Key); err != nil {
			return n, s.fail("abort upload", up.Key, err)
		}
		n++
	}
	return n, nil
}
