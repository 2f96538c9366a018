package cpuops

import "fmt"

// Index is the type of a row index: GoMLX's Gather and ScatterSum take int32 or int64 indices.
type Index interface{ ~int32 | ~int64 }

// GatherRows copies row idx[t] of src (rows of width floats) to row t of dst, for every t, with up
// to workers goroutines. It returns an error naming the first index out of [0, rows of src).
func GatherRows[I Index](dst, src []float32, width int, idx []I, workers int) error {
	if width <= 0 || len(src)%width != 0 || len(dst) < len(idx)*width {
		return fmt.Errorf("cpuops.GatherRows: width %d, src %d, dst %d elements for %d indices", width, len(src), len(dst), len(idx))
	}
	if err := checkRows("GatherRows", idx, len(src)/width); err != nil {
		return err
	}
	Parallel(len(idx), workers, max(1, 8192/width), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			i := int(idx[t])
			copy(dst[t*width:(t+1)*width], src[i*width:(i+1)*width])
		}
	})
	return nil
}

// ScatterAddRows adds row t of updates to row idx[t] of dst, for every t (rows of width floats).
// Several t may name the same row; the sums are in increasing t for each row, so the result does
// not depend on workers. It returns an error naming the first index out of [0, rows of dst).
func ScatterAddRows[I Index](dst, updates []float32, width int, idx []I, workers int) error {
	if width <= 0 || len(dst)%width != 0 || len(updates) < len(idx)*width {
		return fmt.Errorf("cpuops.ScatterAddRows: width %d, dst %d, updates %d elements for %d indices", width, len(dst), len(updates), len(idx))
	}
	n := len(dst) / width
	if err := checkRows("ScatterAddRows", idx, n); err != nil {
		return err
	}
	// Each goroutine owns a range of destination rows and walks all updates: no two write the
	// same row, and each row's additions keep their order.
	Parallel(n, workers, max(1, 1<<15/width), func(lo, hi int) {
		for t, i := range idx {
			r := int(i)
			if r < lo || r >= hi {
				continue
			}
			addTo(dst[r*width:(r+1)*width], updates[t*width:(t+1)*width])
		}
	})
	return nil
}

// checkRows returns an error naming op and the first index of idx out of [0, n).
func checkRows[I Index](op string, idx []I, n int) error {
	for t, i := range idx {
		if i < 0 || int(i) >= n {
			return fmt.Errorf("cpuops.%s: index %d (#%d) out of [0, %d)", op, i, t, n)
		}
	}
	return nil
}

// addTo adds src to dst element by element.
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		d, s := dst[i:i+4:i+4], src[i:i+4:i+4]
		d[0] += s[0]
		d[1] += s[1]
		d[2] += s[2]
		d[3] += s[3]
	}
	for ; i < len(dst); i++ {
		dst[i] += src[i]
	}
}
