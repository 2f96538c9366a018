package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/confcal/confcal/confcal/backend"
)

// poolCase is one MaxPool2D configuration: x [b, c, h, w], window k, stride s, padding p.
type poolCase struct{ b, c, h, w, k, s, p int }

func (pc poolCase) String() string {
	return fmt.Sprintf("x%dx%dx%dx%d_k%d_s%d_p%d", pc.b, pc.c, pc.h, pc.w, pc.k, pc.s, pc.p)
}

func (pc poolCase) out() (oh, ow int) {
	return (pc.h+2*pc.p-pc.k)/pc.s + 1, (pc.w+2*pc.p-pc.k)/pc.s + 1
}

var poolCases = []poolCase{
	{1, 1, 7, 5, 3, 2, 0}, // AlexNet's overlapping 3×3/2 on odd H≠W
	{3, 4, 7, 5, 3, 2, 0},
	{1, 1, 7, 5, 3, 2, 1}, // with padding: padded positions must never win
	{3, 4, 7, 5, 3, 2, 1},
	{1, 1, 8, 6, 2, 2, 0}, // the 2×2/2 of the simple CNN and VGG-13
	{3, 4, 8, 6, 2, 2, 0},
	{3, 4, 7, 5, 2, 2, 0}, // 2×2/2 on odd sizes: the last row/column is dropped
	{2, 3, 6, 8, 3, 1, 1}, // stride 1, heavy overlap
	{2, 2, 5, 9, 2, 1, 1}, // even window with padding
	{1, 2, 13, 13, 3, 2, 0},
	{2, 1, 4, 4, 4, 4, 2}, // padding = window/2 (PyTorch's limit)
	{1, 1, 3, 3, 3, 3, 0}, // one window covering x (W = window)
	{2, 3, 5, 6, 1, 1, 0}, // 1×1/1: identity
}

// poolReference is PyTorch's CPU max_pool2d on flat x [b, c, h, w] in float64: each output is the
// first maximum (row-major) among the window's in-image elements; arg is its flat index in x.
func poolReference(pc poolCase, x []float64) (y []float64, arg []int) {
	oh, ow := pc.out()
	for bc := range pc.b * pc.c {
		for oi := range oh {
			for oj := range ow {
				best, bestIdx := math.Inf(-1), -1
				for di := range pc.k {
					for dj := range pc.k {
						r, c := oi*pc.s-pc.p+di, oj*pc.s-pc.p+dj
						if r < 0 || r >= pc.h || c < 0 || c >= pc.w {
							continue
						}
						idx := (bc*pc.h+r)*pc.w + c
						if v := x[idx]; bestIdx < 0 || v > best || math.IsNaN(v) {
							best, bestIdx = v, idx
						}
					}
				}
				y = append(y, best)
				arg = append(arg, bestIdx)
			}
		}
	}
	return y, arg
}

// poolGradReference is the exact max-pool gradient: each output's upstream gradient lands on its
// window's selected element, summed over overlapping windows.
func poolGradReference(n int, arg []int, upstream []float64) []float64 {
	dx := make([]float64, n)
	for o, i := range arg {
		dx[i] += upstream[o]
	}
	return dx
}

// poolDistinctValues returns n values in [-1, 1) that are pairwise at least 1/n apart: no ties.
func poolDistinctValues(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i, p := range rng.Perm(n) {
		v[i] = 2*float64(p)/float64(n) - 1
	}
	return v
}

func layerUniform(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	return v
}

// poolExecs compiles the forward pass and the loss Σ upstream ⊙ MaxPool2D(x) with its gradient
// w.r.t. x.
func poolExecs(pc poolCase) (fwd, grad *Exec) {
	be := backend.Must()
	fwd = MustNewExec(be, func(x *Node) *Node { return MaxPool2D(x, pc.k, pc.s, pc.p) })
	grad = MustNewExec(be, func(x, upstream *Node) []*Node {
		y := MaxPool2D(x, pc.k, pc.s, pc.p)
		loss := ReduceAllSum(Mul(y, upstream))
		return []*Node{loss, Gradient(loss, x)[0]}
	})
	return fwd, grad
}

// layerTensor returns values as a tensor of dtype (Float32 or Float64) with the given dimensions.
func layerTensor(values []float64, dtype dtypes.DType, dims ...int) *tensors.Tensor {
	if dtype == dtypes.Float32 {
		v32 := make([]float32, len(values))
		for i, v := range values {
			v32[i] = float32(v)
		}
		return tensors.FromFlatDataAndDimensions(v32, dims...)
	}
	return tensors.FromFlatDataAndDimensions(values, dims...)
}

func (pc poolCase) tensor(values []float64, dtype dtypes.DType) *tensors.Tensor {
	return layerTensor(values, dtype, pc.b, pc.c, pc.h, pc.w)
}

