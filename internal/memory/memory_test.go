package memory

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

// sink keeps the burst's memory reachable until the test drops it.
var sink [][]byte

func TestTrimGivesFreedMemoryBack(t *testing.T) {
	sample := []metrics.Sample{{Name: freeMetric}}
	if trim(sample) != 0 && heapFree(sample) > threshold {
		t.Fatal("free memory over the threshold after a trim")
	}
	// A burst: 256 MiB in 1 MiB pieces, then freed.
	for range 256 {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	runtime.GC()
	if free := heapFree(sample); free <= threshold {
		t.Skipf("the runtime already returned the burst (%d bytes free)", free)
	}
	if given := trim(sample); given <= threshold {
		t.Fatalf("trim gave back %d bytes with more than %d free", given, threshold)
	}
	if free := heapFree(sample); free > threshold {
		t.Errorf("%d bytes still free after the trim", free)
	}
	if given := trim(sample); given != 0 {
		t.Errorf("a second trim found %d bytes to give back", given)
	}
}
