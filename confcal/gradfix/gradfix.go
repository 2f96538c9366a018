// Package gradfix replaces GoMLX v0.26.0's gradient of the Dot op (matrix products, used by every
// dense layer) with one built from matrix products.
//
// GoMLX's own dotVJP computes the gradients of C[i,k] = Σ_j A[i,j] B[j,k] by broadcasting to an
// [i, j, k] tensor, multiplying and reducing: O(i·j·k) memory and elementwise work, which made a
// training step of the paper's 2×500 MLP take ~90 ms on the pure-Go backend. The gradients are the
// products dA = V Bᵀ and dB = Aᵀ V, which this package registers in graph.VJPRegistration (the map
// GoMLX documents as the place to change an op's gradient). Importing the package (the training and
// model packages of this project do) is enough.
package gradfix

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

var original = VJPRegistration[NodeTypeDot]

func init() {
	VJPRegistration[NodeTypeDot] = dotVJP
}

// dotVJP returns the adjoints of Dot's two inputs given the adjoint v of its output.
func dotVJP(node *Node, vjps []*Node, outputShape shapes.Shape) []*Node {
	in := node.Inputs()
	a, b, v := in[0], in[1], vjps[0]
	switch {
	case a.Rank() == 2 && b.Rank() == 2:
		// C[i,k] = A[i,j] B[j,k]: dA = V Bᵀ, dB = Aᵀ V, as products that contract the shared axis
		// where it lies (no Transpose node: the CPU backend's kernel reads either layout, and
		// simplego and XLA arrange the operands themselves).
		return []*Node{DotGeneral(v, []int{1}, nil, b, []int{1}, nil), DotGeneral(a, []int{0}, nil, v, []int{0}, nil)}
	case a.Rank() == 2 && b.Rank() == 1:
		// c[i] = A[i,j] b[j]: dA = v ⊗ b, db = Aᵀ v.
		return []*Node{Mul(InsertAxes(v, -1), InsertAxes(b, 0)), DotGeneral(a, []int{0}, nil, v, []int{0}, nil)}
	}
	return original(node, vjps, outputShape)
}
