package gradfix

import (
	"slices"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/confcal/confcal/internal/fields"
)

// The gradient of ConvGeneral. GoMLX v0.26.0's convGeneralVJP has two defects:
//
//   - its input gradient (convVJPWrtX) pads the reversed convolution on the low side by
//     2·⌊(k−1)/2⌋ − p where k−1−p is right (k the dilated kernel size, p the low padding): for an
//     even kernel (2×2, the DCGAN's 4×4) the gradient comes out shifted by one pixel;
//   - it has no gradient for a convolution with input dilation (a transposed convolution): it
//     panics.
//
// convGeneralVJP below derives both adjoints for any kernel size, stride, padding (low and high),
// kernel dilation, input dilation and axis layout. Per spatial axis, with input size S, kernel K,
// output O, stride s, paddings (pl, ph), input dilation D and kernel dilation d, the forward
// convolution is
//
//	y[o] = Σ_k x_D[o·s − pl + k·d] · w[k],  x_D[q] = x[q/D] if D divides q (else 0),
//
// so that
//
//	dx[i] = Σ_{o,k: o·s = i·D + pl − k·d} v[o] · w[k]
//	      = ConvGeneral(v, Reverse(w)) with input dilation s, stride D, kernel dilation d and
//	        paddings ((K−1)·d − pl, (S−1)·D + pl − (O−1)·s), kernel channels swapped;
//	dw[k] = Σ_{o,i: o·s − pl + k·d = i·D} v[o] · x[i]
//	      = ConvGeneral(x, v) with stride d, kernel dilation s, input dilation D and paddings
//	        (pl, (K−1)·d − (S−1)·D − pl + (O−1)·s), batch and channel axes swapped, when D = 1;
//	      = Reverse(ConvGeneral(v, x)) with input dilation s, stride d, kernel dilation D and
//	        paddings ((K−1)·d − pl, (S−1)·D − (O−1)·s + pl), when D > 1 (the transposed
//	        convolution: this form has no input dilation when s = 1, and its kernel is the small
//	        one, so no zeros are multiplied).
//
// Paddings can come out negative (a padding larger than the dilated kernel, or an input tail no
// window reaches); see convNonNegative. Channel or batch groups keep GoMLX's gradient.

var originalConv = VJPRegistration[NodeTypeConvGeneral]

func init() {
	VJPRegistration[NodeTypeConvGeneral] = ConvGeneralVJP
	if VJPRegistration[NodeTypeReverse] == nil {
		VJPRegistration[NodeTypeReverse] = reverseVJP
	}
	if VJPRegistration[NodeTypePad] == nil {
		VJPRegistration[NodeTypePad] = padVJP
	}
}

// UseGoMLXConvGradient registers GoMLX's own ConvGeneral gradient (on = true) or this package's
// (on = false), for tests and for reproducing GoMLX's bug; it returns a function restoring the
// previous one. Graphs built in between use the one registered when their gradient was built.
func UseGoMLXConvGradient(on bool) (restore func()) {
	prev := VJPRegistration[NodeTypeConvGeneral]
	if on {
		VJPRegistration[NodeTypeConvGeneral] = originalConv
	} else {
		VJPRegistration[NodeTypeConvGeneral] = ConvGeneralVJP
	}
	return func() { VJPRegistration[NodeTypeConvGeneral] = prev }
}

// convParams are a ConvGeneral node's parameters, with defaults filled in.
type convParams struct {
	axes                  backends.ConvolveAxesConfig
	strides, inDil, kDil  []int
	pads                  [][2]int
	channelGroups, groups int
}

// readConvParams reads a ConvGeneral node's parameters, which GoMLX v0.26.0 keeps in an unexported
// struct (graph.nodeInputsConvGeneral), by reflection; ok is false when they are not where
// expected.
func readConvParams(node *Node) (p convParams, ok bool) {
	n, ok := fields.Of(node)
	if !ok {
		return p, false
	}
	in, ok := n.Struct("inputs")
	if !ok {
		return p, false
	}
	var ok1, ok2, ok3, ok4, ok5 bool
	p.strides, ok1 = in.Ints("strides")
	p.inDil, ok2 = in.Ints("inputDilations")
	p.kDil, ok3 = in.Ints("kernelDilations")
	p.channelGroups, ok4 = in.Int("channelGroupCount")
	p.groups, ok5 = in.Int("batchGroupCount")
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || !in.Copy("axes", &p.axes) || !in.Copy("paddings", &p.pads) {
		return p, false
	}
	r := node.Rank() - 2
	ones := func(v []int) []int {
		if len(v) == 0 {
			v = make([]int, r)
			for i := range v {
				v[i] = 1
			}
		}
		return v
	}
	p.strides, p.inDil, p.kDil = ones(p.strides), ones(p.inDil), ones(p.kDil)
	if len(p.pads) == 0 {
		p.pads = make([][2]int, r)
	}
	p.axes = p.axes.Clone()
	return p, len(p.strides) == r && len(p.inDil) == r && len(p.kDil) == r && len(p.pads) == r
}

