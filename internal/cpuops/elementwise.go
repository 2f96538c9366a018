package cpuops

//go:generate python3 gen_rows.py

import (
	"fmt"
	"math"
)

// BinaryOp names an elementwise float32 operation of two operands.
type BinaryOp int

// The binary operations, as GoMLX's Add, Sub, Mul, Div, Max and Min.
const (
	Add BinaryOp = iota
	Sub
	Mul
	Div
	Max
	Min
)

// broadcastStrides returns the strides of an operand of dimensions opDims in the index space of
// dims (same rank, each dimension equal or 1; or a single value, any rank): 0 along broadcast axes.
func broadcastStrides(name string, dims, opDims []int) ([]int, error) {
	strides := make([]int, len(dims))
	size := 1
	for _, d := range opDims {
		size *= d
	}
	if size == 1 {
		return strides, nil // a single value: stride 0 everywhere
	}
	if len(opDims) != len(dims) {
		return nil, fmt.Errorf("cpuops: %s has dimensions %v, not broadcastable to %v", name, opDims, dims)
	}
	s := 1
	for i := len(dims) - 1; i >= 0; i-- {
		switch opDims[i] {
		case dims[i]:
			strides[i] = s
		case 1:
			strides[i] = 0
		default:
			return nil, fmt.Errorf("cpuops: %s has dimensions %v, not broadcastable to %v", name, opDims, dims)
		}
		s *= opDims[i]
	}
	return strides, nil
}

// merge drops axes of size 1 and merges neighbouring axes that every operand walks as one (stride
// of the outer = stride of the inner × its size). It returns at least one axis.
func merge(dims []int, strides [][]int) ([]int, [][]int) {
	md := []int{}
	ms := make([][]int, len(strides))
	for ax, d := range dims {
		if d == 1 {
			continue
		}
		if n := len(md); n > 0 {
			mergeable := true
			for k := range strides {
				if ms[k][n-1] != strides[k][ax]*d {
					mergeable = false
					break
				}
			}
			if mergeable {
				md[n-1] *= d
				for k := range strides {
					ms[k][n-1] = strides[k][ax]
				}
				continue
			}
		}
		md = append(md, d)
		for k := range strides {
			ms[k] = append(ms[k], strides[k][ax])
		}
	}
	if len(md) == 0 {
		md = []int{1}
		for k := range ms {
			ms[k] = []int{0}
		}
	}
	return md, ms
}

// rowLen is the longest row one work item covers: rows are cut so that all cores get work even
// when the outer axes are few.
const rowLen = 1 << 14

// forRows calls row(offsets, lo, n) for the rows of the (merged) index space dims: offsets[k] is
// where operand k's row starts (plus base[k], if base is given), the row's elements are lo..lo+n of
// the last axis. Rows run on up to workers goroutines (with 1, in order on the calling goroutine, as
// reductions into shared outputs need).
func forRows(dims []int, strides [][]int, base []int, workers int, row func(offsets []int, lo, n int)) {
	r := len(dims)
	inner := dims[r-1]
	chunks := (inner + rowLen - 1) / rowLen
	outer := 1
	for _, d := range dims[:r-1] {
		outer *= d
	}
	Parallel(outer*chunks, workers, max(1, (1<<15)/min(inner, rowLen)), func(lo, hi int) {
		offsets := make([]int, len(strides))
		for item := lo; item < hi; item++ {
			o, c := item/chunks, item%chunks
			clear(offsets)
			copy(offsets, base)
			for ax := r - 2; ax >= 0; ax-- {
				idx := o % dims[ax]
				o /= dims[ax]
				for k := range strides {
					offsets[k] += idx * strides[k][ax]
				}
			}
			start := c * rowLen
			for k := range strides {
				offsets[k] += start * strides[k][r-1]
			}
			row(offsets, start, min(rowLen, inner-start))
		}
	})
}

