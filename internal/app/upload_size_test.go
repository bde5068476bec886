package app_test

import (
	"bytes"
	"strings"
	"testing"

	"linli/internal/apptest"
	"linli/internal/storetest"
)

// TestOversizedUploadsNameTheLimit checks the answer to uploads far over
// their limit: a form declared larger than the operation takes is refused
// before it is read (huma reads forms without the body limit), naming both
// sizes.
func TestOversizedUploadsNameTheLimit(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	a := s.NewCommunity(t, s.Operator(), "上传小区", "UP")
	dev := boundDevice(t, s, a, "pwUPx9", "UP-DOOR-1", 1)
	jpegStart := []byte{0xFF, 0xD8, 0xFF}
	tests := []struct {
		name string
		do   func() apptest.Response
		want string
	}{
		{"30 MB snapshot", func() apptest.Response {
			return postEvent(s, dev.Token, map[string]string{"event_id": "big-1", "type": "call", "target": "0101", "time": "2026-01-28T16:43:34+08:00"},
				append(jpegStart, bytes.Repeat([]byte{0}, 30<<20)...))
		}, "上传的内容太大：31.5 MB，最大 1.1 MB"},
		{"30 MB workbook", func() apptest.Response {
			return importFile(a.Manager, a, "big.xlsx", append([]byte("PK\x03\x04"), bytes.Repeat([]byte("x"), 30<<20)...))
		}, "上传的内容太大：31.5 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			if r.Status != 413 || !strings.Contains(r.Detail(), tt.want) {
				t.Errorf("%d %s, want 413 with %q", r.Status, r.Body, tt.want)
			}
		})
	}
}
