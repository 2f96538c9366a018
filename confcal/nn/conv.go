package nn

import (
	"math"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/pkg/errors"

	_ "github.com/confcal/confcal/confcal/gradfix" // correct gradients of ConvGeneral and Dot
)

// Conv2DOp is PyTorch's conv2d (cross-correlation, no bias, groups=1) in NCHW layout:
// x [B, Cin, H, W], w [Cout, Cin, k, k] -> [B, Cout, Ho, Wo], with
// Ho = (H + 2p - d(k-1) - 1)/s + 1 (likewise Wo).
//
// It is GoMLX's ConvGeneral (cuDNN on a GPU with XLA; im2col + the project's GEMM on the CPU
// backend), whose gradient is confcal/gradfix's (GoMLX v0.26.0's own is wrong for even kernels).
func Conv2DOp(x, w *Node, stride, padding, dilation int) *Node {
	const op = "Conv2DOp"
	checkConvInputs(op, x, w, stride, padding, dilation)
	xd, wd := x.Shape().Dimensions, w.Shape().Dimensions
	h, wi := xd[2], xd[3]
	k := wd[2]
	if wd[1] != xd[1] {
		panic(errors.Errorf("nn.%s: x has %d channels but w [Cout, Cin, k, k] expects %d (x %s, w %s)",
			op, xd[1], wd[1], x.Shape(), w.Shape()))
	}
	ho, wo := convOutSize(h, k, stride, padding, dilation), convOutSize(wi, k, stride, padding, dilation)
	if ho < 1 || wo < 1 {
		panic(errors.Errorf("nn.%s: empty output %dx%d: input too small for kernel %d (dilation %d) with padding %d (x %s, w %s)",
			op, ho, wo, k, dilation, padding, x.Shape(), w.Shape()))
	}
	pads := [][2]int{{padding, padding}, {padding, padding}}
	return ConvGeneral(x, w, nchwAxes(1, 0), []int{stride, stride}, pads, []int{1, 1}, []int{dilation, dilation}, 1, 1)
}

// nchwAxes is the ConvolveAxesConfig of NCHW images and a kernel whose input and output channel
// axes are kin and kout (0 and 1 in some order), spatial axes 2 and 3.
func nchwAxes(kin, kout int) backends.ConvolveAxesConfig {
	return backends.ConvolveAxesConfig{
		InputBatch: 0, InputChannels: 1, InputSpatial: []int{2, 3},
		KernelInputChannels: kin, KernelOutputChannels: kout, KernelSpatial: []int{2, 3},
		OutputBatch: 0, OutputChannels: 1, OutputSpatial: []int{2, 3},
	}
}

// impl holds the implementations of the convolutions and of max pooling that the layers (Conv2D,
// ConvTranspose2D) and MaxPool2D use: GoMLX's native ops. Tests swap in the implementations the
// models used before (oracle_test.go) to compare whole training steps.
var impl = struct {
	conv  func(x, w *Node, stride, padding, dilation int) *Node
	convT func(op string, x, w *Node, stride, padding, dilation int) *Node
	pool  func(x *Node, window, stride, padding int) *Node
}{Conv2DOp, convTranspose2D, maxPool2D}

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
	y := impl.conv(x, w, cfg.Stride, cfg.Padding, cfg.Dilation)
	if cfg.NoBias {
		return y
	}
	return addChannelBias(y, uniformVariable(ctx, x.Graph(), "biases", bound, shapes.Make(x.DType(), cfg.Out)))
}
