package gradfix_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/gradfix"
)

// convCase is a 2-D ConvGeneral: sizes, parameters and layout (NCHW with OIHW kernels, or NHWC
// with HWIO kernels).
type convCase struct {
	b, cin, cout, h, w, k int
	st, p, dil, kdil      int
	nhwc                  bool
}

func (c convCase) String() string {
	l := "NCHW"
	if c.nhwc {
		l = "NHWC"
	}
	return fmt.Sprintf("%s b%d %dx%d k%d s%d p%d inDil%d kDil%d", l, c.b, c.h, c.w, c.k, c.st, c.p, c.dil, c.kdil)
}

func (c convCase) dims() (ax backends.ConvolveAxesConfig, xd, wd []int) {
	if c.nhwc {
		return backends.ConvolveAxesConfig{InputBatch: 0, InputChannels: 3, InputSpatial: []int{1, 2},
			KernelInputChannels: 2, KernelOutputChannels: 3, KernelSpatial: []int{0, 1},
			OutputBatch: 0, OutputChannels: 3, OutputSpatial: []int{1, 2}}, []int{c.b, c.h, c.w, c.cin}, []int{c.k, c.k, c.cin, c.cout}
	}
	return backends.ConvolveAxesConfig{InputBatch: 0, InputChannels: 1, InputSpatial: []int{2, 3},
		KernelInputChannels: 1, KernelOutputChannels: 0, KernelSpatial: []int{2, 3},
		OutputBatch: 0, OutputChannels: 1, OutputSpatial: []int{2, 3}}, []int{c.b, c.cin, c.h, c.w}, []int{c.cout, c.cin, c.k, c.k}
}

func (c convCase) conv(x, w *Node) *Node {
	ax, _, _ := c.dims()
	pads := [][2]int{{c.p, c.p}, {c.p, c.p}}
	// Input dilations nil when 1: GoMLX's own gradient refuses any input dilations given. Kernel
	// dilations always given: GoMLX's own kernel gradient uses them as its strides, and nil strides
	// fail simplego's shape inference.
	var dil []int
	if c.dil != 1 {
		dil = []int{c.dil, c.dil}
	}
	kdil := []int{c.kdil, c.kdil}
	return ConvGeneral(x, w, ax, []int{c.st, c.st}, pads, dil, kdil, 1, 1)
}

// fits reports whether the dilated kernel fits in the padded, dilated input.
func (c convCase) fits() bool {
	ek := (c.k-1)*c.kdil + 1
	return (c.h-1)*c.dil+1+2*c.p >= ek && (c.w-1)*c.dil+1+2*c.p >= ek
}