func layerFlat64(t *tensors.Tensor) []float64 {
	switch t.DType() {
	case dtypes.Float32:
		v32 := tensors.MustCopyFlatData[float32](t)
		v := make([]float64, len(v32))
		for i, x := range v32 {
			v[i] = float64(x)
		}
		return v
	case dtypes.Float64:
		return tensors.MustCopyFlatData[float64](t)
	}
	panic(fmt.Sprintf("layerFlat64: dtype %s", t.DType()))
}

// Forward output equals the loop reference exactly (max selects a value), in float32 and float64,
// on inputs with ties (integers in a small range) and without.
func TestMaxPool2DForwardMatchesLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, pc := range poolCases {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			t.Run(fmt.Sprintf("%s_%s", pc, dtype), func(t *testing.T) {
				fwd, _ := poolExecs(pc)
				defer fwd.Finalize()
				n := pc.b * pc.c * pc.h * pc.w
				ties := make([]float64, n)
				for i := range ties {
					ties[i] = float64(rng.IntN(3) - 3) // all negative: a 0 from padding would show
				}
				for _, x := range [][]float64{layerUniform(rng, n), ties} {
					want, _ := poolReference(pc, x)
					yT := fwd.MustExec1(pc.tensor(x, dtype))
					oh, ow := pc.out()
					if got := yT.Shape().Dimensions; len(got) != 4 || got[0] != pc.b || got[1] != pc.c || got[2] != oh || got[3] != ow {
						t.Fatalf("output shape %v, want [%d %d %d %d]", got, pc.b, pc.c, oh, ow)
					}
					got := layerFlat64(yT)
					for i := range want {
						w := want[i]
						if dtype == dtypes.Float32 {
							w = float64(float32(w))
						}
						if got[i] != w {
							t.Fatalf("y[%d]=%v want %v", i, got[i], w)
						}
					}
				}
			})
		}
	}
}

// Gradient on inputs without ties: equal to the exact routing rule, and to central finite
// differences of the graph's loss (float64).
func TestMaxPool2DGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, pc := range poolCases {
		t.Run(pc.String(), func(t *testing.T) {
			_, grad := poolExecs(pc)
			defer grad.Finalize()
			n := pc.b * pc.c * pc.h * pc.w
			oh, ow := pc.out()
			x := poolDistinctValues(rng, n)
			up := layerUniform(rng, pc.b*pc.c*oh*ow)
			upT := tensors.FromFlatDataAndDimensions(up, pc.b, pc.c, oh, ow)
			outs := grad.MustExec(pc.tensor(x, dtypes.Float64), upT)
			got := layerFlat64(outs[1])
			_, arg := poolReference(pc, x)
			want := poolGradReference(n, arg, up)
			for i := range want {
				if !(math.Abs(got[i]-want[i]) <= 1e-12) {
					t.Fatalf("dx[%d]=%v, exact rule %v", i, got[i], want[i])
				}
			}
			// Values are ≥ 2/n apart, so a step of 1e-4/n never changes which element wins.
			h := 1e-4 / float64(n)
			xp := append([]float64(nil), x...)
			for i := range x {
				xp[i] = x[i] + h
				lp := layerFlat64(grad.MustExec(pc.tensor(xp, dtypes.Float64), upT)[0])[0]
				xp[i] = x[i] - h
				lm := layerFlat64(grad.MustExec(pc.tensor(xp, dtypes.Float64), upT)[0])[0]
				xp[i] = x[i]
				fd := (lp - lm) / (2 * h)
				if !(math.Abs(fd-got[i]) <= 1e-6) {
					t.Fatalf("dx[%d]=%v, finite differences %v", i, got[i], fd)
				}
			}
		})
	}
}

// Ties: exactly one element per window, the first maximum in row-major order, gets the gradient
// (PyTorch's CPU rule), also in float32 and when every value is -inf (then the first in-image
// element of the window, as PyTorch). A NaN in a window wins and propagates.
func TestMaxPool2DTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, pc := range poolCases {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			t.Run(fmt.Sprintf("%s_%s", pc, dtype), func(t *testing.T) {
				_, grad := poolExecs(pc)
				defer grad.Finalize()
				n := pc.b * pc.c * pc.h * pc.w
				oh, ow := pc.out()
				up := make([]float64, pc.b*pc.c*oh*ow)
				for i := range up {
					up[i] = float64(1 + rng.IntN(8)) // exact in float32 sums
				}
				upT := layerTensor(up, dtype, pc.b, pc.c, oh, ow)
				coarse := make([]float64, n)
				for i := range coarse {
					coarse[i] = float64(rng.IntN(2))
				}
				zeros := make([]float64, n)
				negInf := make([]float64, n)
				for i := range negInf {
					negInf[i] = math.Inf(-1)
				}
				for name, x := range map[string][]float64{"coarse": coarse, "equal": zeros, "-inf": negInf} {
					outs := grad.MustExec(pc.tensor(x, dtype), upT)
					got := layerFlat64(outs[1])
					_, arg := poolReference(pc, x)
					want := poolGradReference(n, arg, up)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s: dx[%d]=%v want %v (first maximum of each window)", name, i, got[i], want[i])
						}
					}
				}
				x := layerUniform(rng, n)
				x[n/2] = math.NaN()
				fwd, _ := poolExecs(pc)
				defer fwd.Finalize()
				wantY, _ := poolReference(pc, x)
				gotY := layerFlat64(fwd.MustExec1(pc.tensor(x, dtype)))
				for i := range wantY {
					if math.IsNaN(wantY[i]) != math.IsNaN(gotY[i]) {
						t.Fatalf("NaN input: y[%d]=%v want %v", i, gotY[i], wantY[i])
					}
				}
			})
		}
	}
}

