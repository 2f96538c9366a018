package nn

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// ReLU is PyTorch's nn.ReLU: max(x, 0), with NaN propagated, and the gradient of PyTorch's
// threshold_backward: 0 where x ≤ 0 (at x = 0 too; GoMLX's Max-based Relu passes the gradient
// there) and the upstream gradient elsewhere. Built from LessOrEqual and Where.
func ReLU(x *Node) *Node {
	return Where(LessOrEqual(x, ZerosLike(x)), ZerosLike(x), x)
}

// LeakyReLU is PyTorch's nn.LeakyReLU(slope): x where x > 0, slope·x elsewhere; the gradient is 1
// where x > 0 and slope elsewhere (at x = 0 too, as PyTorch). DCGAN uses slope 0.2.
func LeakyReLU(x *Node, slope float64) *Node {
	return Where(GreaterThan(x, ZerosLike(x)), x, MulScalar(x, slope))
}
