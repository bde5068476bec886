// Package blobtest starts a real S3-compatible server for tests: Versity's
// gateway (versitygw) over a temporary directory, listening on a free port
// of 127.0.0.1, with one empty bucket. Tests are skipped when the binary is
// missing, unless CI_REQUIRE_S3=1 (then they fail).
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"linli/internal/blob"
	"linli/internal/syncbuf"
)

// Version is the versitygw release the tests are run against
// (go install github.com/versity/versitygw/cmd/versitygw@Version).
const Version = "v1.8.0"

// Server is a running versitygw with one bucket.
type Server struct {
	Bucket      string
	Endpoint    string // http://127.0.0.1:port
	Credentials blob.Credentials

	bin, dir string
	addr     string
	tb       testing.TB

	mu     sync.Mutex
	proc   *os.Process
	exited chan struct{} // closed once proc exited
	logs   syncbuf.Buffer
}

// Binary returns the path of versitygw: in PATH, or in $(go env GOPATH)/bin
// where go install puts it; "" when neither has it.
func Binary() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "versitygw")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// Start runs versitygw for the test and creates a bucket; it stops the
// server on cleanup.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("CI_REQUIRE_S3") == "1" {
			tb.Fatalf("versitygw not found (go install github.com/versity/versitygw/cmd/versitygw@%s)", Version)
		}
		tb.Skipf("versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@%s", Version)
	}
	s := &Server{
		Bucket: "linli-test",
		Credentials: blob.Credentials{AccessKeyID: "linlitest",
			SecretAccessKey: "linli-test-secret-" + strconv.Itoa(os.Getpid()), Region: "us-east-1"},
		bin: bin, dir: tb.TempDir(), tb: tb,
	}
	tb.Cleanup(s.Stop)
	// Another test may take the port between probing and binding; try a
	// few before giving up.
	var err error
	for range 5 {
		s.addr, err = freePort()
		if err != nil {
			tb.Fatal(err)
		}
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		tb.Fatalf("versitygw: %v\n%s", err, s.Logs())
	}
	s.Endpoint = "http://" + s.addr
	client := s.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := client.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: s.Credentials.Region}); err != nil {
		tb.Fatalf("versitygw: make bucket: %v\n%s", err, s.Logs())
	}
	return s
}

// URL is the LINLI_BLOB_URL of the bucket, with prefix (may be empty).
func (s *Server) URL(prefix string) string {
	q := url.Values{"endpoint": {s.Endpoint}, "region": {s.Credentials.Region}}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	return "s3://" + s.Bucket + "?" + q.Encode()
}

// Store opens the bucket as a blob store.
func (s *Server) Store(prefix string) *blob.S3 {
	s.tb.Helper()
	u, _ := url.Parse(s.URL(prefix))
	st, err := blob.NewS3(blob.S3Config{URL: u, Credentials: s.Credentials})
	if err != nil {
		s.tb.Fatal(err)
	}
	return st
}

// ObjectNames lists every object of the bucket, under any prefix.
func (s *Server) ObjectNames(ctx context.Context) ([]string, error) {
	var names []string
	for o := range s.client().ListObjectsIter(ctx, s.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		names = append(names, o.Key)
	}
	return names, nil
}

// BeginUpload starts a multipart upload of name (a full object name, with
// any prefix) and sends one part, as a firmware upload cut off by a crash
// leaves it: invisible to readers, but taking space until aborted.
func (s *Server) BeginUpload(ctx context.Context, name string) error {
	core := minio.Core{Client: s.client()}
	id, err := core.NewMultipartUpload(ctx, s.Bucket, name, minio.PutObjectOptions{})
	if err != nil {
		return err
	}
	part := bytes.Repeat([]byte("x"), 1024)
	_, err = core.PutObjectPart(ctx, s.Bucket, name, id, 1, bytes.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{})
	return err
}

// Stop kills the server (as a crash or an outage would) and waits for it
// to exit. The bucket's directory stays; Restart serves it again.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.exited
	s.proc = nil
}

// Restart starts the server again on the same address and directory.
func (s *Server) Restart() {
	s.tb.Helper()
	var err error
	// The port was just freed; another process may take it meanwhile, and
	// the kernel may hold it for a moment.
	for range 50 {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("versitygw restart: %v\n%s", err, s.Logs())
}

// Logs returns what the server wrote.
func (s *Server) Logs() string { return s.logs.String() }

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin, "--access", s.Credentials.AccessKeyID, "--secret", s.Credentials.SecretAccessKey,
		"--port", s.addr, "posix", s.dir)
	cmd.Stdout, cmd.Stderr = &s.logs, &s.logs
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	// Ready once it accepts connections; gone if it exits first (the port
	// was taken). The limit only ends a start that hangs.
	giveUp := time.After(2 * time.Minute)
	for {
		select {
		case <-exited:
			return fmt.Errorf("exited: %v", waitErr)
		case <-giveUp:
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("not listening after 2 minutes")
		case <-time.After(50 * time.Millisecond):
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			s.proc, s.exited = cmd.Process, exited
			return nil
		}
	}
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (s *Server) client() *minio.Client {
	s.tb.Helper()
	c, err := minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds:        credentials.NewStaticV4(s.Credentials.AccessKeyID, s.Credentials.SecretAccessKey, ""),
		Region:       s.Credentials.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		s.tb.Fatal(err)
	}
	return c
}
