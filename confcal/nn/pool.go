package nn

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// MaxPool2D is PyTorch's nn.MaxPool2d(window, stride, padding) (dilation 1, ceil_mode false) for x
// [B, C, H, W]: the output is [B, C, Ho, Wo] with Ho = ⌊(H + 2·padding − window)/stride⌋ + 1 (Wo
// likewise), and each output is the maximum of its window×window window of x. Padded positions never
// win (PyTorch pads with −inf); padding must be at most window/2, as PyTorch requires, so that every
// window holds at least one element of x.
//
// The gradient w.r.t. x routes each output's upstream gradient to the element of x that was
// selected as the maximum of its window, summed where windows overlap (e.g. AlexNet's 3×3 stride 2).
//
// Ties: like PyTorch's CPU kernel, the selected element is the FIRST maximum of the window in
// row-major order (top row first, left to right), so on ties exactly one element, the first,
// receives the gradient (never all of them, as GoMLX's ReduceMax gradient would do). A NaN wins
// over numbers (the last NaN of the window, as PyTorch's `val > max || isnan(val)`), so NaNs
// propagate.
//
// It is built only from ops the pure-Go simplego backend supports in the forward and backward
// passes. The window values are strided Slices of x (behind StopGradient, so their gradient, which
// would need Pad, is never built; padding is a Concatenate of -inf borders), stacked with
// Concatenate; ArgMax picks the winner of each window; and the output is a Gather of x at the
// winners' flat indices, whose gradient is a ScatterSum. GoMLX's own MaxPool uses ReduceWindow,
// whose gradient needs SelectAndScatterMax (missing in simplego).
func MaxPool2D(x *Node, window, stride, padding int) *Node {
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
	batch, channels, h, w := dims[0], dims[1], dims[2], dims[3]
	oh := (h+2*padding-window)/stride + 1
	ow := (w+2*padding-window)/stride + 1
	if h+2*padding < window || w+2*padding < window || oh < 1 || ow < 1 {
		panic(fmt.Errorf("nn.MaxPool2D: window %d (padding %d) larger than the input %s", window, padding, x.Shape()))
	}
	g := x.Graph()
	n := batch * channels
	idxDType := dtypes.Int32
	if x.Shape().Size() >= 1<<31-1 {
		idxDType = dtypes.Int64
	}

	// Window values, without gradient (Slice and Concatenate run forward only here: the gradient of
	// Slice would need Pad): windows[di·k+dj, n, i, j] = xp[n, i·s+di, j·s+dj], for xp the image
	// padded with -inf.
	xs := Reshape(StopGradient(x), n, h, w)
	if padding > 0 {
		negInf := Infinity(g, x.DType(), -1)
		cols := BroadcastToDims(negInf, n, h, padding)
		xs = Concatenate([]*Node{cols, xs, cols}, 2)
		rows := BroadcastToDims(negInf, n, padding, w+2*padding)
		xs = Concatenate([]*Node{rows, xs, rows}, 1)
	}
	parts := make([]*Node, 0, window*window)
	for di := range window {
		for dj := range window {
			part := Slice(xs, AxisRange(),
				AxisRange(di, di+(oh-1)*stride+1).Stride(stride),
				AxisRange(dj, dj+(ow-1)*stride+1).Stride(stride))
			parts = append(parts, InsertAxes(part, 0))
		}
	}
	windows := parts[0]
	if len(parts) > 1 {
		windows = Concatenate(parts, 0) // [k·k, B·C, Ho, Wo]
	}

	// The winner of each window: the first maximum (ArgMax returns the smallest index, and a NaN
	// wins), and its flat index in x.
	arg := ArgMax(windows, 0, idxDType) // [B·C, Ho, Wo]: di·k+dj of the winner
	iota := func(axis int) *Node { return Iota(g, shapes.Make(idxDType, n, oh, ow), axis) }
	var flat *Node
	if padding == 0 {
		// Corner of each window plus di·W+dj (= arg + di·(W−k)).
		corner := make([]int64, oh*ow)
		for oi := range oh {
			for oj := range ow {
				corner[oi*ow+oj] = int64(oi*stride*w + oj*stride)
			}
		}
		flat = Add(MulScalar(iota(0), h*w), BroadcastPrefix(poolIndexConst(g, corner, idxDType, oh, ow), n))
		flat = Add(flat, arg)
		if w != window {
			flat = Add(flat, MulScalar(DivScalar(arg, window), w-window))
		}
	} else {
		// Row and column clamped into the image, which only matters when every in-image value of
		// the window is -inf: the winner is then the first element, clamped to the first in-image
		// one, as PyTorch's.
		r := Add(DivScalar(arg, window), AddScalar(MulScalar(iota(1), stride), -padding))
		c := Add(ModScalar(arg, window), AddScalar(MulScalar(iota(2), stride), -padding))
		r = MinScalar(MaxScalar(r, 0), h-1)
		c = MinScalar(MaxScalar(c, 0), w-1)
		flat = Add(Add(MulScalar(iota(0), h*w), MulScalar(r, w)), c)
	}

	// The output is a Gather of x at the winners, whose gradient is a ScatterSum of the output's
	// gradient into x. (GoMLX v0.26.0's shape inference for Gather wants the indices' rank at most
	// the operand's rank + 1, hence flat [N, 1] indices into the flat x.)
	y := Gather(Reshape(x, n*h*w), Reshape(flat, n*oh*ow, 1))
	return Reshape(y, batch, channels, oh, ow)
}

// poolIndexConst returns values as an integer constant of dtype (Int32 or Int64) with the given
// dimensions.
func poolIndexConst(g *Graph, values []int64, dtype dtypes.DType, dims ...int) *Node {
	if dtype == dtypes.Int64 {
		return ConstTensor(g, tensors.FromFlatDataAndDimensions(values, dims...))
	}
	v32 := make([]int32, len(values))
	for i, v := range values {
		v32[i] = int32(v)
	}
	return ConstTensor(g, tensors.FromFlatDataAndDimensions(v32, dims...))
}
