// Package models holds the networks of the paper as GoMLX graph functions: the fully-connected
// networks of the 2D experiments (Section 2, Figures 1 and 3(a)(b): 2 hidden layers of 500 ReLU
// units), and, with later experiments, the convolutional ones of App. B.
//
// A model is a function of a context and an input node; the caller chooses the scope (see Net),
// so the same function can serve as classifier, generator or discriminator.
package models

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"

	_ "github.com/confcal/confcal/confcal/gradfix" // matrix-product gradients without an [i,j,k] temporary
	"github.com/confcal/confcal/confcal/nn"
)

// Fn is the signature of every model: variables are created in (or reused from) ctx's scope.
type Fn = func(ctx *context.Context, x *Node) *Node

// MLP returns a fully-connected network with the given hidden layer widths, ReLU after each hidden
// layer and a linear output layer of `outputs` units. The input [batch, ...] is flattened first.
// With the context parameter nn.ParamGuidedReLU set the ReLUs are nn.GuidedReLU (the same values),
// for guided-backpropagation maps; otherwise GoMLX's activations.Relu, as before.
// Layer i's variables live in scope "layer_i".
func MLP(hidden []int, outputs int) Fn {
	return func(ctx *context.Context, x *Node) *Node {
		if x.Rank() > 2 {
			x = Reshape(x, x.Shape().Dimensions[0], -1)
		}
		relu := activations.Relu
		if nn.GuidedEnabled(ctx, x.Graph()) {
			relu = nn.GuidedReLU
		}
		for i, h := range hidden {
			x = relu(Dense(ctx.In(fmt.Sprintf("layer_%d", i)), x, h))
		}
		return Dense(ctx.In(fmt.Sprintf("layer_%d", len(hidden))), x, outputs)
	}
}

// Dense is a fully-connected layer x·W + b for x [batch, in], with variables "weights" [in, out] and
// "biases" [out] in ctx's scope. Both are initialised as PyTorch's nn.Linear (the authors' code):
// uniform in ±1/√in. Random biases matter for the 2D toy: with zero biases every ReLU boundary of
// the first layer passes through the origin and the confidence maps come out as rays from it.
func Dense(ctx *context.Context, x *Node, outputs int) *Node {
	if x.Rank() != 2 {
		panic(fmt.Errorf("models.Dense takes [batch, features], got %s", x.Shape()))
	}
	in := x.Shape().Dimensions[1]
	bound := 1 / math.Sqrt(float64(in))
	ctx = ctx.WithInitializer(initializers.RandomUniformFn(ctx, -bound, bound))
	w := ctx.VariableWithShape("weights", shapes.Make(x.DType(), in, outputs)).ValueGraph(x.Graph())
	b := ctx.VariableWithShape("biases", shapes.Make(x.DType(), outputs)).ValueGraph(x.Graph())
	return Add(Dot(x, w), InsertAxes(b, 0))
}
