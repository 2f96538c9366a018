package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/pkg/errors"
)

// The implementations of the convolutions and of max pooling that the models used before they moved
// to GoMLX's native ops (ConvGeneral, ReduceWindow): built only from Gather, ScatterSum, DotGeneral,
// Transpose, ArgMax and elementwise ops, verified against loops and finite differences. They are
// kept as test oracles for the native ops (oracle_test.go's tests).
//
// Layout used internally: an image batch [B, C, H, W] is handled as the matrix of its pixels
// ("rows") [B*H*W, C], so that every gathered or scattered slice is a contiguous run of C values.
// Out-of-bounds (padding) taps of a window point at one extra all-zero row appended after the B*H*W
// pixel rows (the "sentinel").

// conv2DIm2col is the im2col implementation of Conv2DOp that the models used before they moved
// to ConvGeneral, kept as a test oracle: PyTorch's conv2d (cross-correlation, no bias, groups=1) in NCHW layout:
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
func conv2DIm2col(x, w *Node, stride, padding, dilation int) *Node {
	const op = "conv2DIm2col"
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

// convTranspose2DIm2colOp is the col2im implementation of ConvTranspose2DOp that the models used
// before they moved to ConvGeneral, kept as a test oracle: PyTorch's conv_transpose2d (no bias, groups=1, output_padding=0,
// dilation=1) in NCHW layout: x [B, Cin, H, W], w [Cin, Cout, k, k] (PyTorch's layout) ->
// [B, Cout, Ho, Wo], with Ho = (H-1)s - 2p + k (likewise Wo). It is the adjoint (transpose) of
// Conv2DOp with the same w, stride and padding.
//
// It is computed as one matrix product and col2im: every input pixel's channels [Cin] times the
// kernel as a [Cin, k*k*Cout] matrix (Dot) gives its k*k contributions, which are added onto the
// output pixels with a ScatterSum (indices precomputed from the shapes); contributions that fall in
// the cropped border (the padding) go to an extra row that is dropped (Gather). Forward and
// gradient use only Transpose, Reshape, Dot, ScatterSum, Gather, BroadcastInDim (zeros) and
// Constant.
func convTranspose2DIm2colOp(x, w *Node, stride, padding int) *Node {
	return convTranspose2DIm2col("convTranspose2DIm2col", x, w, stride, padding, 1)
}

// convTranspose2DIm2col is convTranspose2DIm2colOp with a dilation d: Ho = (H-1)s - 2p + d(k-1) + 1.
func convTranspose2DIm2col(op string, x, w *Node, stride, padding, dilation int) *Node {
	checkConvInputs(op, x, w, stride, padding, dilation)
	xd, wd := x.Shape().Dimensions, w.Shape().Dimensions
	b, cin, h, wi := xd[0], xd[1], xd[2], xd[3]
	cout, k := wd[1], wd[2]
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
	// The output pixel (oy, ox) receives x[iy, ix] * w[ki, kj] for oy = iy*s - p + ki*d: these are the
	// windows of a convolution of the output image (ho x wo) whose output is the input image (h x w).
	geom := newWindowGeom(b, ho, wo, k, stride, padding, dilation, h, wi)
	wm := Reshape(transposeAxes(w, 0, 2, 3, 1), cin, k*k*cout) // [Cin, k*k*Cout]
	cols := Dot(toRows(x), wm)                                 // [B*H*W, k*k*Cout]
	return fromRows(col2im(cols, geom), b, ho, wo)             // [B, Cout, Ho, Wo]
}

// maxPool2DGather is the ArgMax + Gather implementation of MaxPool2D that the models used before
// they moved to ReduceWindow, kept as a test oracle: PyTorch's nn.MaxPool2d(window, stride, padding) (dilation 1, ceil_mode false) for x
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
func maxPool2DGather(x *Node, window, stride, padding int) *Node {
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

// windowGeom describes the sliding windows of a 2-D convolution over an "image" of size h x w with
// kernel k, stride s, padding p and dilation d, giving outH x outW window positions.
type windowGeom struct {
	batch, h, w      int
	k, s, p, d       int
	outH, outW       int
	needSentinel     bool // some tap of some window falls in the padding
	identityGathered bool // the windows are exactly the pixels (k=1, s=1, p=0): no gather needed
}

// newWindowGeom returns the geometry of the windows of a convolution whose output is outH x outW.
func newWindowGeom(batch, h, w, k, s, p, d, outH, outW int) windowGeom {
	g := windowGeom{batch: batch, h: h, w: w, k: k, s: s, p: p, d: d, outH: outH, outW: outW}
	// A tap falls out of bounds iff the first window's first tap or the last window's last tap does.
	lastY := (outH-1)*s - p + (k-1)*d
	lastX := (outW-1)*s - p + (k-1)*d
	g.needSentinel = p > 0 || lastY >= h || lastX >= w
	g.identityGathered = k == 1 && s == 1 && p == 0 && outH == h && outW == w
	return g
}

// numRows returns the number of pixel rows B*h*w (the sentinel, when used, is row numRows()).
func (g windowGeom) numRows() int { return g.batch * g.h * g.w }

// numTaps returns the number of gathered rows: B * outH * outW * k * k.
func (g windowGeom) numTaps() int { return g.batch * g.outH * g.outW * g.k * g.k }

// indices returns, for every window position (b, oy, ox) and kernel tap (ki, kj), in that
// row-major order, the pixel row b*h*w + iy*w + ix read by the tap, with iy = oy*s - p + ki*d and
// ix = ox*s - p + kj*d; taps outside the image read the sentinel row numRows().
// The result has shape [numTaps(), 1], as Gather and ScatterSum want.
func (g windowGeom) indices() *tensors.Tensor {
	idx := make([]int32, 0, g.numTaps())
	sentinel := int32(g.numRows())
	for b := 0; b < g.batch; b++ {
		base := b * g.h * g.w
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				for ki := 0; ki < g.k; ki++ {
					iy := oy*g.s - g.p + ki*g.d
					for kj := 0; kj < g.k; kj++ {
						ix := ox*g.s - g.p + kj*g.d
						if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
							idx = append(idx, sentinel)
						} else {
							idx = append(idx, int32(base+iy*g.w+ix))
						}
					}
				}
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(idx, len(idx), 1)
}

// iotaIndices returns the constant [[0], [1], ..., [n-1]] (int32).
func iotaIndices(g *Graph, n int) *Node {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return ConstTensor(g, tensors.FromFlatDataAndDimensions(idx, n, 1))
}

// appendZeroRow returns rows [n, c] followed by one row of zeros: [n+1, c]. It is a ScatterSum into
// zeros, whose gradient is a Gather.
func appendZeroRow(rows *Node) *Node {
	n, c := rows.Shape().Dimensions[0], rows.Shape().Dimensions[1]
	zeros := Zeros(rows.Graph(), shapes.Make(rows.DType(), n+1, c))
	return ScatterSum(zeros, iotaIndices(rows.Graph(), n), rows, true, true)
}

// dropLastRow returns the first n rows of rows [n+1, c], with a Gather (whose gradient is a
// ScatterSum; Slice's gradient would be a Pad).
func dropLastRow(rows *Node) *Node {
	n := rows.Shape().Dimensions[0] - 1
	return Gather(rows, iotaIndices(rows.Graph(), n), true)
}

// im2col returns the windows of the pixel rows [B*h*w, c] as the matrix [B*outH*outW, k*k*c],
// columns ordered (ki, kj, channel).
func im2col(rows *Node, g windowGeom) *Node {
	c := rows.Shape().Dimensions[1]
	if g.identityGathered {
		return rows
	}
	if g.needSentinel {
		rows = appendZeroRow(rows)
	}
	cols := Gather(rows, ConstTensor(rows.Graph(), g.indices()))
	return Reshape(cols, g.batch*g.outH*g.outW, g.k*g.k*c)
}

// col2im is the adjoint of im2col: it adds the columns [B*outH*outW, k*k*c] back onto the pixel
// rows they were read from, returning [B*h*w, c].
func col2im(cols *Node, g windowGeom) *Node {
	c := cols.Shape().Dimensions[1] / (g.k * g.k)
	if g.identityGathered {
		return cols
	}
	n := g.numRows()
	if g.needSentinel {
		n++
	}
	updates := Reshape(cols, g.numTaps(), c)
	zeros := Zeros(cols.Graph(), shapes.Make(cols.DType(), n, c))
	rows := ScatterSum(zeros, ConstTensor(cols.Graph(), g.indices()), updates, false, false)
	if g.needSentinel {
		rows = dropLastRow(rows)
	}
	return rows
}

// transposeAxes is TransposeAllAxes, except that when the permutation only moves axes of dimension 1
// (the data order is unchanged) it is a Reshape, which costs no copy.
func transposeAxes(x *Node, perm ...int) *Node {
	dims := x.Shape().Dimensions
	var order []int // non-trivial axes in output order
	for _, a := range perm {
		if dims[a] != 1 {
			order = append(order, a)
		}
	}
	if sort.IntsAreSorted(order) {
		out := make([]int, len(perm))
		for i, a := range perm {
			out[i] = dims[a]
		}
		return Reshape(x, out...)
	}
	return TransposeAllAxes(x, perm...)
}

// toRows turns x [B, C, H, W] into its pixel rows [B*H*W, C].
func toRows(x *Node) *Node {
	d := x.Shape().Dimensions
	return Reshape(transposeAxes(x, 0, 2, 3, 1), d[0]*d[2]*d[3], d[1])
}

// fromRows turns pixel rows [B*H*W, C] back into [B, C, H, W].
func fromRows(rows *Node, b, h, w int) *Node {
	c := rows.Shape().Dimensions[1]
	return transposeAxes(Reshape(rows, b, h, w, c), 0, 3, 1, 2)
}

// oracleCompare runs native and oracle (float32, on the test backend) on the same random inputs
// and compares their outputs and the gradients of Σ r ⊙ output with respect to every input.
func oracleCompare(t *testing.T, name string, rng *rand.Rand, native, oracle func(in []*Node) *Node, dims ...[]int) {
	t.Helper()
	var inputs []any
	for _, d := range dims {
		inputs = append(inputs, toF32(randArr(rng, d...)))
	}
	run := func(fn func(in []*Node) *Node) []*tensors.Tensor {
		exec := MustNewExec(testBackend(t), func(in []*Node) []*Node {
			y := fn(in)
			r := Reshape(Const(y.Graph(), randArr(rand.New(rand.NewPCG(1, 1)), y.Shape().Dimensions...).data), y.Shape().Dimensions...)
			loss := ReduceAllSum(Mul(ConvertDType(y, dtypes.Float64), r))
			return append([]*Node{y}, Gradient(loss, in...)...)
		})
		defer exec.Finalize()
		return exec.MustExec(inputs...)
	}
	got, want := run(native), run(oracle)
	for i := range want {
		g, w := tensors.MustCopyFlatData[float32](got[i]), tensors.MustCopyFlatData[float32](want[i])
		if fmt.Sprint(got[i].Shape()) != fmt.Sprint(want[i].Shape()) {
			t.Fatalf("%s: output %d is %s, oracle %s", name, i, got[i].Shape(), want[i].Shape())
		}
		scale := 1.0
		for _, v := range w {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		for j := range w {
			if math.Abs(float64(g[j]-w[j])) > 1e-5*scale {
				t.Fatalf("%s: output %d (0 forward, then gradients) [%d] = %g, oracle %g", name, i, j, g[j], w[j])
			}
		}
	}
}

// TestNativeOpsMatchOracle compares Conv2DOp, ConvTranspose2D (with dilation) and MaxPool2D,
// forward and backward, with the im2col/Gather implementations the models used before, over
// kernels 1–5, strides 1–3, paddings 0–2, dilations 1–2, batch sizes 1 and 3 and H ≠ W.
func TestNativeOpsMatchOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	n := 0
	for k := 1; k <= 5; k++ {
		for s := 1; s <= 3; s++ {
			for p := 0; p <= 2; p++ {
				for d := 1; d <= 2; d++ {
					b := 1 + 2*((k+s+p+d)%2)
					h, w := 9+d, 7+k%2
					if convOutSize(h, k, s, p, d) < 1 || convOutSize(w, k, s, p, d) < 1 {
						continue
					}
					n++
					name := fmt.Sprintf("conv b%d %dx%d k%d s%d p%d d%d", b, h, w, k, s, p, d)
					oracleCompare(t, name, rng,
						func(in []*Node) *Node { return Conv2DOp(in[0], in[1], s, p, d) },
						func(in []*Node) *Node { return conv2DIm2col(in[0], in[1], s, p, d) },
						[]int{b, 3, h, w}, []int{4, 3, k, k})
					hi, wi := 4+s, 3+k%2
					if (hi-1)*s-2*p+d*(k-1)+1 >= 1 && (wi-1)*s-2*p+d*(k-1)+1 >= 1 {
						name = fmt.Sprintf("conv-transpose b%d %dx%d k%d s%d p%d d%d", b, hi, wi, k, s, p, d)
						oracleCompare(t, name, rng,
							func(in []*Node) *Node { return convTranspose2D("t", in[0], in[1], s, p, d) },
							func(in []*Node) *Node { return convTranspose2DIm2col("t", in[0], in[1], s, p, d) },
							[]int{b, 3, hi, wi}, []int{3, 2, k, k})
					}
					if d == 1 && k <= 4 && 2*p <= k {
						name = fmt.Sprintf("max-pool b%d %dx%d window %d s%d p%d", b, h, w, k, s, p)
						oracleCompare(t, name, rng,
							func(in []*Node) *Node { return maxPool2D(in[0], k, s, p) },
							func(in []*Node) *Node { return maxPool2DGather(in[0], k, s, p) },
							[]int{b, 2, h, w})
					}
				}
			}
		}
	}
	if n < 80 {
		t.Errorf("only %d configurations", n)
	}
}
