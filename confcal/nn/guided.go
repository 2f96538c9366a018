package nn

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// ParamGuidedReLU is the context parameter (bool) that turns the ReLUs built by ReLUCtx into guided
// ReLUs (see GuidedReLU), for guided-backpropagation maps (paper Figure 5). It is read first as a
// graph parameter (Context.SetGraphParam; SetGuided sets it for one graph) and, if that is not set
// for the graph, as an ordinary context parameter (Context.SetParam, which applies to every graph
// built from the context). Both are scoped: they are looked up from the calling scope up to the root.
// Unset means false.
const ParamGuidedReLU = "guided_relu"

// GuidedEnabled reports whether ReLUCtx builds guided ReLUs in g: the graph parameter
// ParamGuidedReLU of ctx for g if it is set, else the context parameter ParamGuidedReLU, else false.
// A graph parameter set to false therefore overrides a context parameter set to true.
func GuidedEnabled(ctx *context.Context, g *Graph) bool {
	if _, found := ctx.GetGraphParam(g, ParamGuidedReLU); found {
		return context.MustGetGraphParam[bool](ctx, g, ParamGuidedReLU)
	}
	return context.GetParamOr(ctx, ParamGuidedReLU, false)
}

// SetGuided sets the graph parameter ParamGuidedReLU for g at ctx's root scope, so that every
// network built in g from ctx (whatever its scope) uses guided ReLUs (on = true) or plain ones
// (on = false, regardless of the context parameter). Other graphs built from ctx are not affected.
func SetGuided(ctx *context.Context, g *Graph, on bool) {
	ctx.InAbsPath(context.RootScope).SetGraphParam(g, ParamGuidedReLU, on)
}

// ReLUCtx is the ReLU of the models: ReLU(x) unless GuidedEnabled(ctx, x.Graph()), in which case it
// is GuidedReLU(x). The forward values are the same in both modes, bit for bit; only the gradient
// differs.
func ReLUCtx(ctx *context.Context, x *Node) *Node {
	if GuidedEnabled(ctx, x.Graph()) {
		return GuidedReLU(x)
	}
	return ReLU(x)
}

// GuidedReLU is the ReLU of guided backpropagation (Springenberg et al., 2015, "Striving for
// simplicity"): its forward value is ReLU(x) (bit-identical), and its backward pass lets through the
// upstream gradient v only where both the input was positive and v is positive:
//
//	∂/∂x = v · [x > 0] · [v > 0]
//
// (ReLU's own gradient masks by the input; the guided rule also masks by the sign of the gradient
// coming from above). It is ReLU followed by an identity whose custom gradient zeroes the negative
// (and NaN) entries of v, so it uses only Identity, Where, GreaterThan and LessOrEqual.
func GuidedReLU(x *Node) *Node {
	return IdentityWithCustomGradient(ReLU(x), func(_, v *Node) *Node {
		zeros := ZerosLike(v)
		return Where(GreaterThan(v, zeros), v, zeros)
	})
}
