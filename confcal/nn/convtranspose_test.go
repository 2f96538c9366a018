package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// refConvTranspose2D is PyTorch's conv_transpose2d written as nested loops, from its definition
// (every input pixel spreads x·w over a k x k patch of the output, which is then cropped by p):
// x [B, Cin, H, W], w [Cin, Cout, k, k].
func refConvTranspose2D(x, w arr, s, p, d int) arr {
	bs, cin, h, wi := x.dims[0], x.dims[1], x.dims[2], x.dims[3]
	cout, k := w.dims[1], w.dims[2]
	ho := (h-1)*s - 2*p + d*(k-1) + 1
	wo := (wi-1)*s - 2*p + d*(k-1) + 1
	out := newArr(bs, cout, ho, wo)
	for b := 0; b < bs; b++ {
		for c := 0; c < cin; c++ {
			for iy := 0; iy < h; iy++ {
				for ix := 0; ix < wi; ix++ {
					v := x.data[x.at4(b, c, iy, ix)]
					for o := 0; o < cout; o++ {
						for ki := 0; ki < k; ki++ {
							for kj := 0; kj < k; kj++ {
								oy, ox := iy*s-p+ki*d, ix*s-p+kj*d
								if oy < 0 || oy >= ho || ox < 0 || ox >= wo {
									continue
								}
								out.data[out.at4(b, o, oy, ox)] += v * w.data[w.at4(c, o, ki, kj)]
							}
						}
					}
				}
			}
		}
	}
	return out
}

// convTCase is one transposed convolution: x [B, Cin, H, W], w [Cin, Cout, K, K].
type convTCase struct {
	B, Cin, H, W, Cout, K, S, P int
}

func (c convTCase) String() string {
	return fmt.Sprintf("x%dx%dx%dx%d_w%dx%dx%dx%d_s%d_p%d", c.B, c.Cin, c.H, c.W, c.Cin, c.Cout, c.K, c.K, c.S, c.P)
}

func (c convTCase) convT(in []*Node) *Node { return ConvTranspose2DOp(in[0], in[1], c.S, c.P) }

var convTForwardCases = []convTCase{
	{B: 1, Cin: 1, H: 3, W: 4, Cout: 2, K: 3, S: 1, P: 0},
	{B: 3, Cin: 3, H: 4, W: 5, Cout: 2, K: 4, S: 2, P: 1}, // DCGAN's upsampling block
	{B: 2, Cin: 3, H: 1, W: 1, Cout: 4, K: 4, S: 1, P: 0}, // DCGAN's first block (latent -> 4x4)
	{B: 2, Cin: 1, H: 5, W: 3, Cout: 3, K: 3, S: 2, P: 2},
	{B: 1, Cin: 3, H: 3, W: 5, Cout: 2, K: 5, S: 3, P: 1}, // stride > k/2: holes in the output
	{B: 3, Cin: 2, H: 4, W: 3, Cout: 2, K: 1, S: 1, P: 0}, // 1x1: no scatter at all
	{B: 2, Cin: 2, H: 4, W: 3, Cout: 2, K: 1, S: 2, P: 0}, // 1x1 with stride: zeros between pixels
	{B: 1, Cin: 2, H: 6, W: 5, Cout: 3, K: 3, S: 1, P: 1},
}

func TestConvTranspose2DOpForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range convTForwardCases {
		t.Run(c.String(), func(t *testing.T) {
			x := randArr(rng, c.B, c.Cin, c.H, c.W)
			w := randArr(rng, c.Cin, c.Cout, c.K, c.K)
			got := evalOp(t, c.convT, x, w)
			assertClose(t, "ConvTranspose2DOp", got, refConvTranspose2D(x, w, c.S, c.P, 1), 1e-12)
		})
	}
}

// TestConvTranspose2DDilation checks the dilated form used by the ConvTranspose2D layer.
func TestConvTranspose2DDilation(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	x := randArr(rng, 2, 3, 4, 5)
	w := randArr(rng, 3, 2, 3, 3)
	got := evalOp(t, func(in []*Node) *Node { return convTranspose2D("test", in[0], in[1], 2, 1, 2) }, x, w)
	assertClose(t, "convTranspose2D dilation 2", got, refConvTranspose2D(x, w, 2, 1, 2), 1e-12)
}

