package backend

import (
	"slices"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/confcal/confcal/internal/cpuops"
	"github.com/confcal/confcal/internal/fields"
)

// The "cpu" backend's replacements for simplego's executors of the ops a training step spends its
// time in, for float32: DotGeneral and ConvGeneral (sgemm), ReduceWindow max (max pooling),
// Transpose, the row Gather and ScatterSum, the elementwise arithmetic (with broadcasting),
// BroadcastInDim, ReduceSum/Max and Where (cpuops). Any case they do not cover goes to simplego's
// own executor.

// fastOp is a replacement executor: ok = false means "not a case it covers", and nothing was done
// (no input consumed). Like simplego's executors it may reuse an input it owns (owned[i]) as its
// output, and then sets inputs[i] to nil.
type fastOp func(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (out *simplego.Buffer, ok bool, err error)

// fastOps lists the replaced op types, installed by installFastOps.
var fastOps = map[backends.OpType]fastOp{
	backends.OpTypeDotGeneral:     ignoreOwned(sgemmDot),
	backends.OpTypeTranspose:      ignoreOwned(fastTranspose),
	backends.OpTypeGather:         ignoreOwned(fastGather),
	backends.OpTypeScatterSum:     ignoreOwned(fastScatterSum),
	backends.OpTypeAdd:            fastBinary(cpuops.Add),
	backends.OpTypeSub:            fastBinary(cpuops.Sub),
	backends.OpTypeMul:            fastBinary(cpuops.Mul),
	backends.OpTypeDiv:            fastBinary(cpuops.Div),
	backends.OpTypeMax:            fastBinary(cpuops.Max),
	backends.OpTypeMin:            fastBinary(cpuops.Min),
	backends.OpTypeBroadcastInDim: ignoreOwned(fastBroadcastInDim),
	backends.OpTypeReduceSum:      ignoreOwned(fastReduce(cpuops.ReduceSum)),
	backends.OpTypeReduceMax:      ignoreOwned(fastReduce(cpuops.ReduceMax)),
	backends.OpTypeWhere:          fastWhere,
	backends.OpTypeConvGeneral:    ignoreOwned(fastConvGeneral),
	backends.OpTypeReduceWindow:   ignoreOwned(fastReduceWindow),
}

// ignoreOwned adapts an executor that never reuses its inputs.
func ignoreOwned(f func(*simplego.Backend, *simplego.Node, []*simplego.Buffer) (*simplego.Buffer, bool, error)) fastOp {
	return func(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool, error) {
		return f(b, node, inputs)
	}
}

// simplegoConvGeneral is simplego's own ConvGeneral executor (the fallback of fused convolutions).
var simplegoConvGeneral simplegoExecutor

// opCounts counts, per op type, the runs on the replacement and on simplego's executor.
var opCounts [backends.OpTypeLast][2]atomic.Int64

// installFastOps puts the replacements into simplego's executor table, keeping the originals.
func installFastOps() {
	simplegoConvGeneral = simplegoNodeExecutors[backends.OpTypeConvGeneral]
	for op, fast := range fastOps {
		original := simplegoNodeExecutors[op]
		if original == nil {
			continue
		}
		simplegoNodeExecutors[op] = func(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
			if _, mine := cpuBackends.Load(b); mine {
				out, ok, err := fast(b, node, inputs, owned)
				if ok || err != nil {
					opCounts[op][0].Add(1)
					return out, err
				}
				opCounts[op][1].Add(1)
			}
			return original(b, node, inputs, owned)
		}
	}
}

// fastTranspose covers float32 transposes of any rank.
func fastTranspose(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer) (*simplego.Buffer, bool, error) {
	in := simplegoInternal
	src := in.float32sOf(inputs[0])
	perm, ok := in.nodeDataOf(node).([]int)
	if src == nil || !ok {
		return nil, false, nil
	}
	out := simplegoGetBufferForShape(b, in.nodeShapeOf(node))
	err := cpuops.Transpose(in.float32sOf(out), src, in.bufShapeOf(inputs[0]).Dimensions, perm, 0)
	return out, true, err
}

// rowIndices returns the row indices of a Gather/Scatter whose indices have shape [..., 1] with
// the index vector last, or ok = false.
func rowIndices(buf *simplego.Buffer, indexVectorAxis int) (idx any, n int, ok bool) {
	in := simplegoInternal
	dims := in.bufShapeOf(buf).Dimensions
	if len(dims) == 0 || indexVectorAxis != len(dims)-1 || dims[len(dims)-1] != 1 {
		return nil, 0, false
	}
	switch flat := in.anyFlatOf(buf).(type) {
	case []int32:
		return flat, len(flat), true
	case []int64:
		return flat, len(flat), true
	}
	return nil, 0, false
}

// fastGather covers gathering whole rows of a float32 matrix [N, W]: indices [..., 1], slices
// [1, W], output [..., W].
func fastGather(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer) (*simplego.Buffer, bool, error) {
	in := simplegoInternal
	src := in.float32sOf(inputs[0])
	f, ok := fields.Of(in.nodeDataOf(node))
	if src == nil || !ok {
		return nil, false, nil
	}
	opDims := in.bufShapeOf(inputs[0]).Dimensions
	ivAxis, ok1 := f.Int("indexVectorAxis")
	offsetAxes, ok2 := f.Ints("offsetOutputAxes")
	collapsed, ok3 := f.Ints("collapsedSlicesAxes")
	startMap, ok4 := f.Ints("startIndexMap")
	sizes, ok5 := f.Ints("sliceSizes")
	outShape := in.nodeShapeOf(node)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || len(opDims) != 2 ||
		!slices.Equal(collapsed, []int{0}) || !slices.Equal(startMap, []int{0}) ||
		!slices.Equal(sizes, []int{1, opDims[1]}) || !slices.Equal(offsetAxes, []int{outShape.Rank() - 1}) {
		return nil, false, nil
	}
	idx, n, ok := rowIndices(inputs[1], ivAxis)
	if !ok || outShape.Size() != n*opDims[1] {
		return nil, false, nil
	}
	out := simplegoGetBufferForShape(b, outShape)
	var err error
	switch idx := idx.(type) {
	case []int32:
		err = cpuops.GatherRows(in.float32sOf(out), src, opDims[1], idx, 0)
	case []int64:
		err = cpuops.GatherRows(in.float32sOf(out), src, opDims[1], idx, 0)
	}
	if err != nil {
		// An index out of range, checked before anything was written: simplego clamps it (XLA's
		// semantics), so it gets the node; the unused buffer is left to the garbage collector.
		return nil, false, nil
	}
	return out, true, nil
}

// fastScatterSum covers adding the rows of updates [..., W] into a copy of a float32 matrix
// [N, W] at row indices [..., 1].
func fastScatterSum(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer) (*simplego.Buffer, bool, error) {
	in := simplegoInternal
	if len(inputs) != 3 {
		return nil, false, nil
	}
	operand, updates := in.float32sOf(inputs[0]), in.float32sOf(inputs[2])
	f, ok := fields.Of(in.nodeDataOf(node))
	if operand == nil || updates == nil || !ok {
		return nil, false, nil
	}
	opDims := in.bufShapeOf(inputs[0]).Dimensions
	updDims := in.bufShapeOf(inputs[2]).Dimensions
	ivAxis, ok1 := f.Int("indexVectorAxis")
	window, ok2 := f.Ints("updateWindowAxes")
	inserted, ok3 := f.Ints("insertedWindowAxes")
	toOperand, ok4 := f.Ints("scatterAxesToOperandAxes")
	if !(ok1 && ok2 && ok3 && ok4) || len(opDims) != 2 || len(updDims) == 0 ||
		updDims[len(updDims)-1] != opDims[1] || !slices.Equal(window, []int{len(updDims) - 1}) ||
		!slices.Equal(inserted, []int{0}) || !slices.Equal(toOperand, []int{0}) {
		return nil, false, nil
	}
	idx, n, ok := rowIndices(inputs[1], ivAxis)
	if !ok || len(updates) != n*opDims[1] {
		return nil, false, nil
	}
	out := simplegoGetBufferForShape(b, in.nodeShapeOf(node))
	dst := in.float32sOf(out)
	copy(dst, operand)
	var err error
	switch idx := idx.(type) {
	case []int32:
		err = cpuops.ScatterAddRows(dst, updates, opDims[1], idx, 0)
	case []int64:
		err = cpuops.ScatterAddRows(dst, updates, opDims[1], idx, 0)
	}
	if err != nil {
		// An index out of range, checked before anything was added: simplego skips it (XLA's
		// semantics), so it gets the node.
		return nil, false, nil
	}
	return out, true, nil
}

// reuseOrNew returns the output buffer for shape: input i if the executor owns it and it has that
// shape (reused = i), else a new one from simplego's pool (reused = -1).
func reuseOrNew(b *simplego.Backend, shape shapes.Shape, inputs []*simplego.Buffer, owned []bool, candidates ...int) (*simplego.Buffer, int) {
	in := simplegoInternal
	for _, i := range candidates {
		if i < len(owned) && owned[i] && inputs[i] != nil && in.bufShapeOf(inputs[i]).Equal(shape) {
			return inputs[i], i
		}
	}
	return simplegoGetBufferForShape(b, shape), -1
}

// fastBinary covers float32 Add, Sub, Mul, Div, Max and Min with implicit broadcasting.
func fastBinary(op cpuops.BinaryOp) fastOp {
	return func(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, bool, error) {
		in := simplegoInternal
		if len(inputs) != 2 {
			return nil, false, nil
		}
		lhs, rhs := in.float32sOf(inputs[0]), in.float32sOf(inputs[1])
		outShape := in.nodeShapeOf(node)
		if lhs == nil || rhs == nil || outShape.DType != dtypes.Float32 {
			return nil, false, nil
		}
		ls, rs := in.bufShapeOf(inputs[0]), in.bufShapeOf(inputs[1])
		out, reused := reuseOrNew(b, outShape, inputs, owned, 0, 1)
		if err := cpuops.Binary(op, in.float32sOf(out), lhs, rhs, outShape.Dimensions, ls.Dimensions, rs.Dimensions, 0); err != nil {
			return nil, false, nil // shapes it does not take (checked before writing)
		}
		if reused >= 0 {
			inputs[reused] = nil
		}
		return out, true, nil
	}
}

// fastBroadcastInDim covers float32 BroadcastInDim.
func fastBroadcastInDim(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer) (*simplego.Buffer, bool, error) {
	in := simplegoInternal
	src := in.float32sOf(inputs[0])
	axes, ok := in.nodeDataOf(node).([]int)
	if src == nil || !ok {
		return nil, false, nil
	}
	outShape := in.nodeShapeOf(node)
	srcDims := in.bufShapeOf(inputs[0]).Dimensions
	if len(srcDims) == 0 {
		srcDims, axes = []int{}, []int{}
	}
	out := simplegoGetBufferForShape(b, outShape)
	if err := cpuops.BroadcastInDim(in.float32sOf(out), src, outShape.Dimensions, srcDims, axes, 0); err != nil {
		return nil, false, nil
	}
	return out, true, nil
}

// fastReduce covers float32 ReduceSum and ReduceMax over any axes.
func fastReduce(op cpuops.ReduceOp) func(*simplego.Backend, *simplego.Node, []*simplego.Buffer) (*simplego.Buffer, bool, error) {
	return func(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer) (*simplego.Buffer, bool, error) {
		in := simplegoInternal
		src := in.float32sOf(inputs[0])
		axes, ok := in.nodeDataOf(node).([]int)
		if src == nil || !ok || len(axes) == 0 {
			return nil, false, nil
		}
		out := simplegoGetBufferForShape(b, in.nodeShapeOf(node))
		if err := cpuops.Reduce(op, in.float32sOf(out), src, in.bufShapeOf(inputs[0]).Dimensions, axes, 0); err != nil {
			return nil, false, nil
		}
		return out, true, nil
	}
}

// fastWhere covers float32 Where whose operands each have the output's size or one element.
func fastWhere(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, bool, error) {
	in := simplegoInternal
	if len(inputs) != 3 {
		return nil, false, nil
	}
	cond, _ := in.anyFlatOf(inputs[0]).([]bool)
	onTrue, onFalse := in.float32sOf(inputs[1]), in.float32sOf(inputs[2])
	outShape := in.nodeShapeOf(node)
	n := outShape.Size()
	if cond == nil || onTrue == nil || onFalse == nil {
		return nil, false, nil
	}
	out, reused := reuseOrNew(b, outShape, inputs, owned, 1, 2)
	if err := cpuops.Where(in.float32sOf(out), cond, onTrue, onFalse, n, 0); err != nil {
		return nil, false, nil // operand sizes it does not take (checked before writing)
	}
	if reused >= 0 {
		inputs[reused] = nil
	}
	return out, true, nil
}