// sizeOf returns the number of elements of dims.
func sizeOf(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// Binary sets dst = op(lhs, rhs) over dims, with GoMLX's implicit broadcasting: each operand has
// the output's rank with every dimension equal to the output's or 1, or is a single value. dst is
// row-major and may be the same slice as an operand that has the output's shape.
func Binary(op BinaryOp, dst, lhs, rhs []float32, dims, lhsDims, rhsDims []int, workers int) error {
	ls, err := broadcastStrides("lhs", dims, lhsDims)
	if err != nil {
		return err
	}
	rs, err := broadcastStrides("rhs", dims, rhsDims)
	if err != nil {
		return err
	}
	n := sizeOf(dims)
	if len(dst) < n || len(lhs) < sizeOf(lhsDims) || len(rhs) < sizeOf(rhsDims) {
		return fmt.Errorf("cpuops.Binary: slices shorter than their dimensions")
	}
	if n == 0 {
		return nil
	}
	md, ms := merge(dims, [][]int{RowMajorStrides(dims), ls, rs})
	forRows(md, ms, nil, workers, func(off []int, _, cnt int) {
		sl, sr := ms[1][len(md)-1], ms[2][len(md)-1]
		binaryRow(op, dst[off[0]:off[0]+cnt], lhs[off[1]:], rhs[off[2]:], sl, sr)
	})
	return nil
}

// BroadcastInDim sets dst (dimensions dims) to src broadcast: src's axis i is dst's axis axes[i]
// (same size), dst's other axes repeat it.
func BroadcastInDim(dst, src []float32, dims, srcDims, axes []int, workers int) error {
	if len(axes) != len(srcDims) {
		return fmt.Errorf("cpuops.BroadcastInDim: %d axes for %d source dimensions", len(axes), len(srcDims))
	}
	strides := make([]int, len(dims))
	srcStrides := RowMajorStrides(srcDims)
	for i, ax := range axes {
		if ax < 0 || ax >= len(dims) || (srcDims[i] != dims[ax] && srcDims[i] != 1) {
			return fmt.Errorf("cpuops.BroadcastInDim: source %v axes %v do not fit %v", srcDims, axes, dims)
		}
		if srcDims[i] != 1 {
			strides[ax] = srcStrides[i]
		}
	}
	n := sizeOf(dims)
	if len(dst) < n || len(src) < sizeOf(srcDims) {
		return fmt.Errorf("cpuops.BroadcastInDim: slices shorter than their dimensions")
	}
	if n == 0 {
		return nil
	}
	md, ms := merge(dims, [][]int{RowMajorStrides(dims), strides})
	forRows(md, ms, nil, workers, func(off []int, _, cnt int) {
		d := dst[off[0] : off[0]+cnt]
		switch s := ms[1][len(md)-1]; s {
		case 1:
			copy(d, src[off[1]:off[1]+cnt])
		case 0:
			v := src[off[1]]
			for i := range d {
				d[i] = v
			}
		default:
			for i := range d {
				d[i] = src[off[1]+i*s]
			}
		}
	})
	return nil
}

// ReduceOp names a float32 reduction.
type ReduceOp int

// The reductions, as GoMLX's ReduceSum and ReduceMax.
const (
	ReduceSum ReduceOp = iota
	ReduceMax
)

// Reduce sets dst to src (dimensions dims) reduced by op over axes; dst holds the remaining axes
// in order. Sums are accumulated in float32 in the order of src's elements, as simplego does.
func Reduce(op ReduceOp, dst, src []float32, dims, axes []int, workers int) error {
	reduced := make([]bool, len(dims))
	for _, ax := range axes {
		if ax < 0 || ax >= len(dims) || reduced[ax] {
			return fmt.Errorf("cpuops.Reduce: axes %v invalid for dimensions %v", axes, dims)
		}
		reduced[ax] = true
	}
	var outDims []int
	for ax, d := range dims {
		if !reduced[ax] {
			outDims = append(outDims, d)
		}
	}
	outStrides := RowMajorStrides(outDims)
	strides := make([]int, len(dims))
	k := 0
	for ax := range dims {
		if !reduced[ax] {
			strides[ax] = outStrides[k]
			k++
		}
	}
	nOut := sizeOf(outDims)
	if len(dst) < nOut || len(src) < sizeOf(dims) {
		return fmt.Errorf("cpuops.Reduce: slices shorter than their dimensions")
	}
	init := float32(0)
	if op == ReduceMax {
		init = float32(math.Inf(-1))
	}
	for i := range dst[:nOut] {
		dst[i] = init
	}
	if sizeOf(dims) == 0 {
		return nil
	}
	md, ms := merge(dims, [][]int{RowMajorStrides(dims), strides})
	row := func(off []int, _, cnt int) {
		s := src[off[0] : off[0]+cnt]
		os := ms[1][len(md)-1]
		switch {
		case os == 0 && op == ReduceSum:
			acc := dst[off[1]]
			for _, v := range s {
				acc += v
			}
			dst[off[1]] = acc
		case os == 0:
			acc := dst[off[1]]
			for _, v := range s {
				acc = max(acc, v)
			}
			dst[off[1]] = acc
		case op == ReduceSum:
			for i, v := range s {
				dst[off[1]+i*os] += v
			}
		default:
			for i, v := range s {
				j := off[1] + i*os
				dst[j] = max(dst[j], v)
			}
		}
	}
	if len(md) > 1 && ms[1][0] != 0 {
		// The outermost axis is kept: each worker takes a range of it and owns its outputs.
		Parallel(md[0], workers, 1, func(lo, hi int) {
			sub := append([]int{hi - lo}, md[1:]...)
			forRows(sub, ms, []int{lo * ms[0][0], lo * ms[1][0]}, 1, row)
		})
		return nil
	}
	forRows(md, ms, nil, 1, row)
	return nil
}

// Where sets dst[i] = onTrue[i] if cond[i] else onFalse[i]; each of cond, onTrue and onFalse has
// n elements or a single one (used for all i).
func Where(dst []float32, cond []bool, onTrue, onFalse []float32, n, workers int) error {
	for _, l := range []int{len(cond), len(onTrue), len(onFalse)} {
		if l != n && l != 1 {
			return fmt.Errorf("cpuops.Where: operand of %d elements for %d outputs", l, n)
		}
	}
	if len(dst) < n {
		return fmt.Errorf("cpuops.Where: dst has %d elements for %d", len(dst), n)
	}
	Parallel(n, workers, 1<<15, func(lo, hi int) {
		d := dst[lo:hi]
		switch {
		case len(cond) == n && len(onTrue) == n && len(onFalse) == n:
			c, t, f := cond[lo:hi], onTrue[lo:hi], onFalse[lo:hi]
			for i := range d {
				if c[i] {
					d[i] = t[i]
				} else {
					d[i] = f[i]
				}
			}
		case len(cond) == n && len(onTrue) == n:
			c, t, f := cond[lo:hi], onTrue[lo:hi], onFalse[0]
			for i := range d {
				if c[i] {
					d[i] = t[i]
				} else {
					d[i] = f
				}
			}
		case len(cond) == n && len(onFalse) == n:
			c, t, f := cond[lo:hi], onTrue[0], onFalse[lo:hi]
			for i := range d {
				if c[i] {
					d[i] = t
				} else {
					d[i] = f[i]
				}
			}
		default:
			for i := range d {
				c, t, f := cond[0], onTrue[0], onFalse[0]
				if len(cond) > 1 {
					c = cond[lo+i]
				}
				if len(onTrue) > 1 {
					t = onTrue[lo+i]
				}
				if len(onFalse) > 1 {
					f = onFalse[lo+i]
				}
				if c {
					d[i] = t
				} else {
					d[i] = f
				}
			}
		}
	})
	return nil
}
