package imaging

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"linli/internal/errs"
)

// Defaults of a server's Gate.
const (
	DefaultBudget  = 128 << 20        // bytes of decoding at once
	DefaultDecodes = 4                // decodes at once, whatever their size
	DefaultWait    = 15 * time.Second // longest wait for room before 503
)

// Gate bounds what decoding pictures takes across a server: each decode
// reserves its memory cost (from the header, before a pixel is decoded) out
// of one budget and one of a few decoding slots (decoding is CPU work), and
// waits, with its request, while either is spent. A picture that costs more
// than the whole budget is refused.
type Gate struct {
	budget int64
	wait   time.Duration
	sem    *semaphore.Weighted
	slots  chan struct{}

	mu         sync.Mutex
	inUse      int64
	peak       int64
	active     int
	peakActive int
}

// NewGate returns a Gate of budget bytes and decodes at once; a decode
// waits at most wait for room.
func NewGate(budget int64, decodes int, wait time.Duration) *Gate {
	return &Gate{budget: budget, wait: wait, sem: semaphore.NewWeighted(budget), slots: make(chan struct{}, decodes)}
}

// Budget returns the bytes the gate lets decoding take at once.
func (g *Gate) Budget() int64 { return g.budget }

// Peak returns the most bytes reserved at once and the most decodes at once
// since the gate was made.
func (g *Gate) Peak() (bytes int64, decodes int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak, g.peakActive
}

// cost is what re-encoding h at most maxSide takes: the upload, the decoded
// picture, and the scaled copy with its JPEG.
func cost(h Header, maxSide int) int64 {
	w, ht := outSize(h.Width, h.Height, maxSide)
	return h.Size + h.Cost + int64(w)*int64(ht)*5 + 64<<10
}

// Fits reports whether a picture of header h can be re-encoded at most
// maxSide within the budget.
func (g *Gate) Fits(h Header, maxSide int) bool { return cost(h, maxSide) <= g.budget }

// acquire reserves n bytes, waiting with ctx for at most the gate's wait.
func (g *Gate) acquire(ctx context.Context, n int64) error {
	ctx, cancel := context.WithTimeout(ctx, g.wait)
	defer cancel()
	busy := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) {
			return errs.New(errs.Unavailable, "服务器正忙于处理其他图片，请稍等一分钟后重新提交")
		}
		return err
	}
	// Always a slot first, then memory, so that two waiters never hold one
	// each of what the other needs.
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return busy(ctx.Err())
	}
	if err := g.sem.Acquire(ctx, n); err != nil {
		<-g.slots
		return busy(err)
	}
	g.mu.Lock()
	g.inUse += n
	g.active++
	g.peak = max(g.peak, g.inUse)
	g.peakActive = max(g.peakActive, g.active)
	g.mu.Unlock()
	return nil
}

func (g *Gate) release(n int64) {
	if n >= collectAbove {
		// The decoded picture is garbage now. Collecting it at once lets the
		// next decode reuse its memory; left to the pacer, the heap grows to
		// about twice what is live (the budget and the uploads) first.
		runtime.GC()
	}
	g.mu.Lock()
	g.inUse -= n
	g.active--
	g.mu.Unlock()
	g.sem.Release(n)
	<-g.slots
}

// collectAbove is the reservation from which a decode is collected at once.
const collectAbove = 16 << 20

// JPEG decodes the picture at src, whose header Inspect returned as h,
// scales it down so that neither side exceeds maxSide (0: no scaling) and
// re-encodes it as JPEG of quality. It waits for room in the budget first.
//
// Errors: errs.Invalid (too costly to decode, or damaged), errs.Unavailable
// (no room in time), the context's error.
func (g *Gate) JPEG(ctx context.Context, field string, src io.ReadSeeker, h Header, l Limits, maxSide, quality int) ([]byte, error) {
	n := cost(h, maxSide)
	if n > g.budget {
		return nil, errs.Fieldf(field, "%s %d×%d 解码需要约 %d MB 内存，超过服务器的上限：请另存为普通 JPEG（非渐进式）或缩小后再上传", l.Label, h.Width, h.Height, n>>20)
	}
	if err := g.acquire(ctx, n); err != nil {
		return nil, err
	}
	defer g.release(n)
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bufio.NewReaderSize(io.LimitReader(src, h.Size), 64<<10))
	if err != nil {
		return nil, errs.Fieldf(field, "%s已损坏或不完整，无法读取", l.Label)
	}
	if b := img.Bounds(); b.Dx() != h.Width || b.Dy() != h.Height {
		return nil, errs.Fieldf(field, "%s已损坏或不完整，无法读取", l.Label)
	}
	if w, ht := outSize(h.Width, h.Height, maxSide); w != h.Width || ht != h.Height {
		img = shrink(img, w, ht)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("imaging: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// outSize is w×h scaled down so that neither side exceeds maxSide (0: as is).
func outSize(w, h, maxSide int) (int, int) {
	if maxSide <= 0 || (w <= maxSide && h <= maxSide) {
		return w, h
	}
	if w >= h {
		return maxSide, max(h*maxSide/w, 1)
	}
	return max(w*maxSide/h, 1), maxSide
}
