package nn

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// MaxPool2D is PyTorch's nn.MaxPool2d(window, stride, padding) (dilation 1, ceil_mode false) for x
// [B, C, H, W]: the output is [B, C, Ho, Wo] with Ho = ⌊(H + 2·padding − window)/stride⌋ + 1 (Wo
// likewise), and each output is the maximum of its window×window window of x. Padded positions never
// win (PyTorch pads with −inf); padding must be at most window/2, as PyTorch requires, so that every
// window holds at least one element of x.
//
// It is GoMLX's ReduceWindow (max), whose gradient is SelectAndScatterMax: each output's upstream
// gradient goes to the element of its window selected as the maximum, summed where windows overlap
// (e.g. AlexNet's 3×3 stride 2). Ties: as PyTorch's CPU kernel, the selected element is the FIRST
// maximum of the window in row-major order, so exactly one element receives the gradient (never
// all of them, as GoMLX's ReduceMax gradient would do); the project's CPU backend and XLA (whose
// SelectAndScatter GoMLX builds with a ≥ comparison) both select it. NaNs: the CPU backend follows
// PyTorch (a NaN wins, the last one of its window); on XLA the forward max propagates NaN too, but
// the ≥ selection of the gradient does not follow PyTorch's NaN rule.
func MaxPool2D(x *Node, window, stride, padding int) *Node {
	return impl.pool(x, window, stride, padding)
}

// maxPool2D is MaxPool2D by ReduceWindow.
func maxPool2D(x *Node, window, stride, padding int) *Node {
	if x.Rank() != 4 {
		panic(fmt.Errorf("nn.MaxPool2D takes x [batch, channels, height, width], got %s", x.Shape()))
	}
	if window < 1 || stride < 1 || padding < 0 || 2*padding > window {
		panic(fmt.Errorf("nn.MaxPool2D: invalid window %d, stride %d, padding %d (need window, stride ≥ 1 and 0 ≤ padding ≤ window/2)",
			window, stride, padding))
	}
	if !x.DType().IsFloat() {
		panic(fmt.Errorf("nn.MaxPool2D takes a float tensor, got %s", x.Shape()))
	}
	dims := x.Shape().Dimensions
	h, w := dims[2], dims[3]
	oh := (h+2*padding-window)/stride + 1
	ow := (w+2*padding-window)/stride + 1
	if h+2*padding < window || w+2*padding < window || oh < 1 || ow < 1 {
		panic(fmt.Errorf("nn.MaxPool2D: window %d (padding %d) larger than the input %s", window, padding, x.Shape()))
	}
	pads := [][2]int{{0, 0}, {0, 0}, {padding, padding}, {padding, padding}}
	return BackendReduceWindow(x, backends.ReduceOpMax, []int{1, 1, window, window}, []int{1, 1, stride, stride}, nil, nil, pads)
}
