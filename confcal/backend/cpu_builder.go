package backend

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// The "cpu" backend adds to simplego the three ops that the gradients of convolutions and max
// pooling emit and simplego v0.26.0 lacks: Pad, Reverse and SelectAndScatterMax. Each is a new
// node of simplego's graph (created through simplego's own node constructor, reached by linkname
// like its executor table) with an executor of this package, so that it runs as one native pass
// like any other op. Composing them from ops simplego has was the alternative: Reverse and Pad as
// Gathers with index constants, SelectAndScatterMax as an ArgMax over stacked window slices and a
// ScatterSum (what confcal/nn did by hand). That costs several full-size temporaries per max pool
// and per convolution gradient, and index tensors as large as the data, where the executors
// here make one pass.

//go:linkname simplegoNewNode github.com/gomlx/gomlx/backends/simplego.(*Builder).newNode
func simplegoNewNode(b *simplego.Builder, opType backends.OpType, shape shapes.Shape, inputs ...*simplego.Node) *simplego.Node

//go:linkname simplegoCheckOps github.com/gomlx/gomlx/backends/simplego.(*Builder).checkOps
func simplegoCheckOps(b *simplego.Builder, opType string, ops ...backends.Op) ([]*simplego.Node, error)

//go:linkname simplegoPutBuffer github.com/gomlx/gomlx/backends/simplego.(*Backend).putBuffer
func simplegoPutBuffer(b *simplego.Backend, buffer *simplego.Buffer)

// addedOps are the op types the "cpu" backend adds to simplego's, with their executors.
var addedOps = map[backends.OpType]simplegoExecutor{
	backends.OpTypePad:                 execPad,
	backends.OpTypeReverse:             execReverse,
	backends.OpTypeSelectAndScatterMax: execSelectAndScatterMax,
}

// installAddedOps registers the executors of addedOps in simplego's table (where it has none).
func installAddedOps() {
	for op, exec := range addedOps {
		if simplegoNodeExecutors[op] == nil {
			simplegoNodeExecutors[op] = exec
		}
	}
}

// Capabilities implements backends.Backend: simplego's, plus the added ops when they are installed.
func (c cpuBackend) Capabilities() backends.Capabilities {
	caps := c.Backend.Capabilities().Clone()
	if installErr == nil {
		for op := range addedOps {
			caps.Operations[op] = true
		}
	}
	return caps
}

// Builder implements backends.Backend: simplego's builder with the added ops.
func (c cpuBackend) Builder(name string) backends.Builder {
	inner := c.Backend.Builder(name)
	sb, ok := inner.(*simplego.Builder)
	if !ok || installErr != nil {
		return inner
	}
	return &cpuBuilder{sb}
}

// cpuBuilder is simplego's Builder with Pad, Reverse and SelectAndScatterMax.
type cpuBuilder struct {
	*simplego.Builder
}

// setNodeData sets a simplego node's parameters (its unexported field "data").
func setNodeData(n *simplego.Node, data any) {
	*(*any)(unsafe.Add(unsafe.Pointer(n), simplegoInternal.nodeData)) = data
}

// padParams are the parameters of a Pad node.
type padParams struct{ axes []backends.PadAxis }

// Pad implements backends.Builder: XLA's Pad (negative Start/End crop, Interior ≥ 0 inserts
// elements between neighbours), for any dtype.
func (b *cpuBuilder) Pad(x, fill backends.Op, axes ...backends.PadAxis) (backends.Op, error) {
	nodes, err := simplegoCheckOps(b.Builder, "Pad", x, fill)
	if err != nil {
		return nil, err
	}
	in := simplegoInternal
	xs, fs := in.nodeShapeOf(nodes[0]), in.nodeShapeOf(nodes[1])
	if fs.Rank() != 0 || fs.DType != xs.DType {
		return nil, fmt.Errorf("Pad: the fill value must be a scalar of the operand's dtype %s, got %s", xs.DType, fs)
	}
	if len(axes) != xs.Rank() {
		return nil, fmt.Errorf("Pad: %d axis configurations for an operand of rank %d (%s)", len(axes), xs.Rank(), xs)
	}
	out := xs.Clone()
	for i, a := range axes {
		d := xs.Dimensions[i]
		if a.Interior < 0 {
			return nil, fmt.Errorf("Pad: axis %d has negative interior padding %d", i, a.Interior)
		}
		n := a.Start + a.End + d
		if d > 0 {
			n += (d - 1) * a.Interior
		}
		if n < 0 {
			return nil, fmt.Errorf("Pad: axis %d of %s would have size %d with %+v", i, xs, n, a)
		}
		out.Dimensions[i] = n
	}
	node := simplegoNewNode(b.Builder, backends.OpTypePad, out, nodes...)
	setNodeData(node, &padParams{axes: slices.Clone(axes)})
	return node, nil
}

// Reverse implements backends.Builder: x with the order of the elements along axes reversed.
func (b *cpuBuilder) Reverse(x backends.Op, axes ...int) (backends.Op, error) {
	nodes, err := simplegoCheckOps(b.Builder, "Reverse", x)
	if err != nil {
		return nil, err
	}
	xs := simplegoInternal.nodeShapeOf(nodes[0])
	for _, a := range axes {
		if a < 0 || a >= xs.Rank() {
			return nil, fmt.Errorf("Reverse: axis %d out of range for %s", a, xs)
		}
	}
	node := simplegoNewNode(b.Builder, backends.OpTypeReverse, xs.Clone(), nodes...)
	setNodeData(node, slices.Clone(axes))
	return node, nil
}

