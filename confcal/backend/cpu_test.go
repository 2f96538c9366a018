package backend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func TestLayoutOf(t *testing.T) {
	g := func(size, stride int) axisGroup { return axisGroup{size, stride} }
	tests := []struct {
		name               string
		dims, batch, contr []int
		want               operandLayout
		ok                 bool
	}{
		{"matrix, contract last", []int{3, 4}, nil, []int{1}, operandLayout{g(1, 0), g(3, 4), g(4, 1)}, true},
		{"matrix, contract first", []int{3, 4}, nil, []int{0}, operandLayout{g(1, 0), g(4, 1), g(3, 4)}, true},
		{"batched", []int{2, 3, 4}, []int{0}, []int{2}, operandLayout{g(2, 12), g(3, 4), g(4, 1)}, true},
		{"two contracting axes in order", []int{5, 2, 3}, nil, []int{1, 2}, operandLayout{g(1, 0), g(5, 6), g(6, 1)}, true},
		{"two contracting axes reversed: transpose needed", []int{5, 2, 3}, nil, []int{2, 1}, operandLayout{}, false},
		{"cross axes split by contracting", []int{2, 3, 4}, nil, []int{1}, operandLayout{}, false},
		{"size-1 axis anywhere", []int{2, 1, 4}, nil, []int{0}, operandLayout{g(1, 0), g(4, 1), g(2, 4)}, true},
		{"batch last", []int{3, 4, 2}, []int{2}, []int{1}, operandLayout{g(2, 1), g(3, 8), g(4, 2)}, true},
		{"vector", []int{7}, nil, []int{0}, operandLayout{g(1, 0), g(1, 0), g(7, 1)}, true},
		{"axis twice", []int{3, 4}, []int{1}, []int{1}, operandLayout{}, false},
	}
	for _, tc := range tests {
		got, ok := layoutOf(tc.dims, tc.batch, tc.contr)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%s: layoutOf(%v, %v, %v) = %+v, %v; want %+v, %v", tc.name, tc.dims, tc.batch, tc.contr, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCPUStatusInstalled(t *testing.T) {
	if installErr != nil {
		t.Fatalf("the sgemm DotGeneral is not installed: %v", installErr)
	}
}

// TestCPUDotGeneralMatchesSimplego runs the same products on the "cpu" backend and on plain simplego
// ("go"), and checks both against a float64 triple loop computed here, and that the cpu backend took
// its fast path exactly where it should.
func TestCPUDotGeneralMatchesSimplego(t *testing.T) {
	cpu, plain := cpuAndPlain(t)
	rng := rand.New(rand.NewPCG(3, 4))
	randT := func(dims ...int) *tensors.Tensor {
		n := 1
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	tests := []struct {
		name           string
		x, y           []int
		xc, xb, yc, yb []int
		fast           bool
	}{
		{name: "matmul", x: []int{37, 53}, y: []int{53, 29}, xc: []int{1}, yc: []int{0}, fast: true},
		{name: "xᵀ·y (weight gradient)", x: []int{300, 40}, y: []int{300, 70}, xc: []int{0}, yc: []int{0}, fast: true},
		{name: "x·yᵀ (input gradient)", x: []int{64, 90}, y: []int{33, 90}, xc: []int{1}, yc: []int{1}, fast: true},
		{name: "batched", x: []int{5, 7, 9}, y: []int{5, 9, 11}, xc: []int{2}, xb: []int{0}, yc: []int{1}, yb: []int{0}, fast: true},
		{name: "two contracting axes", x: []int{6, 4, 5}, y: []int{4, 5, 3}, xc: []int{1, 2}, yc: []int{0, 1}, fast: true},
		{name: "reversed contracting axes: simplego", x: []int{6, 4, 5}, y: []int{5, 4, 3}, xc: []int{2, 1}, yc: []int{0, 1}, fast: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, y := randT(tc.x...), randT(tc.y...)
			// A tensor once on one backend cannot go to another: each backend gets copies.
			clone := func(t *tensors.Tensor) *tensors.Tensor {
				return tensors.FromFlatDataAndDimensions(tensors.MustCopyFlatData[float32](t), t.Shape().Dimensions...)
			}
			f := func(a, b *Node) *Node { return DotGeneral(a, tc.xc, tc.xb, b, tc.yc, tc.yb) }
			fast0, slow0 := CPUOpCounts(backends.OpTypeDotGeneral)
			got := MustExecOnce(cpu, f, clone(x), clone(y))
			fast1, slow1 := CPUOpCounts(backends.OpTypeDotGeneral)
			want := MustExecOnce(plain, f, clone(x), clone(y))
			if fast1-fast0 != b2i(tc.fast) || slow1-slow0 != b2i(!tc.fast) {
				t.Errorf("fast path taken %d times, fallback %d; want fast = %v", fast1-fast0, slow1-slow0, tc.fast)
			}
			if fmt.Sprint(got.Shape()) != fmt.Sprint(want.Shape()) {
				t.Fatalf("shape %s, simplego gives %s", got.Shape(), want.Shape())
			}
			ref := referenceDot(x, y, tc.xc, tc.xb, tc.yc, tc.yb)
			gf, wf := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](want)
			for i := range ref {
				if math.Abs(float64(gf[i])-ref[i]) > 1e-4*(1+math.Abs(ref[i])) {
					t.Fatalf("cpu [%d] = %g, reference %g", i, gf[i], ref[i])
				}
				if math.Abs(float64(wf[i])-ref[i]) > 1e-4*(1+math.Abs(ref[i])) {
					t.Fatalf("simplego [%d] = %g, reference %g", i, wf[i], ref[i])
				}
			}
		})
	}
	// Another dtype goes to simplego.
	_, slow0 := CPUOpCounts(backends.OpTypeDotGeneral)
	out := MustExecOnce(cpu, func(a, b *Node) *Node { return Dot(a, b) }, [][]float64{{1, 2}, {3, 4}}, [][]float64{{5}, {6}})
	if _, slow1 := CPUOpCounts(backends.OpTypeDotGeneral); slow1 != slow0+1 {
		t.Errorf("float64 product: fallback count %d → %d", slow0, slow1)
	}
	if fmt.Sprint(out.Value()) != "[[17] [39]]" {
		t.Errorf("float64 product = %v, want [[17] [39]]", out.Value())
	}
}

