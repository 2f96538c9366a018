package nn

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/gradfix"
)

// ConvTranspose2DOp is PyTorch's conv_transpose2d (no bias, groups=1, output_padding=0,
// dilation=1) in NCHW layout: x [B, Cin, H, W], w [Cin, Cout, k, k] (PyTorch's layout) ->
// [B, Cout, Ho, Wo], with Ho = (H-1)s - 2p + k (likewise Wo). It is the adjoint (transpose) of
// Conv2DOp with the same w, stride and padding.
//
// It is GoMLX's ConvGeneral with input dilation s (s-1 zeros between input pixels), padding
// k-1-p and the kernel reversed in space, its channel axes read the other way round (see
// convTranspose2D). On the CPU backend that convolution runs as one matrix product and a col2im
// (the inserted zeros are never multiplied); its gradient is confcal/gradfix's (GoMLX v0.26.0 has
// none for input dilation).
func ConvTranspose2DOp(x, w *Node, stride, padding int) *Node {
	return convTranspose2D("ConvTranspose2DOp", x, w, stride, padding, 1)
}

// convTranspose2D is ConvTranspose2DOp with a dilation d: Ho = (H-1)s - 2p + d(k-1) + 1. Output
// pixel o receives x[i]·w[k] for o = i·s − p + k·d. With e = d(k−1) − p and k' = k−1−k (the
// reversed kernel), that is o − e + k'·d = i·s: a convolution of x dilated by s and padded by e
// (cropped where e < 0) with the kernel reversed in space, reading w [Cin, Cout, k, k] with its
// input channels first.
func convTranspose2D(op string, x, w *Node, stride, padding, dilation int) *Node {
	checkConvInputs(op, x, w, stride, padding, dilation)
	xd, wd := x.Shape().Dimensions, w.Shape().Dimensions
	cin, h, wi := xd[1], xd[2], xd[3]
	k := wd[2]
	if wd[0] != cin {
		panic(errors.Errorf("nn.%s: x has %d channels but w [Cin, Cout, k, k] expects %d (x %s, w %s)",
			op, cin, wd[0], x.Shape(), w.Shape()))
	}
	ho := (h-1)*stride - 2*padding + dilation*(k-1) + 1
	wo := (wi-1)*stride - 2*padding + dilation*(k-1) + 1
	if ho < 1 || wo < 1 {
		panic(errors.Errorf("nn.%s: empty output %dx%d: padding %d too large for kernel %d, stride %d (x %s, w %s)",
			op, ho, wo, padding, k, stride, x.Shape(), w.Shape()))
	}
	e := dilation*(k-1) - padding
	pads := [][2]int{{e, e}, {e, e}}
	return gradfix.Conv(x, Reverse(w, 2, 3), nchwAxes(0, 1), []int{1, 1}, pads, []int{stride, stride}, []int{dilation, dilation})
}

// ConvTranspose2D is PyTorch's nn.ConvTranspose2d(Cin, cfg.Out, cfg.Kernel, stride, padding,
// dilation=cfg.Dilation, bias=!NoBias) applied to x [B, Cin, H, W], with variables "weights"
// [Cin, Out, k, k] and "biases" [Out] (absent with NoBias) in ctx's scope, initialised as PyTorch
// does: both uniform in ±1/√fan_in where, as in PyTorch, fan_in is computed from the weight's
// dimension 1, i.e. fan_in = Out*k*k.
func ConvTranspose2D(ctx *context.Context, x *Node, cfg ConvConfig) *Node {
	cfg = cfg.normalized()
	if x.Rank() != 4 {
		panic(errors.Errorf("nn.ConvTranspose2D: x must be [batch, channels, height, width], got %s", x.Shape()))
	}
	if cfg.Out < 1 || cfg.Kernel < 1 {
		panic(errors.Errorf("nn.ConvTranspose2D: Out=%d and Kernel=%d must be >= 1 (x %s)", cfg.Out, cfg.Kernel, x.Shape()))
	}
	cin := x.Shape().Dimensions[1]
	bound := 1 / math.Sqrt(float64(cfg.Out*cfg.Kernel*cfg.Kernel))
	w := uniformVariable(ctx, x.Graph(), "weights", bound, shapes.Make(x.DType(), cin, cfg.Out, cfg.Kernel, cfg.Kernel))
	y := impl.convT("ConvTranspose2D", x, w, cfg.Stride, cfg.Padding, cfg.Dilation)
	if cfg.NoBias {
		return y
	}
	return addChannelBias(y, uniformVariable(ctx, x.Graph(), "biases", bound, shapes.Make(x.DType(), cfg.Out)))
}
