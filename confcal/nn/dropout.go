package nn

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Dropout is PyTorch's nn.Dropout(p): in training mode (ctx.IsTraining) each entry of x is zeroed
// independently with probability p and the kept ones are scaled by 1/(1−p), so the expectation is
// unchanged; in inference mode it returns x. p = 1 gives zeros, p = 0 the identity.
//
// The random bits come from ctx's random number generator (ctx.RandomUniform, the RNGBitGenerator
// op, which simplego supports), whose state variable advances with every execution: each training
// step draws a fresh mask. An entry is kept when its uniform draw u ∈ [0, 1) has u ≥ p. The uniform
// draws are float64 for float64 x and float32 otherwise. The gradient w.r.t. x is the same mask
// times 1/(1−p).
func Dropout(ctx *context.Context, x *Node, p float64) *Node {
	if p < 0 || p > 1 || math.IsNaN(p) {
		panic(fmt.Errorf("nn.Dropout: drop rate p=%g outside [0, 1]", p))
	}
	g := x.Graph()
	if !ctx.IsTraining(g) || p == 0 {
		return x
	}
	if p == 1 {
		return ZerosLike(x)
	}
	udtype := dtypes.Float32
	if x.DType() == dtypes.Float64 {
		udtype = dtypes.Float64
	}
	u := ctx.RandomUniform(g, shapes.Make(udtype, x.Shape().Dimensions...))
	keep := GreaterOrEqual(u, Scalar(g, udtype, p))
	return Where(keep, MulScalar(x, 1/(1-p)), ZerosLike(x))
}
