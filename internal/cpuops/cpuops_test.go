package cpuops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// naiveTranspose is the reference: for every output index, read the input at the permuted index.
func naiveTranspose(src []float32, dims, perm []int) []float32 {
	r := len(dims)
	outDims := make([]int, r)
	for i, p := range perm {
		outDims[i] = dims[p]
	}
	size := 1
	for _, d := range dims {
		size *= d
	}
	out := make([]float32, size)
	idx := make([]int, r)
	for o := range size {
		rest := o
		for i := r - 1; i >= 0; i-- {
			idx[perm[i]] = rest % outDims[i]
			rest /= outDims[i]
		}
		in := 0
		for ax, d := range dims {
			in = in*d + idx[ax]
		}
		out[o] = src[in]
	}
	return out
}

func TestTransposeMatchesNaive(t *testing.T) {
	tests := []struct{ dims, perm []int }{
		{[]int{3, 5}, []int{1, 0}},
		{[]int{7}, []int{0}},
		{[]int{2, 3, 4}, []int{0, 1, 2}},
		{[]int{2, 3, 4}, []int{2, 0, 1}},
		{[]int{2, 3, 4}, []int{1, 0, 2}},         // last axis stays last
		{[]int{4, 17, 33, 3}, []int{0, 3, 1, 2}}, // NHWC → NCHW
		{[]int{4, 3, 17, 33}, []int{0, 2, 3, 1}}, // NCHW → NHWC
		{[]int{5, 1, 40, 1, 9}, []int{4, 3, 2, 1, 0}},
		{[]int{1, 1}, []int{1, 0}},
		{[]int{2, 3, 5, 7}, []int{3, 1, 2, 0}},
		{[]int{3, 2, 5, 7, 2}, []int{1, 0, 4, 3, 2}},
		{[]int{100, 130}, []int{1, 0}},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range tests {
		size := 1
		for _, d := range tc.dims {
			size *= d
		}
		src := make([]float32, size)
		for i := range src {
			src[i] = float32(rng.IntN(1000))
		}
		want := naiveTranspose(src, tc.dims, tc.perm)
		for _, workers := range []int{1, 2, 3} {
			dst := make([]float32, size)
			if err := Transpose(dst, src, tc.dims, tc.perm, workers); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(dst) != fmt.Sprint(want) {
				t.Fatalf("Transpose(%v, %v) with %d workers = %v, want %v", tc.dims, tc.perm, workers, dst, want)
			}
		}
	}
}

func TestTransposeHand(t *testing.T) {
	// [[1 2 3] [4 5 6]]ᵀ = [[1 4] [2 5] [3 6]]
	dst := make([]float32, 6)
	if err := Transpose(dst, []float32{1, 2, 3, 4, 5, 6}, []int{2, 3}, []int{1, 0}, 1); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dst) != "[1 4 2 5 3 6]" {
		t.Fatalf("got %v", dst)
	}
	if err := Transpose(dst, dst, []int{2, 3}, []int{0, 0}, 1); err == nil {
		t.Fatal("a repeated axis must be an error")
	}
}

func TestGatherScatterRows(t *testing.T) {
	src := []float32{1, 2, 10, 20, 100, 200} // 3 rows of 2
	idx := []int32{2, 0, 2, 1}
	dst := make([]float32, 8)
	if err := GatherRows(dst, src, 2, idx, 2); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dst) != "[100 200 1 2 100 200 10 20]" {
		t.Fatalf("GatherRows = %v", dst)
	}
	// Scatter the gathered rows back: row 2 twice, rows 0 and 1 once.
	back := make([]float32, 6)
	for _, workers := range []int{1, 3} {
		clear(back)
		if err := ScatterAddRows(back, dst, 2, idx, workers); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(back) != "[1 2 10 20 200 400]" {
			t.Fatalf("ScatterAddRows (%d workers) = %v", workers, back)
		}
	}
	if err := GatherRows(dst, src, 2, []int64{3}, 1); err == nil {
		t.Fatal("index 3 of 3 rows must be an error")
	}
	if err := ScatterAddRows(back, dst, 2, []int64{-1}, 1); err == nil {
		t.Fatal("index -1 must be an error")
	}
}

func TestScatterAddRowsLarge(t *testing.T) {
	// Many updates per row, more rows than one goroutine takes: against a sequential loop.
	rng := rand.New(rand.NewPCG(7, 8))
	const rows, width, n = 5000, 7, 20000
	idx := make([]int64, n)
	upd := make([]float32, n*width)
	for i := range idx {
		idx[i] = int64(rng.IntN(rows))
	}
	for i := range upd {
		upd[i] = float32(rng.NormFloat64())
	}
	want := make([]float32, rows*width)
	for t, r := range idx {
		for j := range width {
			want[int(r)*width+j] += upd[t*width+j]
		}
	}
	got := make([]float32, rows*width)
	if err := ScatterAddRows(got, upd, width, idx, 4); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] { // same order of additions: bit-identical
			t.Fatalf("[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}

// The AVX 8×8 blocks and the portable path give the same transposes, ragged edges included.
func TestTransposeSIMDMatchesPortable(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	for _, dims := range [][]int{{8, 8}, {9, 17}, {31, 40}, {3, 20, 26}, {64, 9}, {2, 100, 7}} {
		perm := make([]int, len(dims))
		for i := range perm {
			perm[i] = len(dims) - 1 - i
		}
		n := sizeOf(dims)
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(rng.IntN(1 << 20))
		}
		want := naiveTranspose(src, dims, perm)
		for _, simd := range []bool{true, false} {
			useSIMDTranspose = simd
			got := make([]float32, n)
			if err := Transpose(got, src, dims, perm, 2); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("dims %v, SIMD %v: wrong transpose", dims, simd)
			}
		}
		useSIMDTranspose = true
	}
}