// cpuAndPlain returns the "cpu" backend and plain simplego (ops run one after the other, as the
// project's default: simplego's parallel scheduler can deadlock on 2 cores).
func cpuAndPlain(t *testing.T) (cpu, plain backends.Backend) {
	t.Helper()
	cpu, err := NewWithConfig(Default)
	if err != nil {
		t.Fatal(err)
	}
	plain, err = NewWithConfig("go:ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	return cpu, plain
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// referenceDot computes DotGeneral in float64 with explicit index loops over the output laid out
// as [batch..., x cross..., y cross...].
func referenceDot(x, y *tensors.Tensor, xc, xb, yc, yb []int) []float64 {
	xd, yd := x.Shape().Dimensions, y.Shape().Dimensions
	xv, yv := tensors.MustCopyFlatData[float32](x), tensors.MustCopyFlatData[float32](y)
	roles := func(dims, c, b []int) (cross []int) {
		used := map[int]bool{}
		for _, a := range c {
			used[a] = true
		}
		for _, a := range b {
			used[a] = true
		}
		for a := range dims {
			if !used[a] {
				cross = append(cross, a)
			}
		}
		return cross
	}
	xcross, ycross := roles(xd, xc, xb), roles(yd, yc, yb)
	size := func(dims, axes []int) int {
		n := 1
		for _, a := range axes {
			n *= dims[a]
		}
		return n
	}
	// unravel writes index i of the sub-space spanned by axes (row-major over axes) into idx.
	unravel := func(i int, dims, axes, idx []int) {
		for k := len(axes) - 1; k >= 0; k-- {
			idx[axes[k]] = i % dims[axes[k]]
			i /= dims[axes[k]]
		}
	}
	offset := func(dims, idx []int) int {
		o := 0
		for a, d := range dims {
			o = o*d + idx[a]
		}
		return o
	}
	nb, ni, nj, nk := size(xd, xb), size(xd, xcross), size(yd, ycross), size(xd, xc)
	out := make([]float64, 0, nb*ni*nj)
	xi, yi := make([]int, len(xd)), make([]int, len(yd))
	for b := range nb {
		unravel(b, xd, xb, xi)
		unravel(b, yd, yb, yi)
		for i := range ni {
			unravel(i, xd, xcross, xi)
			for j := range nj {
				unravel(j, yd, ycross, yi)
				var s float64
				for k := range nk {
					unravel(k, xd, xc, xi)
					unravel(k, yd, yc, yi)
					s += float64(xv[offset(xd, xi)]) * float64(yv[offset(yd, yi)])
				}
				out = append(out, s)
			}
		}
	}
	return out
}

func TestCPUConfigRunsOpsInSequence(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "ops_sequential",
		"parallelism=2":                  "parallelism=2,ops_sequential",
		"ops_parallel":                   "ops_parallel",
		"ops_sequential":                 "ops_sequential",
		"dotgeneral_large, ops_parallel": "dotgeneral_large, ops_parallel",
	} {
		if got := cpuConfig(in); got != want {
			t.Errorf("cpuConfig(%q) = %q, want %q", in, got, want)
		}
	}
}
