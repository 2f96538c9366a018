package backend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestCPUCapabilities checks that the cpu backend lists the ops it adds to simplego's.
func TestCPUCapabilities(t *testing.T) {
	cpu, plain := cpuAndPlain(t)
	for _, op := range []backends.OpType{backends.OpTypePad, backends.OpTypeReverse, backends.OpTypeSelectAndScatterMax} {
		if !cpu.Capabilities().Operations[op] {
			t.Errorf("cpu backend does not list %s", op)
		}
		if plain.Capabilities().Operations[op] {
			t.Errorf("simplego lists %s: the cpu backend's own may no longer be needed", op)
		}
	}
}

// TestCPUPadReverseHand checks Pad and Reverse on values worked out by hand.
func TestCPUPadReverseHand(t *testing.T) {
	cpu, _ := cpuAndPlain(t)
	x := [][]float32{{1, 2, 3}, {4, 5, 6}}
	tests := []struct {
		name string
		fn   func(x *Node) *Node
		want string
	}{
		{"pad start/end", func(x *Node) *Node {
			return Pad(x, Scalar(x.Graph(), dtypes.Float32, 9), backends.PadAxis{Start: 1}, backends.PadAxis{End: 1})
		}, "[[9 9 9 9] [1 2 3 9] [4 5 6 9]]"},
		{"pad interior", func(x *Node) *Node {
			return Pad(x, Scalar(x.Graph(), dtypes.Float32, 0), backends.PadAxis{}, backends.PadAxis{Start: 1, Interior: 1})
		}, "[[0 1 0 2 0 3] [0 4 0 5 0 6]]"},
		{"pad negative crops", func(x *Node) *Node {
			return Pad(x, Scalar(x.Graph(), dtypes.Float32, 7), backends.PadAxis{Start: -1}, backends.PadAxis{Start: -1, End: 2, Interior: 1})
		}, "[[7 5 7 6 7 7]]"}, // [4 7 5 7 6] cropped by one, then two 7s
		{"reverse rows", func(x *Node) *Node { return Reverse(x, 0) }, "[[4 5 6] [1 2 3]]"},
		{"reverse columns", func(x *Node) *Node { return Reverse(x, 1) }, "[[3 2 1] [6 5 4]]"},
		{"reverse both", func(x *Node) *Node { return Reverse(x, 0, 1) }, "[[6 5 4] [3 2 1]]"},
	}
	for _, tc := range tests {
		if got := fmt.Sprint(MustExecOnce(cpu, tc.fn, x).Value()); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, got, tc.want)
		}
	}
	// Other dtypes: int32 and bool.
	if got := fmt.Sprint(MustExecOnce(cpu, func(x *Node) *Node { return Reverse(x, 0) }, []int32{1, 2, 3}).Value()); got != "[3 2 1]" {
		t.Errorf("Reverse(int32) = %s", got)
	}
	if got := fmt.Sprint(MustExecOnce(cpu, func(x *Node) *Node {
		return Pad(x, Const(x.Graph(), false), backends.PadAxis{Start: 1})
	}, []bool{true}).Value()); got != "[false true]" {
		t.Errorf("Pad(bool) = %s", got)
	}
}

// referencePool returns, for every window of x [n, h, w] (window k, stride s, padding p), the
// flat index of PyTorch's selected element (the first maximum, a NaN winning; -1 when the window
// holds no element of x), by direct loops.
func referencePool(x []float64, n, h, w, k, s, p int) (sel []int, oh, ow int) {
	oh, ow = (h+2*p-k)/s+1, (w+2*p-k)/s+1
	for c := range n {
		for oy := range oh {
			for ox := range ow {
				best, at := math.Inf(-1), -1
				for dy := range k {
					for dx := range k {
						y, xx := oy*s-p+dy, ox*s-p+dx
						if y < 0 || y >= h || xx < 0 || xx >= w {
							continue
						}
						i := (c*h+y)*w + xx
						if at < 0 {
							at = i
						}
						if v := x[i]; v > best || math.IsNaN(v) {
							best, at = v, i
						}
					}
				}
				sel = append(sel, at)
			}
		}
	}
	return sel, oh, ow
}

