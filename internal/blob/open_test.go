package blob

import (
	"strings"
	"testing"
)

// TestOpen: the setting picks the store; a malformed URL or missing
// credentials are refused with the reason, before anything is stored.
func TestOpen(t *testing.T) {
	cred := Credentials{AccessKeyID: "id", SecretAccessKey: "secret"}
	st, err := Open("", t.TempDir(), Credentials{})
	if _, ok := st.(*Dir); !ok || err != nil {
		t.Fatalf("empty url: %T %v", st, err)
	}
	st, err = Open("s3://linli?endpoint=http://127.0.0.1:9000&region=us-east-1&prefix=/estate-a/", t.TempDir(), cred)
	if s3, ok := st.(*S3); !ok || err != nil || s3.prefix != "estate-a/" || s3.bucket != "linli" {
		t.Fatalf("s3 url: %T %+v %v", st, st, err)
	}
	if st, err := Open("s3://linli", t.TempDir(), Credentials{AccessKeyID: "id", SecretAccessKey: "secret", Region: "eu-west-1"}); err != nil ||
		!strings.Contains(st.(*S3).String(), "https://s3.eu-west-1.amazonaws.com") {
		t.Errorf("region from AWS_REGION: %v %v", st, err)
	}
	for _, c := range []struct {
		url  string
		cred Credentials
		want string
	}{
		{"http://127.0.0.1:9000/linli", cred, "want s3://"},
		{"s3://?endpoint=http://127.0.0.1:9000", cred, "no bucket"},
		{"s3://linli", cred, "endpoint= or region="},
		{"s3://linli?endpoint=ftp://127.0.0.1", cred, "endpoint"},
		{"s3://linli?endpoint=http://127.0.0.1:9000/path", cred, "endpoint"},
		{"s3://linli?endpoint=http://127.0.0.1:9000&prefix=../up", cred, "prefix"},
		{"s3://linli?endpoint=http://127.0.0.1:9000&prefix=Upper", cred, "prefix"},
		{"s3://linli?endpoint=http://127.0.0.1:9000", Credentials{AccessKeyID: "id"}, "AWS_SECRET_ACCESS_KEY"},
	} {
		if _, err := Open(c.url, t.TempDir(), c.cred); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q): %v, want %q", c.url, err, c.want)
		}
	}
}