// Hand-worked example: 2×2/2 on a 4×4 image with a tie in every window.
func TestMaxPool2DTiesByHand(t *testing.T) {
	x := [][][][]float32{{{
		{1, 1, 0, 2},
		{0, 1, 2, 2},
		{3, 0, 5, 5},
		{0, 3, 5, 5},
	}}}
	outs := MustExecOnceN(backend.Must(), func(x *Node) []*Node {
		y := MaxPool2D(x, 2, 2, 0)
		return []*Node{y, Gradient(ReduceAllSum(y), x)[0]}
	}, x)
	if got, want := tensors.MustCopyFlatData[float32](outs[0]), []float32{1, 2, 3, 5}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("y=%v want %v", got, want)
	}
	want := []float32{
		1, 0, 0, 1,
		0, 0, 0, 0,
		1, 0, 1, 0,
		0, 0, 0, 0,
	}
	if got := tensors.MustCopyFlatData[float32](outs[1]); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("dx=%v want %v", got, want)
	}
}

func TestMaxPool2DRejectsBadArguments(t *testing.T) {
	for _, tc := range []struct {
		dims            []int
		k, s, p         int
		wantPanicSubstr string
	}{
		{[]int{1, 1, 4, 4}, 2, 2, 2, "padding"}, // padding > window/2
		{[]int{1, 1, 4, 4}, 0, 1, 0, "window"},
		{[]int{1, 1, 4, 4}, 2, 0, 0, "stride"},
		{[]int{1, 4, 4}, 2, 2, 0, "height"},
		{[]int{1, 1, 2, 5}, 3, 1, 0, "larger"},
	} {
		func() {
			g := NewGraph(backend.Must(), "bad")
			defer g.Finalize()
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), tc.wantPanicSubstr) {
					t.Errorf("MaxPool2D(%v, %d, %d, %d): panic %v, want one mentioning %q", tc.dims, tc.k, tc.s, tc.p, r, tc.wantPanicSubstr)
				}
			}()
			MaxPool2D(Parameter(g, "x", shapes.Make(dtypes.Float32, tc.dims...)), tc.k, tc.s, tc.p)
		}()
	}
}

// Forward and gradient graphs use only ops the default backend lists, with and without padding.
func TestMaxPool2DOpsSupported(t *testing.T) {
	be := backend.Must()
	for _, pc := range []poolCase{{2, 3, 8, 6, 2, 2, 0}, {2, 3, 7, 5, 3, 2, 0}, {2, 3, 7, 5, 3, 2, 1}} {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			g := NewGraph(be, "pool")
			x := Parameter(g, "x", shapes.Make(dtype, pc.b, pc.c, pc.h, pc.w))
			y := MaxPool2D(x, pc.k, pc.s, pc.p)
			Gradient(ReduceAllSum(Mul(y, y)), x)
			if got := UnsupportedOps(g, be); len(got) != 0 {
				t.Errorf("%s %s: ops outside %s's capabilities: %v", pc, dtype, be.Name(), got)
			}
			g.Finalize()
		}
	}
}

// Forward and backward of MaxPool2D at the sizes of the paper's CNNs (x [32,128,28,28] 2×2/2 and
// x [32,64,16,16] 3×3/2, also with padding 1), float32: one execution returns the output and the
// gradient w.r.t. x of Σ upstream ⊙ output.
func BenchmarkMaxPool2D(b *testing.B) {
	for _, pc := range []poolCase{{32, 128, 28, 28, 2, 2, 0}, {32, 64, 16, 16, 3, 2, 0}, {32, 64, 16, 16, 3, 2, 1}} {
		b.Run(pc.String(), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, 8))
			n := pc.b * pc.c * pc.h * pc.w
			oh, ow := pc.out()
			x := pc.tensor(layerUniform(rng, n), dtypes.Float32)
			up := layerTensor(layerUniform(rng, pc.b*pc.c*oh*ow), dtypes.Float32, pc.b, pc.c, oh, ow)
			exec := MustNewExec(backend.Must(), func(x, upstream *Node) []*Node {
				y := MaxPool2D(x, pc.k, pc.s, pc.p)
				return []*Node{y, Gradient(ReduceAllSum(Mul(y, upstream)), x)[0]}
			})
			defer exec.Finalize()
			run := func() {
				for _, t := range exec.MustExec(x, up) {
					t.FinalizeAll()
				}
			}
			run()
			b.ResetTimer()
			for range b.N {
				run()
			}
		})
	}
}
