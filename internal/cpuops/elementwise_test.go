package cpuops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// unravel returns the multi-index of flat index i in dims (row-major).
func unravel(i int, dims []int) []int {
	idx := make([]int, len(dims))
	for ax := len(dims) - 1; ax >= 0; ax-- {
		idx[ax] = i % dims[ax]
		i /= dims[ax]
	}
	return idx
}

// at reads a broadcast operand at the output multi-index idx.
func at(v []float32, dims, idx []int) float32 {
	if sizeOf(dims) == 1 {
		return v[0]
	}
	o := 0
	for ax, d := range dims {
		j := idx[ax]
		if d == 1 {
			j = 0
		}
		o = o*d + j
	}
	return v[o]
}

func randSlice(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func TestBinaryMatchesNaive(t *testing.T) {
	fns := map[BinaryOp]func(a, b float32) float32{
		Add: func(a, b float32) float32 { return a + b },
		Sub: func(a, b float32) float32 { return a - b },
		Mul: func(a, b float32) float32 { return a * b },
		Div: func(a, b float32) float32 { return a / b },
		Max: func(a, b float32) float32 { return max(a, b) },
		Min: func(a, b float32) float32 { return min(a, b) },
	}
	tests := []struct{ dims, l, r []int }{
		{[]int{4, 5}, []int{4, 5}, []int{4, 5}},
		{[]int{4, 5}, []int{4, 5}, []int{}},                       // scalar rhs
		{[]int{4, 5}, []int{1, 1}, []int{4, 5}},                   // size-1 lhs
		{[]int{3, 6, 7, 2}, []int{1, 6, 1, 1}, []int{3, 6, 7, 2}}, // batch norm: [1,C,1,1]
		{[]int{3, 6, 7, 2}, []int{3, 6, 7, 2}, []int{3, 1, 7, 2}},
		{[]int{2, 3, 4}, []int{2, 1, 4}, []int{1, 3, 1}},
		{[]int{40000}, []int{40000}, []int{1}}, // longer than a row chunk
		{[]int{3, 20000}, []int{3, 1}, []int{1, 20000}},
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range tests {
		l, r := randSlice(rng, sizeOf(tc.l)), randSlice(rng, sizeOf(tc.r))
		for op, fn := range fns {
			for _, workers := range []int{1, 3} {
				dst := make([]float32, sizeOf(tc.dims))
				if err := Binary(op, dst, l, r, tc.dims, tc.l, tc.r, workers); err != nil {
					t.Fatal(err)
				}
				for i := range dst {
					idx := unravel(i, tc.dims)
					want := fn(at(l, tc.l, idx), at(r, tc.r, idx))
					if dst[i] != want && !(math.IsNaN(float64(want)) && math.IsNaN(float64(dst[i]))) {
						t.Fatalf("op %d %v (%v, %v) [%d] = %g, want %g", op, tc.dims, tc.l, tc.r, i, dst[i], want)
					}
				}
			}
		}
	}
	if err := Binary(Add, make([]float32, 6), make([]float32, 6), make([]float32, 2), []int{2, 3}, []int{2, 3}, []int{2, 1, 1}, 1); err == nil {
		t.Fatal("rank mismatch must be an error")
	}
	// In place: dst is lhs.
	v := []float32{1, 2, 3}
	if err := Binary(Mul, v, v, []float32{2}, []int{3}, []int{3}, []int{1}, 1); err != nil || v[0] != 2 || v[2] != 6 {
		t.Fatalf("in place: %v %v", v, err)
	}
}

func TestBroadcastInDim(t *testing.T) {
	// [2] on axis 1 of [3, 2, 2]: out[i,j,k] = src[j].
	dst := make([]float32, 12)
	if err := BroadcastInDim(dst, []float32{5, 7}, []int{3, 2, 2}, []int{2}, []int{1}, 2); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst {
		if want := []float32{5, 7}[unravel(i, []int{3, 2, 2})[1]]; v != want {
			t.Fatalf("[%d] = %g, want %g (%v)", i, v, want, dst)
		}
	}
	// A transposing broadcast: src [2, 3] to axes (2, 0) of [3, 4, 2]: out[i,j,k] = src[k, i].
	src := []float32{0, 1, 2, 10, 11, 12}
	dst = make([]float32, 24)
	if err := BroadcastInDim(dst, src, []int{3, 4, 2}, []int{2, 3}, []int{2, 0}, 1); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst {
		idx := unravel(i, []int{3, 4, 2})
		if want := src[idx[2]*3+idx[0]]; v != want {
			t.Fatalf("[%v] = %g, want %g", idx, v, want)
		}
	}
}

func TestReduceMatchesNaive(t *testing.T) {
	tests := []struct{ dims, axes []int }{
		{[]int{5, 7}, []int{1}},
		{[]int{5, 7}, []int{0}},
		{[]int{5, 7}, []int{0, 1}},
		{[]int{4, 6, 5, 3}, []int{0, 2, 3}}, // batch norm statistics
		{[]int{4, 6, 5, 3}, []int{1}},       // kept, reduced, kept: rows share outputs
		{[]int{3, 50000}, []int{1}},
		{[]int{2, 3}, []int{}},
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range tests {
		src := randSlice(rng, sizeOf(tc.dims))
		reduced := map[int]bool{}
		for _, a := range tc.axes {
			reduced[a] = true
		}
		var outDims []int
		for ax, d := range tc.dims {
			if !reduced[ax] {
				outDims = append(outDims, d)
			}
		}
		wantSum := make([]float64, sizeOf(outDims))
		wantMax := make([]float32, sizeOf(outDims))
		for i := range wantMax {
			wantMax[i] = float32(math.Inf(-1))
		}
		for i, v := range src {
			idx := unravel(i, tc.dims)
			o := 0
			for ax, d := range tc.dims {
				if !reduced[ax] {
					o = o*d + idx[ax]
				}
			}
			wantSum[o] += float64(v)
			wantMax[o] = max(wantMax[o], v)
		}
		for _, workers := range []int{1, 2, 4} {
			sum := make([]float32, len(wantSum))
			mx := make([]float32, len(wantMax))
			if err := Reduce(ReduceSum, sum, src, tc.dims, tc.axes, workers); err != nil {
				t.Fatal(err)
			}
			if err := Reduce(ReduceMax, mx, src, tc.dims, tc.axes, workers); err != nil {
				t.Fatal(err)
			}
			for i := range sum {
				if math.Abs(float64(sum[i])-wantSum[i]) > 1e-3*(1+math.Sqrt(float64(sizeOf(tc.dims)))) {
					t.Fatalf("sum %v over %v [%d] = %g, want %g", tc.dims, tc.axes, i, sum[i], wantSum[i])
				}
				if mx[i] != wantMax[i] {
					t.Fatalf("max %v over %v [%d] = %g, want %g", tc.dims, tc.axes, i, mx[i], wantMax[i])
				}
			}
		}
	}
}

func TestWhere(t *testing.T) {
	dst := make([]float32, 4)
	if err := Where(dst, []bool{true, false, true, false}, []float32{1, 2, 3, 4}, []float32{0}, 4, 2); err != nil {
		t.Fatal(err)
	}
	if dst[0] != 1 || dst[1] != 0 || dst[2] != 3 || dst[3] != 0 {
		t.Fatalf("Where = %v", dst)
	}
	if err := Where(dst, []bool{true, false}, []float32{1}, []float32{0}, 4, 1); err == nil {
		t.Fatal("a 2-element condition for 4 outputs must be an error")
	}
}

func TestWhereLayouts(t *testing.T) {
	cond := []bool{true, false, false, true, true}
	full1, full2 := []float32{1, 2, 3, 4, 5}, []float32{-1, -2, -3, -4, -5}
	tests := []struct {
		cond    []bool
		on, off []float32
		want    string
	}{
		{cond, full1, full2, "[1 -2 -3 4 5]"},
		{cond, full1, []float32{0}, "[1 0 0 4 5]"},
		{cond, []float32{9}, full2, "[9 -2 -3 9 9]"},
		{[]bool{false}, full1, full2, "[-1 -2 -3 -4 -5]"},
		{cond, []float32{7}, []float32{8}, "[7 8 8 7 7]"},
	}
	for _, tc := range tests {
		dst := make([]float32, 5)
		if err := Where(dst, tc.cond, tc.on, tc.off, 5, 2); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(dst); got != tc.want {
			t.Errorf("Where(%v, %v, %v) = %s, want %s", tc.cond, tc.on, tc.off, got, tc.want)
		}
	}
}