// ConvGeneralVJP returns the adjoints of ConvGeneral's input and kernel given the adjoint v of its
// output (see the derivation above). It is registered for ConvGeneral when the package is
// imported.
func ConvGeneralVJP(node *Node, vjps []*Node, outputShape shapes.Shape) []*Node {
	p, ok := readConvParams(node)
	if !ok || p.channelGroups > 1 || p.groups > 1 {
		return originalConv(node, vjps, outputShape)
	}
	inputs := node.Inputs()
	x, w, v := inputs[0], inputs[1], vjps[0]
	ax := p.axes
	r := len(p.strides)
	dxPads, dwPads := make([][2]int, r), make([][2]int, r)
	altPads := make([][2]int, r)
	inputDilated := false
	for j := range r {
		s, k, o := x.Shape().Dimensions[ax.InputSpatial[j]], w.Shape().Dimensions[ax.KernelSpatial[j]], node.Shape().Dimensions[ax.OutputSpatial[j]]
		st, pl, dil, kd := p.strides[j], p.pads[j][0], p.inDil[j], p.kDil[j]
		dxPads[j] = [2]int{(k-1)*kd - pl, (s-1)*dil + pl - (o-1)*st}
		dwPads[j] = [2]int{pl, (k-1)*kd - (s-1)*dil - pl + (o-1)*st}
		altPads[j] = [2]int{(k-1)*kd - pl, (s-1)*dil - (o-1)*st + pl}
		inputDilated = inputDilated || dil > 1
	}

	dxAxes := backends.ConvolveAxesConfig{
		InputBatch: ax.OutputBatch, InputChannels: ax.OutputChannels, InputSpatial: slices.Clone(ax.OutputSpatial),
		KernelInputChannels: ax.KernelOutputChannels, KernelOutputChannels: ax.KernelInputChannels, KernelSpatial: slices.Clone(ax.KernelSpatial),
		OutputBatch: ax.InputBatch, OutputChannels: ax.InputChannels, OutputSpatial: slices.Clone(ax.InputSpatial),
	}
	dx := convNonNegative(v, reversed(w, ax.KernelSpatial), dxAxes, p.inDil, dxPads, p.strides, p.kDil)

	var dw *Node
	if !inputDilated {
		dwAxes := backends.ConvolveAxesConfig{
			InputBatch: ax.InputChannels, InputChannels: ax.InputBatch, InputSpatial: slices.Clone(ax.InputSpatial),
			KernelInputChannels: ax.OutputBatch, KernelOutputChannels: ax.OutputChannels, KernelSpatial: slices.Clone(ax.OutputSpatial),
			OutputBatch: ax.KernelInputChannels, OutputChannels: ax.KernelOutputChannels, OutputSpatial: slices.Clone(ax.KernelSpatial),
		}
		dw = convNonNegative(x, v, dwAxes, p.kDil, dwPads, p.inDil, p.strides)
	} else {
		altAxes := backends.ConvolveAxesConfig{
			InputBatch: ax.OutputChannels, InputChannels: ax.OutputBatch, InputSpatial: slices.Clone(ax.OutputSpatial),
			KernelInputChannels: ax.InputBatch, KernelOutputChannels: ax.InputChannels, KernelSpatial: slices.Clone(ax.InputSpatial),
			OutputBatch: ax.KernelOutputChannels, OutputChannels: ax.KernelInputChannels, OutputSpatial: slices.Clone(ax.KernelSpatial),
		}
		dw = reversed(convNonNegative(v, x, altAxes, p.kDil, altPads, p.strides, p.inDil), ax.KernelSpatial)
	}
	return []*Node{dx, dw}
}

// Conv is ConvGeneral without channel or batch groups, on every backend, where a negative padding
// crops (see convNonNegative): confcal/nn's transposed convolution uses it.
func Conv(input, kernel *Node, axes backends.ConvolveAxesConfig, strides []int, pads [][2]int, inDil, kDil []int) *Node {
	return convNonNegative(input, kernel, axes, strides, pads, inDil, kDil)
}

