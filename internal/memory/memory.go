// Package memory gives the server's freed memory back to the system after a
// burst. When thousands of devices reconnect and sync at once (after a
// restart or a network outage), the heap and goroutine stacks grow for a
// minute and are then freed; the Go runtime returns such pages to the
// system only slowly, in the background, so an idle server would otherwise
// keep the RSS of its busiest minute for several minutes more.
package memory

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// every is how often the free memory is looked at: reading the runtime
	// metric costs microseconds and stops nothing.
	every = 30 * time.Second
	// threshold is how much free memory the runtime may keep for the next
	// burst before it is given back: returning it costs a garbage
	// collection, which at this size is a few milliseconds.
	threshold = 64 << 20
	// freeMetric is the heap memory that is free and could be returned to
	// the system but has not been.
	freeMetric = "/memory/classes/heap/free:bytes"
)

// Trim gives free heap memory back to the system every 30 s when more than
// 64 MiB of it is held, until ctx ends.
func Trim(ctx context.Context, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	sample := []metrics.Sample{{Name: freeMetric}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if given := trim(sample); given > 0 {
			logger.Debug("freed memory given back to the system", "bytes", given)
		}
	}
}

// trim gives the free heap memory back when it is over the threshold and
// returns how much there was (0 when it was left).
func trim(sample []metrics.Sample) uint64 {
	free := heapFree(sample)
	if free <= threshold {
		return 0
	}
	debug.FreeOSMemory()
	return free
}

// heapFree returns the free heap memory the runtime holds, reading it into
// sample (one sample of freeMetric).
func heapFree(sample []metrics.Sample) uint64 {
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}