// SelectAndScatterMax implements backends.Builder for float32 and float64: the gradient of a max
// pooling (ReduceWindow max) with these windows, given the gradient source of its output. See
// selectMax for the element each window selects.
func (b *cpuBuilder) SelectAndScatterMax(operand, source backends.Op, window, strides []int, paddings [][2]int) (backends.Op, error) {
	nodes, err := simplegoCheckOps(b.Builder, "SelectAndScatterMax", operand, source)
	if err != nil {
		return nil, err
	}
	in := simplegoInternal
	xs, ss := in.nodeShapeOf(nodes[0]), in.nodeShapeOf(nodes[1])
	plan, err := newWindowPlan(xs.Dimensions, window, strides, paddings)
	if err != nil {
		return nil, fmt.Errorf("SelectAndScatterMax of %s: %w", xs, err)
	}
	if ss.DType != xs.DType || !slices.Equal(ss.Dimensions, plan.out) {
		return nil, fmt.Errorf("SelectAndScatterMax: source is %s, expected %s dimensions %v", ss, xs.DType, plan.out)
	}
	node := simplegoNewNode(b.Builder, backends.OpTypeSelectAndScatterMax, xs.Clone(), nodes...)
	setNodeData(node, plan)
	return node, nil
}

// ConvGeneral implements backends.Builder: simplego's, with nil strides meaning 1 on every spatial
// axis as in XLA (simplego v0.26.0's shape inference reads them as 0 and fails, which breaks GoMLX's
// own convolution gradient, built with nil strides). A float32 convolution whose kernel is a
// Reverse along the kernel's spatial axes reads the Reverse's input instead (see fusedConv).
func (b *cpuBuilder) ConvGeneral(input, kernel backends.Op, axes backends.ConvolveAxesConfig, strides []int, paddings [][2]int,
	inputDilations, kernelDilations []int, channelGroupCount, batchGroupCount int) (backends.Op, error) {
	if n, ok := input.(*simplego.Node); ok && len(strides) == 0 {
		if r := simplegoInternal.nodeShapeOf(n).Rank() - 2; r > 0 {
			strides = make([]int, r)
			for i := range strides {
				strides[i] = 1
			}
		}
	}
	plain, err := b.Builder.ConvGeneral(input, kernel, axes, strides, paddings, inputDilations, kernelDilations, channelGroupCount, batchGroupCount)
	if err != nil {
		return nil, err
	}
	src, ok := reversedKernel(kernel, axes.KernelSpatial)
	if !ok || simplegoConvGeneral == nil {
		return plain, nil
	}
	pn := plain.(*simplego.Node)
	fused := simplegoNewNode(b.Builder, backends.OpTypeConvGeneral, simplegoInternal.nodeShapeOf(pn), simplegoInternal.nodeInputsOf(pn)[0], src)
	setNodeData(fused, &fusedConv{plain: pn})
	return fused, nil
}

// fusedConv is the parameter of a ConvGeneral node built by cpuBuilder on the input of a Reverse
// of its kernel along the kernel's spatial axes (the input gradient of a convolution, and a
// transposed convolution, convolve with the reversed kernel): the convolution reads the kernel
// taps in reverse order, so the reversed copy is never made. plain is the same convolution on the
// Reverse node, as simplego built it (not executed: nothing uses it), for its parameters and for
// the fallback.
type fusedConv struct {
	plain *simplego.Node
}

// fallback runs simplego's ConvGeneral on a reversed copy of the kernel.
func (f *fusedConv) fallback(b *simplego.Backend, inputs []*simplego.Buffer) (*simplego.Buffer, bool, error) {
	in := simplegoInternal
	axes, _ := in.nodeDataOf(in.nodeInputsOf(f.plain)[1]).([]int)
	ks := in.bufShapeOf(inputs[1])
	rev := simplegoGetBufferForShape(b, ks)
	if rev == nil {
		return nil, true, fmt.Errorf("ConvGeneral: backend finalized")
	}
	defer simplegoPutBuffer(b, rev)
	src, es, err1 := bytesOf(inputs[1])
	dst, _, err2 := bytesOf(rev)
	if err1 != nil || err2 != nil {
		return nil, true, fmt.Errorf("ConvGeneral: kernel dtype %s not supported", ks.DType)
	}
	reverseBytes(dst, src, es, ks.Dimensions, axes)
	out, err := simplegoConvGeneral(b, f.plain, []*simplego.Buffer{inputs[0], rev}, []bool{false, false})
	return out, true, err
}

// reversedKernel returns the input of kernel when kernel is a Reverse node (built by cpuBuilder)
// along exactly the axes spatial, of dtype float32.
func reversedKernel(kernel backends.Op, spatial []int) (*simplego.Node, bool) {
	in := simplegoInternal
	k, ok := kernel.(*simplego.Node)
	if !ok || in.nodeOpTypeOf(k) != backends.OpTypeReverse || in.nodeShapeOf(k).DType != dtypes.Float32 {
		return nil, false
	}
	axes, ok := in.nodeDataOf(k).([]int)
	inputs := in.nodeInputsOf(k)
	if !ok || len(inputs) != 1 {
		return nil, false
	}
	a, s := slices.Clone(axes), slices.Clone(spatial)
	slices.Sort(a)
	slices.Sort(s)
	if !slices.Equal(slices.Compact(a), s) {
		return nil, false
	}
	return inputs[0], true
}
