package nn

import (
	"sort"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/pkg/errors"
)

// This file holds the shared machinery of the convolutions: the gather indices of im2col (computed in
// Go from the shapes alone and embedded as constants), the channels-last <-> NCHW conversions, and
// UnsupportedOps.
//
// Layout used internally: an image batch [B, C, H, W] is handled as the matrix of its pixels
// ("rows") [B*H*W, C], so that every gathered or scattered slice is a contiguous run of C values.
// Out-of-bounds (padding) taps of a window point at one extra all-zero row appended after the B*H*W
// pixel rows (the "sentinel"). The row is appended with ScatterSum into zeros, not with Pad or
// Concatenate: Pad is missing from simplego and Concatenate's gradient is built from Slice, whose own
// gradient is a Pad (a second-order gradient would need it).

// windowGeom describes the sliding windows of a 2-D convolution over an "image" of size h x w with
// kernel k, stride s, padding p and dilation d, giving outH x outW window positions.
type windowGeom struct {
	batch, h, w      int
	k, s, p, d       int
	outH, outW       int
	needSentinel     bool // some tap of some window falls in the padding
	identityGathered bool // the windows are exactly the pixels (k=1, s=1, p=0): no gather needed
}

// convOutSize is PyTorch's output size of a convolution: floor((in + 2p - d(k-1) - 1)/s) + 1, or 0
// when the dilated kernel does not fit in the padded input (Go's / would round -1/2 up to 0).
func convOutSize(in, k, s, p, d int) int {
	n := in + 2*p - d*(k-1) - 1
	if n < 0 {
		return 0
	}
	return n/s + 1
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

// checkInt panics (with an error naming op and the shapes) unless v >= minimum.
func checkInt(op, name string, v, minimum int, x, w *Node) {
	if v < minimum {
		panic(errors.Errorf("nn.%s: %s=%d, must be >= %d (x %s, w %s)", op, name, v, minimum, x.Shape(), w.Shape()))
	}
}

// checkConvInputs validates x [B, C, H, W], w (rank 4, same dtype, float, square kernel), and
// stride >= 1, padding >= 0, dilation >= 1.
func checkConvInputs(op string, x, w *Node, stride, padding, dilation int) {
	if x.Rank() != 4 || w.Rank() != 4 {
		panic(errors.Errorf("nn.%s: x must be [batch, channels, height, width] and w rank 4, got x %s and w %s",
			op, x.Shape(), w.Shape()))
	}
	if x.DType() != w.DType() || !x.DType().IsFloat() {
		panic(errors.Errorf("nn.%s: x and w must have the same float dtype, got x %s and w %s", op, x.Shape(), w.Shape()))
	}
	if w.Shape().Dimensions[2] != w.Shape().Dimensions[3] {
		panic(errors.Errorf("nn.%s: only square kernels are supported, got w %s", op, w.Shape()))
	}
	checkInt(op, "stride", stride, 1, x, w)
	checkInt(op, "padding", padding, 0, x, w)
	checkInt(op, "dilation", dilation, 1, x, w)
}

// UnsupportedOps returns the names of the node types in g (a graph being built or already built:
// forward ops and any gradient ops added with Gradient) that the backend b does not list in its
// capabilities, sorted and without repeats; nil when every op is supported. Graph-only node types
// with no backend op (the split of a multi-output op) are skipped.
func UnsupportedOps(g *Graph, b backends.Backend) []string {
	caps := b.Capabilities().Operations
	seen := map[string]bool{}
	var missing []string
	for _, node := range g.Nodes() {
		nt := node.Type()
		if nt == NodeTypeInvalid || nt == NodeTypeSplitNode {
			continue
		}
		name := nt.String() // NodeType and OpType names share the op's name, e.g. "Gather"
		if seen[name] {
			continue
		}
		seen[name] = true
		op, err := backends.OpTypeString(name)
		if err != nil || !caps[op] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	return missing
}