// convNonNegative is ConvGeneral without channel or batch groups, where a negative padding crops.
// XLA takes negative paddings; simplego v0.26.0's ConvGeneral fails on some (an index out of
// range). So when any padding is negative, the input is padded, cropped and dilated explicitly
// with Pad, and the convolution gets neither padding nor input dilation. No model of this project
// has such paddings: this is for the general case only.
func convNonNegative(input, kernel *Node, axes backends.ConvolveAxesConfig, strides []int, pads [][2]int, inDil, kDil []int) *Node {
	negative := false
	for _, p := range pads {
		negative = negative || p[0] < 0 || p[1] < 0
	}
	if !negative {
		return ConvGeneral(input, kernel, axes, strides, pads, inDil, kDil, 1, 1)
	}
	cfg := make([]backends.PadAxis, input.Rank())
	for j, a := range axes.InputSpatial {
		cfg[a] = backends.PadAxis{Start: pads[j][0], End: pads[j][1], Interior: inDil[j] - 1}
	}
	padded := Pad(input, ScalarZero(input.Graph(), input.DType()), cfg...)
	ones := make([]int, len(strides))
	for i := range ones {
		ones[i] = 1
	}
	return ConvGeneral(padded, kernel, axes, strides, make([][2]int, len(strides)), ones, kDil, 1, 1)
}

// reverseVJP is the gradient of Reverse (which GoMLX v0.26.0 does not define): the adjoint
// reversed along the same axes. The transposed convolutions of confcal/nn reverse their kernel.
func reverseVJP(node *Node, vjps []*Node, _ shapes.Shape) []*Node {
	axes, ok := reverseAxes(node)
	if !ok {
		panic("gradfix: cannot read the axes of a Reverse node (GoMLX version other than v0.26.0?)")
	}
	return []*Node{reversed(vjps[0], axes)}
}

// reverseAxes returns the axes of a Reverse node.
func reverseAxes(node *Node) ([]int, bool) {
	if node.Type() != NodeTypeReverse {
		return nil, false
	}
	n, ok := fields.Of(node)
	if !ok {
		return nil, false
	}
	in, ok := n.Struct("inputs")
	if !ok {
		return nil, false
	}
	return in.Ints("axes")
}

// reversed is Reverse(x, axes...), except that when x is itself a Reverse along the same axes it
// returns that Reverse's input (a transposed convolution reverses its kernel, and the gradients
// reverse it back: no need to move the kernel twice).
func reversed(x *Node, axes []int) *Node {
	if inner, ok := reverseAxes(x); ok {
		a, b := slices.Clone(inner), slices.Clone(axes)
		slices.Sort(a)
		slices.Sort(b)
		if slices.Equal(slices.Compact(a), slices.Compact(b)) {
			return x.Inputs()[0]
		}
	}
	return Reverse(x, axes...)
}

// padVJP is the gradient of Pad (which GoMLX v0.26.0 does not define) with respect to its operand:
// the elements of the adjoint at the operand's positions (zero for cropped ones). The fill value
// gets no gradient (the padding of convNonNegative is a constant zero).
func padVJP(node *Node, vjps []*Node, _ shapes.Shape) []*Node {
	var cfg []backends.PadAxis
	n, ok := fields.Of(node)
	if ok {
		var in fields.Struct
		if in, ok = n.Struct("inputs"); ok {
			ok = in.Copy("axesConfig", &cfg)
		}
	}
	x := node.Inputs()[0]
	if !ok || len(cfg) != x.Rank() {
		panic("gradfix: cannot read the configuration of a Pad node (GoMLX version other than v0.26.0?)")
	}
	v := vjps[0]
	// Undo the cropping (negative Start/End) with zeros, then take every (Interior+1)-th element
	// from Start on.
	undo := make([]backends.PadAxis, len(cfg))
	cropped := false
	for a, c := range cfg {
		undo[a] = backends.PadAxis{Start: max(0, -c.Start), End: max(0, -c.End)}
		cropped = cropped || c.Start < 0 || c.End < 0
	}
	if cropped {
		v = Pad(v, ScalarZero(v.Graph(), v.DType()), undo...)
	}
	specs := make([]SliceAxisSpec, len(cfg))
	for a, c := range cfg {
		d := x.Shape().Dimensions[a]
		start := max(0, c.Start)
		specs[a] = AxisRange(start, start+(d-1)*(c.Interior+1)+1).Stride(c.Interior + 1)
	}
	return []*Node{Slice(v, specs...), nil}
}