// TestConvTransposeIsAdjoint checks <ConvT(y, w), x> == <y, Conv(x, w)> for random x, y, w, for shapes
// where ConvT(y, w) has x's shape, computing both sides with the graph ops.
func TestConvTransposeIsAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, c := range []convCase{ // (H + 2P - K) divisible by S, so that the shapes round-trip
		{B: 2, Cin: 3, H: 7, W: 9, Cout: 4, K: 3, S: 2, P: 1, D: 1},
		{B: 1, Cin: 1, H: 6, W: 5, Cout: 2, K: 3, S: 1, P: 0, D: 1},
		{B: 3, Cin: 2, H: 8, W: 6, Cout: 3, K: 4, S: 2, P: 1, D: 1},
		{B: 1, Cin: 3, H: 9, W: 9, Cout: 2, K: 5, S: 2, P: 2, D: 1},
		{B: 2, Cin: 2, H: 5, W: 7, Cout: 2, K: 1, S: 2, P: 0, D: 1},
	} {
		t.Run(c.String(), func(t *testing.T) {
			x := randArr(rng, c.B, c.Cin, c.H, c.W)
			w := randArr(rng, c.Cout, c.Cin, c.K, c.K) // Conv's [Cout, Cin] is ConvT's [Cin, Cout]
			ho, wo := convOutSize(c.H, c.K, c.S, c.P, 1), convOutSize(c.W, c.K, c.S, c.P, 1)
			y := randArr(rng, c.B, c.Cout, ho, wo)
			conv := evalOp(t, c.conv, x, w)
			convT := evalOp(t, func(in []*Node) *Node { return ConvTranspose2DOp(in[0], in[1], c.S, c.P) }, y, w)
			if fmt.Sprint(convT.dims) != fmt.Sprint(x.dims) {
				t.Fatalf("ConvT(y) dims %v, want x's %v", convT.dims, x.dims)
			}
			lhs, rhs := dotArr(convT, x), dotArr(y, conv)
			if math.Abs(lhs-rhs) > 1e-12*(1+math.Abs(rhs)) {
				t.Fatalf("<ConvT(y, w), x> = %.15g != <y, Conv(x, w)> = %.15g", lhs, rhs)
			}
		})
	}
}

func TestConvTranspose2DOpGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, c := range []convTCase{
		{B: 1, Cin: 1, H: 3, W: 4, Cout: 2, K: 3, S: 1, P: 0},
		{B: 2, Cin: 3, H: 3, W: 2, Cout: 2, K: 4, S: 2, P: 1},
		{B: 2, Cin: 2, H: 1, W: 1, Cout: 3, K: 4, S: 1, P: 0},
		{B: 1, Cin: 2, H: 4, W: 3, Cout: 2, K: 3, S: 2, P: 2},
		{B: 2, Cin: 2, H: 3, W: 3, Cout: 1, K: 1, S: 2, P: 0},
	} {
		t.Run(c.String(), func(t *testing.T) {
			x := randArr(rng, c.B, c.Cin, c.H, c.W)
			w := randArr(rng, c.Cin, c.Cout, c.K, c.K)
			ops := checkGradients(t, rng, c.convT, 1e-3, 1e-8, x, w)
			t.Logf("ops: %s", ops)
		})
	}
}

// TestConvTranspose2DLayer checks ConvTranspose2D's variables ([Cin, Out, k, k], PyTorch's bound
// 1/√(Out·k²)) and output.
func TestConvTranspose2DLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, noBias := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoBias=%v", noBias), func(t *testing.T) {
			cfg := ConvConfig{Out: 6, Kernel: 4, Stride: 2, Padding: 1, NoBias: noBias}
			x := randArr(rng, 2, 8, 3, 4)
			ctx := context.New()
			ctx.SetParam(context.ParamInitialSeed, int64(13))
			out := context.MustNewExec(testBackend(t), ctx, func(ctx *context.Context, x *Node) *Node {
				return ConvTranspose2D(ctx.In("deconv"), x, cfg)
			}).MustExec(x.tensor())[0]
			bound := 1 / math.Sqrt(6*4*4) // PyTorch: fan_in from weight dim 1 (Out), not Cin = 8
			w := checkUniformVariable(t, ctx, "/deconv", "weights", []int{8, 6, 4, 4}, bound)
			want := refConvTranspose2D(x, w, 2, 1, 1)
			if noBias {
				if v := ctx.GetVariableByScopeAndName("/deconv", "biases"); v != nil {
					t.Fatalf("NoBias: biases variable created")
				}
			} else {
				addBiasRef(want, checkUniformVariable(t, ctx, "/deconv", "biases", []int{6}, bound))
			}
			assertClose(t, "ConvTranspose2D", fromTensor(out), want, 1e-12)
		})
	}
}