func randomValues(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// gradientError returns the largest relative difference, over 3 random directions u each for x
// and w, between the directional derivative ⟨∇L, u⟩ of L = Σ r ⊙ conv(x, w) given by Gradient
// and the central finite difference (L(·+εu) − L(·−εu))/2ε. L is linear in x and in w, so the
// finite difference is exact up to rounding for any ε: ε = 1 keeps float32 rounding small. It runs
// in float32, on the cpu backend's ConvGeneral (simplego v0.26.0's float64 ConvGeneral fails on
// some input-dilated cases with an index out of range).
func gradientError(t *testing.T, c convCase, seed uint64) float64 {
	t.Helper()
	_, xd, wd := c.dims()
	rng := rand.New(rand.NewPCG(seed, 11))
	prod := func(d []int) int { return d[0] * d[1] * d[2] * d[3] }
	x, w := randomValues(rng, prod(xd)), randomValues(rng, prod(wd))
	const dirs, eps = 3, 1.0
	var ux, uw []float64
	for range dirs {
		ux = append(ux, randomValues(rng, prod(xd))...)
		uw = append(uw, randomValues(rng, prod(wd))...)
	}
	outs := MustExecOnceN(backend.Must(), func(x, w, ux, uw *Node) []*Node {
		g := x.Graph()
		y := c.conv(x, w)
		r := Const(g, to32(randomValues(rng, y.Shape().Size())))
		loss := func(x, w *Node) *Node { return ReduceAllSum(Mul(Reshape(c.conv(x, w), -1), r)) }
		grads := Gradient(loss(x, w), x, w)
		var res []*Node
		for d := range dirs {
			dx := Reshape(Slice(ux, AxisRange(d*x.Shape().Size(), (d+1)*x.Shape().Size())), xd...)
			dw := Reshape(Slice(uw, AxisRange(d*w.Shape().Size(), (d+1)*w.Shape().Size())), wd...)
			fdX := DivScalar(Sub(loss(Add(x, MulScalar(dx, eps)), w), loss(Sub(x, MulScalar(dx, eps)), w)), 2*eps)
			fdW := DivScalar(Sub(loss(x, Add(w, MulScalar(dw, eps))), loss(x, Sub(w, MulScalar(dw, eps)))), 2*eps)
			res = append(res, ReduceAllSum(Mul(grads[0], dx)), fdX, ReduceAllSum(Mul(grads[1], dw)), fdW)
		}
		return res
	}, tensors.FromFlatDataAndDimensions(to32(x), xd...), tensors.FromFlatDataAndDimensions(to32(w), wd...), to32(ux), to32(uw))
	worst := 0.0
	for i := 0; i < len(outs); i += 2 {
		got, want := float64(outs[i].Value().(float32)), float64(outs[i+1].Value().(float32))
		worst = max(worst, math.Abs(got-want)/(1+math.Abs(want)))
	}
	return worst
}

// convCases covers kernels 1–5, strides 1–3 and paddings 0–2 in every combination, each with one
// of: kernel dilation 1 or 2, input dilation 1 or 2, batch 1 or 3, NCHW or NHWC (cycled), on
// inputs with H ≠ W.
func convCases() []convCase {
	var cases []convCase
	i := 0
	for k := 1; k <= 5; k++ {
		for st := 1; st <= 3; st++ {
			for p := 0; p <= 2; p++ {
				i++
				c := convCase{b: 1 + 2*(i%2), cin: 2, cout: 3, h: 7 + i%3, w: 5 + i%2, k: k, st: st, p: p,
					dil: 1 + (i/2)%2, kdil: 1 + (i/4)%2, nhwc: (i/8)%2 == 1}
				if c.fits() {
					cases = append(cases, c)
				}
			}
		}
	}
	return cases
}

// TestConvGradientMatchesFiniteDifferences checks the registered ConvGeneral gradient against
// central finite differences.
func TestConvGradientMatchesFiniteDifferences(t *testing.T) {
	cases := convCases()
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for i, c := range cases {
		if e := gradientError(t, c, uint64(i)); e > 1e-4 {
			t.Errorf("%s: gradient and finite differences differ by %.3g (relative)", c, e)
		}
	}
}

// TestGoMLXConvGradientWrongForEvenKernels shows GoMLX v0.26.0's own ConvGeneral gradient failing
// the same check on 4×4 convolutions (the DCGAN's: stride 1, and stride 2 with padding 1, where
// it does not even build) and on a 2×2 one, while it passes on a 3×3 one, and that this package's
// gradient passes all of them.
func TestGoMLXConvGradientWrongForEvenKernels(t *testing.T) {
	for _, tc := range []struct {
		c          convCase
		gomlxWrong bool
	}{
		{convCase{b: 2, cin: 2, cout: 3, h: 8, w: 6, k: 4, st: 2, p: 1, dil: 1, kdil: 1}, true},
		{convCase{b: 2, cin: 2, cout: 3, h: 8, w: 6, k: 4, st: 1, p: 1, dil: 1, kdil: 1}, true},
		{convCase{b: 1, cin: 2, cout: 2, h: 5, w: 7, k: 2, st: 1, p: 0, dil: 1, kdil: 1}, true},
		{convCase{b: 1, cin: 2, cout: 2, h: 5, w: 7, k: 3, st: 1, p: 1, dil: 1, kdil: 1}, false},
	} {
		gomlx := func() (e float64) {
			restore := gradfix.UseGoMLXConvGradient(true)
			defer restore()
			defer func() {
				if r := recover(); r != nil {
					t.Logf("%s: GoMLX's gradient panics: %v", tc.c, r)
					e = math.Inf(1)
				}
			}()
			return gradientError(t, tc.c, 1)
		}()
		ours := gradientError(t, tc.c, 1)
		t.Logf("%s: relative error of GoMLX's gradient %.3g, of this package's %.3g", tc.c, gomlx, ours)
		if ours > 1e-4 {
			t.Errorf("%s: this package's gradient is off by %.3g", tc.c, ours)
		}
		if wrong := gomlx > 1e-2; wrong != tc.gomlxWrong {
			t.Errorf("%s: GoMLX's gradient is off by %.3g: expected wrong = %v", tc.c, gomlx, tc.gomlxWrong)
		}
	}
}

// TestConvGradientFloat32 checks that the float32 gradients (which run on the cpu backend's
// ConvGeneral kernels) agree with the float64 ones (simplego's ConvGeneral).
func TestConvGradientFloat32(t *testing.T) {
	for i, c := range convCases() {
		if i%3 != 0 {
			continue
		}
		_, xd, wd := c.dims()
		rng := rand.New(rand.NewPCG(uint64(i), 12))
		x, w := randomValues(rng, xd[0]*xd[1]*xd[2]*xd[3]), randomValues(rng, wd[0]*wd[1]*wd[2]*wd[3])
		run := func(dt dtypes.DType) [][]float64 {
			outs := MustExecOnceN(backend.Must(), func(x, w *Node) []*Node {
				x, w = ConvertDType(x, dt), ConvertDType(w, dt)
				y := c.conv(x, w)
				r := ConvertDType(Const(x.Graph(), randomValues(rand.New(rand.NewPCG(1, 2)), y.Shape().Size())), dt)
				g := Gradient(ReduceAllSum(Mul(Reshape(y, -1), r)), x, w)
				return []*Node{ConvertDType(g[0], dtypes.Float64), ConvertDType(g[1], dtypes.Float64)}
			}, tensors.FromFlatDataAndDimensions(x, xd...), tensors.FromFlatDataAndDimensions(w, wd...))
			return [][]float64{tensors.MustCopyFlatData[float64](outs[0]), tensors.MustCopyFlatData[float64](outs[1])}
		}
		want, got := run(dtypes.Float64), run(dtypes.Float32)
		for j := range want {
			for e := range want[j] {
				if math.Abs(got[j][e]-want[j][e]) > 1e-4*(1+math.Abs(want[j][e])) {
					t.Fatalf("%s: float32 gradient %d [%d] = %g, float64 %g", c, j, e, got[j][e], want[j][e])
				}
			}
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

// TestPadAndReverseGradients checks the gradients this package registers for Pad and Reverse on
// values worked out by hand: the gradient of Σ r ⊙ f(x) is r read back at x's positions.
func TestPadAndReverseGradients(t *testing.T) {
	x := [][]float32{{1, 2, 3}, {4, 5, 6}}
	r := [][]float32{{10, 20, 30, 40, 50, 60}}
	// Pad: rows cropped by 1 at the start (row 0 of x gone), columns [a 0 b 0 c] cropped by 1 at
	// the start and extended by 2 at the end: [0 b 0 c 0 0] for row 1 of x. So x[1] = (4, 5, 6)
	// sits at columns (-1, 1, 3): gradient (0, 20, 40); row 0 gets 0.
	padGrad := MustExecOnce(backend.Must(), func(x, r *Node) *Node {
		y := Pad(x, ScalarZero(x.Graph(), dtypes.Float32),
			backends.PadAxis{Start: -1}, backends.PadAxis{Start: -1, End: 2, Interior: 1})
		return Gradient(ReduceAllSum(Mul(y, r)), x)[0]
	}, x, r)
	if got := fmt.Sprint(padGrad.Value()); got != "[[0 0 0] [0 20 40]]" {
		t.Errorf("Pad gradient = %s, want [[0 0 0] [0 20 40]]", got)
	}
	revGrad := MustExecOnce(backend.Must(), func(x, r *Node) *Node {
		return Gradient(ReduceAllSum(Mul(Reverse(x, 0, 1), r)), x)[0]
	}, x, [][]float32{{1, 2, 3}, {4, 5, 6}})
	if got := fmt.Sprint(revGrad.Value()); got != "[[6 5 4] [3 2 1]]" {
		t.Errorf("Reverse gradient = %s, want [[6 5 4] [3 2 1]]", got)
	}
}