// TestCPUMaxPool checks ReduceWindow max and SelectAndScatterMax (float32 and float64) against
// referencePool, with ties (values rounded to a few levels), -Inf and NaN.
func TestCPUMaxPool(t *testing.T) {
	cpu, _ := cpuAndPlain(t)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct{ b, ch, h, w, k, s, p int }{
		{1, 2, 6, 5, 2, 2, 0}, {3, 2, 7, 9, 3, 2, 1}, {2, 3, 8, 8, 3, 1, 1}, {1, 1, 5, 7, 2, 1, 1}, {2, 2, 9, 6, 4, 3, 2}, {1, 2, 4, 4, 1, 1, 0},
	} {
		n := c.b * c.ch * c.h * c.w
		x64 := make([]float64, n)
		for i := range x64 {
			x64[i] = math.Round(rng.NormFloat64() * 2) // ties
		}
		x64[1] = math.Inf(-1)
		if n > 20 {
			x64[17] = math.NaN()
		}
		sel, oh, ow := referencePool(x64, c.b*c.ch, c.h, c.w, c.k, c.s, c.p)
		src := make([]float64, len(sel))
		for i := range src {
			src[i] = rng.NormFloat64()
		}
		wantY := make([]float64, len(sel))
		wantG := make([]float64, n)
		for i, at := range sel {
			wantY[i] = math.Inf(-1)
			if at >= 0 {
				wantY[i] = x64[at]
				wantG[at] += src[i]
			}
		}
		win := []int{1, 1, c.k, c.k}
		str := []int{1, 1, c.s, c.s}
		pads := [][2]int{{0, 0}, {0, 0}, {c.p, c.p}, {c.p, c.p}}
		pool := func(x *Node) *Node { return BackendReduceWindow(x, backends.ReduceOpMax, win, str, nil, nil, pads) }
		grad := func(x, s *Node) *Node { return Gradient(ReduceAllSum(Mul(pool(x), s)), x)[0] }
		for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			name := fmt.Sprintf("%+v %s", c, dt)
			xt := tensors.FromFlatDataAndDimensions(x64, c.b, c.ch, c.h, c.w)
			st := tensors.FromFlatDataAndDimensions(src, c.b, c.ch, oh, ow)
			if dt == dtypes.Float32 {
				xt = tensors.FromFlatDataAndDimensions(to32(x64), c.b, c.ch, c.h, c.w)
				st = tensors.FromFlatDataAndDimensions(to32(src), c.b, c.ch, oh, ow)
			}
			y := MustExecOnce(cpu, pool, xt)
			g := MustExecOnce(cpu, grad, xt, st)
			compare := func(what string, got *tensors.Tensor, want []float64, tol float64) {
				var gv []float64
				if dt == dtypes.Float32 {
					for _, v := range tensors.MustCopyFlatData[float32](got) {
						gv = append(gv, float64(v))
					}
				} else {
					gv = tensors.MustCopyFlatData[float64](got)
				}
				for i, v := range gv {
					if !(v == want[i] || math.Abs(v-want[i]) <= tol || (math.IsNaN(v) && math.IsNaN(want[i]))) {
						t.Fatalf("%s: %s[%d] = %g, want %g", name, what, i, v, want[i])
					}
				}
			}
			compare("pool", y, wantY, 0)
			compare("gradient", g, wantG, 1e-6)
		}
	}
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// TestReverseElemsMatchesBytes checks the word-sized Reverse (which merges axes) against the
// byte-wise one on random shapes and axis sets, size-1 axes included.
func TestReverseElemsMatchesBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for range 200 {
		r := 1 + rng.IntN(4)
		dims := make([]int, r)
		var axes []int
		for a := range dims {
			dims[a] = 1 + rng.IntN(4)
			if rng.IntN(2) == 0 {
				axes = append(axes, a)
			}
		}
		n := prod(dims)
		src := make([]uint32, n)
		for i := range src {
			src[i] = rng.Uint32()
		}
		got, want := make([]uint32, n), make([]uint32, n)
		reverseElems(got, src, dims, axes)
		b := func(v []uint32) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v)) }
		reverseBytes(b(want), b(src), 4, dims, axes)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("dims %v axes %v: %v, want %v", dims, axes, got, want)
		}
	}
}
