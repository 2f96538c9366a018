// Package gradfix replaces GoMLX v0.26.0's gradients of the Dot op (matrix products, used by every
// dense layer) and of DotGeneral between matrices with ones built from matrix products, and the
// gradient of ConvGeneral (every convolution of the paper's CNNs, App. B) with a correct one for
// every kernel size, stride, padding, dilation and input dilation (conv.go).
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

	"github.com/confcal/confcal/internal/fields"
)

var (
	original        = VJPRegistration[NodeTypeDot]
	originalGeneral = VJPRegistration[NodeTypeDotGeneral]
)

func init() {
	VJPRegistration[NodeTypeDot] = dotVJP
	VJPRegistration[NodeTypeDotGeneral] = dotGeneralVJP
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

// dotGeneralVJP returns the adjoints of a DotGeneral of two matrices over one axis each, with no
// batch axes: C[i,k] = Σ_j A[i,j] B[j,k] where A may be stored [i,j] or [j,i] and B [j,k] or
// [k,j]. Each adjoint is one DotGeneral that comes out in its operand's own axis order (no
// Transpose). Other DotGenerals keep GoMLX's gradient.
func dotGeneralVJP(node *Node, vjps []*Node, outputShape shapes.Shape) []*Node {
	in := node.Inputs()
	a, b, v := in[0], in[1], vjps[0]
	ca, ba, cb, bb, ok := dotGeneralAxes(node)
	if !ok || a.Rank() != 2 || b.Rank() != 2 || len(ca) != 1 || len(cb) != 1 || len(ba) != 0 || len(bb) != 0 {
		return originalGeneral(node, vjps, outputShape)
	}
	aj, bj := ca[0], cb[0] // the contracted axis of each; the other one is the cross axis
	var dA, dB *Node
	if aj == 1 { // A[i,j]: dA[i,j] = Σ_k V[i,k] B[j,k]
		dA = DotGeneral(v, []int{1}, nil, b, []int{1 - bj}, nil)
	} else { // A[j,i]: dA[j,i] = Σ_k B[j,k] V[i,k]
		dA = DotGeneral(b, []int{1 - bj}, nil, v, []int{1}, nil)
	}
	if bj == 0 { // B[j,k]: dB[j,k] = Σ_i A[i,j] V[i,k]
		dB = DotGeneral(a, []int{1 - aj}, nil, v, []int{0}, nil)
	} else { // B[k,j]: dB[k,j] = Σ_i V[i,k] A[i,j]
		dB = DotGeneral(v, []int{0}, nil, a, []int{1 - aj}, nil)
	}
	return []*Node{dA, dB}
}

// dotGeneralAxes reads a DotGeneral node's contracting and batch axes, which GoMLX v0.26.0 keeps in
// an unexported struct (graph.nodeInputsDotGeneral, in the node's field "inputs"), by reflection;
// ok is false when they are not where expected.
func dotGeneralAxes(node *Node) (lhsContracting, lhsBatch, rhsContracting, rhsBatch []int, ok bool) {
	n, ok := fields.Of(node)
	if !ok {
		return nil, nil, nil, nil, false
	}
	in, ok := n.Struct("inputs")
	if !ok {
		return nil, nil, nil, nil, false
	}
	lhsContracting, ok1 := in.Ints("lhsContractingAxes")
	lhsBatch, ok2 := in.Ints("lhsBatchAxes")
	rhsContracting, ok3 := in.Ints("rhsContractingAxes")
	rhsBatch, ok4 := in.Ints("rhsBatchAxes")
	return lhsContracting, lhsBatch, rhsContracting, rhsBatch, ok1 && ok2 && ok3 && ok4
}
