package nn

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/pkg/errors"

	_ "github.com/confcal/confcal/confcal/gradfix" // Dot's gradient as matrix products
)

// Conv2DOp is PyTorch's conv2d (cross-correlation, no bias, groups=1) in NCHW layout:
// x [B, Cin, H, W], w [Cout, Cin, k, k] -> [B, Cout, Ho, Wo], with
// Ho = (H + 2p - d(k-1) - 1)/s + 1 (likewise Wo).
//
// It is computed as im2col + one matrix product: the windows of x are gathered (Gather, with
// indices precomputed from the shapes) into the matrix [B*Ho*Wo, k*k*Cin], multiplied by the
// kernel as a [Cout, k*k*Cin] matrix (DotGeneral over k*k*Cin, whose gradient confcal/gradfix makes
// two more such products), and the result is transposed back to NCHW. Padding taps
// read an all-zero row appended to x's pixel rows. Forward and gradient use only Transpose,
// Reshape, Gather, ScatterSum, DotGeneral, BroadcastInDim (zeros) and Constant (indices), all supported by
// the pure-Go backend.
func Conv2DOp(x, w *Node, stride, padding, dilation int) *Node {
	const op = "Conv2DOp"
	checkConvInputs(op, x, w, stride, padding, dilation)
	xd, wd := x.Shape().Dimensions, w.Shape().Dimensions
	b, cin, h, wi := xd[0], xd[1], xd[2], xd[3]
	cout, k := wd[0], wd[2]
	if wd[1] != cin {
		panic(errors.Errorf("nn.%s: x has %d channels but w [Cout, Cin, k, k] expects %d (x %s, w %s)",
			op, cin, wd[1], x.Shape(), w.Shape()))
	}
	ho, wo := convOutSize(h, k, stride, padding, dilation), convOutSize(wi, k, stride, padding, dilation)
	if ho < 1 || wo < 1 {
		panic(errors.Errorf("nn.%s: empty output %dx%d: input too small for kernel %d (dilation %d) with padding %d (x %s, w %s)",
			op, ho, wo, k, dilation, padding, x.Shape(), w.Shape()))
	}
	geom := newWindowGeom(b, h, wi, k, stride, padding, dilation, ho, wo)
	cols := im2col(toRows(x), geom) // [B*Ho*Wo, k*k*Cin]
	// The kernel as a [Cout, k*k*Cin] matrix: one small transpose per output channel ([Cin, k*k] to
	// [k*k, Cin]), and its gradient likewise; the product contracts the second axis of both.
	wm := Reshape(transposeAxes(w, 0, 2, 3, 1), cout, k*k*cin)
	return fromRows(DotGeneral(cols, []int{1}, nil, wm, []int{1}, nil), b, ho, wo) // [B, Cout, Ho, Wo]
}

// ConvConfig configures Conv2D and ConvTranspose2D, as PyTorch's nn.Conv2d / nn.ConvTranspose2d
// arguments: out_channels, kernel_size, stride, padding, dilation and bias=!NoBias. Zero Stride or
// Dilation mean 1.
type ConvConfig struct {
	Out, Kernel, Stride, Padding, Dilation int
	NoBias                                 bool
}

// normalized returns cfg with Stride and Dilation defaulted to 1.
func (cfg ConvConfig) normalized() ConvConfig {
	if cfg.Stride == 0 {
		cfg.Stride = 1
	}
	if cfg.Dilation == 0 {
		cfg.Dilation = 1
	}
	return cfg
}

// uniformVariable returns the value of the variable name of the given shape in ctx's scope,
// created (if new) uniform in ±bound.
func uniformVariable(ctx *context.Context, g *Graph, name string, bound float64, shape shapes.Shape) *Node {
	ctx = ctx.WithInitializer(initializers.RandomUniformFn(ctx, -bound, bound))
	return ctx.VariableWithShape(name, shape).ValueGraph(g)
}

// addChannelBias adds biases [C] to y [B, C, H, W].
func addChannelBias(y, bias *Node) *Node {
	return Add(y, Reshape(bias, 1, bias.Shape().Dimensions[0], 1, 1))
}

// Conv2D is PyTorch's nn.Conv2d(Cin, cfg.Out, cfg.Kernel, stride, padding, dilation, bias) applied
// to x [B, Cin, H, W], with variables "weights" [Out, Cin, k, k] and "biases" [Out] (absent with
// NoBias) in ctx's scope. Both are initialised as PyTorch does: kaiming_uniform(a=√5) for the
// weights and U(±1/√fan_in) for the biases, i.e. both uniform in ±1/√fan_in, fan_in = Cin*k*k.
func Conv2D(ctx *context.Context, x *Node, cfg ConvConfig) *Node {
	cfg = cfg.normalized()
	if x.Rank() != 4 {
		panic(errors.Errorf("nn.Conv2D: x must be [batch, channels, height, width], got %s", x.Shape()))
	}
	if cfg.Out < 1 || cfg.Kernel < 1 {
		panic(errors.Errorf("nn.Conv2D: Out=%d and Kernel=%d must be >= 1 (x %s)", cfg.Out, cfg.Kernel, x.Shape()))
	}
	cin := x.Shape().Dimensions[1]
	bound := 1 / math.Sqrt(float64(cin*cfg.Kernel*cfg.Kernel))
	w := uniformVariable(ctx, x.Graph(), "weights", bound, shapes.Make(x.DType(), cfg.Out, cin, cfg.Kernel, cfg.Kernel))
	y := Conv2DOp(x, w, cfg.Stride, cfg.Padding, cfg.Dilation)
	if cfg.NoBias {
		return y
	}
	return addChannelBias(y, uniformVariable(ctx, x.Graph(), "biases", bound, shapes.Make(x.DType(), cfg.Out)))
}
