package nn

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
)

const (
	// BatchNormMomentum is the weight of the batch statistics in the running statistics' update,
	// PyTorch's default: running = (1−m)·running + m·batch.
	BatchNormMomentum = 0.1
	// BatchNormEpsilon is added to the variance before the square root, PyTorch's default.
	BatchNormEpsilon = 1e-5
)

// BatchNorm is PyTorch's nn.BatchNorm2d(C) for x [B, C, H, W] and nn.BatchNorm1d(C) for x [B, C]
// (affine, tracking running statistics, momentum 0.1, eps 1e-5): y = (x − μ)/√(σ² + ε)·γ + β per
// channel C.
//
// Variables, [C] in x's dtype, in ctx's scope: "scale" (γ, initialised to 1) and "offset" (β, 0),
// trainable; "mean" (0) and "variance" (1), the running statistics, not trainable.
//
// Training mode (ctx.IsTraining(g)): μ and σ² are the mean and the biased variance of the batch over
// B (and H, W); the running statistics are updated, through Variable.SetValueGraph, to
// (1−m)·running + m·batch, with the unbiased batch variance (·n/(n−1), n = B·H·W) for "variance",
// as PyTorch. Each call in a graph is one update (PyTorch's one forward pass), so applying the
// layer twice in a graph (e.g. a discriminator on real and fake batches) updates them twice, the
// second from the first. Training needs n ≥ 2, as PyTorch.
//
// Inference mode: μ and σ² are the running statistics.
//
// It is built from elementwise ops and reductions (no BatchNorm* backend op, which simplego lacks),
// so the gradient w.r.t. x, γ and β comes from autodiff; in training mode it includes the
// dependence of μ and σ² on x.
func BatchNorm(ctx *context.Context, x *Node) *Node {
	if x.Rank() != 2 && x.Rank() != 4 {
		panic(fmt.Errorf("nn.BatchNorm takes x [batch, channels] or [batch, channels, height, width], got %s", x.Shape()))
	}
	if !x.DType().IsFloat() {
		panic(fmt.Errorf("nn.BatchNorm takes a float tensor, got %s", x.Shape()))
	}
	g := x.Graph()
	dtype := x.DType()
	channels := x.Shape().Dimensions[1]
	varShape := shapes.Make(dtype, channels)
	scaleVar := ctx.WithInitializer(initializers.One).VariableWithShape("scale", varShape)
	offsetVar := ctx.WithInitializer(initializers.Zero).VariableWithShape("offset", varShape)
	meanVar := ctx.WithInitializer(initializers.Zero).VariableWithShape("mean", varShape).SetTrainable(false)
	varianceVar := ctx.WithInitializer(initializers.One).VariableWithShape("variance", varShape).SetTrainable(false)

	// Per-channel [C] values broadcast against x: [1, C] or [1, C, 1, 1].
	axes := []int{0}
	bdims := []int{1, channels}
	if x.Rank() == 4 {
		axes = []int{0, 2, 3}
		bdims = []int{1, channels, 1, 1}
	}
	perChannel := func(v *Node) *Node { return Reshape(v, bdims...) }

	var centered, variance *Node
	if ctx.IsTraining(g) {
		n := x.Shape().Size() / channels
		if n < 2 {
			panic(fmt.Errorf("nn.BatchNorm: expected more than 1 value per channel when training, got input %s", x.Shape()))
		}
		mean := ReduceAndKeep(x, ReduceMean, axes...)
		centered = Sub(x, mean)
		variance = ReduceAndKeep(Square(centered), ReduceMean, axes...)

		m := BatchNormMomentum
		batchMean := StopGradient(Reshape(mean, channels))
		batchVar := MulScalar(StopGradient(Reshape(variance, channels)), float64(n)/float64(n-1))
		meanVar.SetValueGraph(Add(MulScalar(meanVar.ValueGraph(g), 1-m), MulScalar(batchMean, m)))
		varianceVar.SetValueGraph(Add(MulScalar(varianceVar.ValueGraph(g), 1-m), MulScalar(batchVar, m)))
	} else {
		centered = Sub(x, perChannel(meanVar.ValueGraph(g)))
		variance = perChannel(varianceVar.ValueGraph(g))
	}
	// scale/√(var+ε) is folded into one per-channel factor, so that the full-size tensor goes
	// through one Mul and one Add (and their gradients) rather than a Div, a Mul and an Add.
	k := Div(perChannel(scaleVar.ValueGraph(g)), Sqrt(AddScalar(variance, BatchNormEpsilon)))
	return Add(Mul(centered, k), perChannel(offsetVar.ValueGraph(g)))
}
