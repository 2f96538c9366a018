package nn

import (
	"sort"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/pkg/errors"
)

// This file holds the shape checks shared by the convolutions, and UnsupportedOps.

// convOutSize is PyTorch's output size of a convolution: floor((in + 2p - d(k-1) - 1)/s) + 1, or 0
// when the dilated kernel does not fit in the padded input (Go's / would round -1/2 up to 0).
func convOutSize(in, k, s, p, d int) int {
	n := in + 2*p - d*(k-1) - 1
	if n < 0 {
		return 0
	}
	return n/s + 1
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
