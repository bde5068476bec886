package blob_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync/atomic"
	"testing"

	"linli/internal/blob"
	"linli/internal/blob/blobtest"
)

// BenchmarkPut stores 50 KB snapshots, the size devices send, in the data
// directory and in a bucket of a versitygw on this machine, from 8
// goroutines at once. It reports stored files per second.
//
//	go test -run '^$' -bench Put ./internal/blob/
func BenchmarkPut(b *testing.B) {
	snap := make([]byte, 50<<10)
	_, _ = rand.Read(snap)
	dir, err := blob.NewDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for name, st := range map[string]func() blob.Store{
		"dir": func() blob.Store { return dir },
		"s3":  func() blob.Store { return blobtest.Start(b).Store("") },
	} {
		b.Run(name, func(b *testing.B) {
			st := st()
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(4) // 4 × GOMAXPROCS goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := st.Put(ctx, fmt.Sprintf("snapshots/1/202612/%d.jpg", n.Add(1)), snap); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
