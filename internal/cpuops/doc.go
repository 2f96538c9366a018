// Package cpuops holds native float32 kernels for the data-movement ops that dominate a CNN training
// step on the project's CPU backend once the matrix products are fast (internal/sgemm): Transpose
// (NCHW ↔ pixel rows around every convolution of confcal/nn), and the row Gather and ScatterSum of
// im2col/col2im. simplego runs these with a per-element index iterator on one core; these kernels
// move whole rows or cache-sized tiles and use every core. confcal/backend installs them in place
// of simplego's executors for the shapes they cover.
package cpuops

import (
	"runtime"
	"sync"
)

// Parallel runs fn(lo, hi) over [0, n) split into at most workers contiguous ranges (workers ≤ 0:
// GOMAXPROCS), on the calling goroutine when one range will do. minPer is the smallest range worth
// a goroutine.
func Parallel(n, workers, minPer int, fn func(lo, hi int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n/max(minPer, 1))
	if workers <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}
