// Package models holds the networks of the paper as GoMLX graph functions: the fully-connected
// networks of the 2D experiments (Section 2, Figures 1 and 3(a)(b): 2 hidden layers of 500 ReLU
// units), and, with later experiments, the convolutional ones of App. B.
//
// A model is a function of a context and an input node; the caller chooses the scope (see train.Net),
// so the same function can serve as classifier, generator or discriminator.
package models

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
)

// Fn is the signature of every model: variables are created in (or reused from) ctx's scope.
type Fn = func(ctx *context.Context, x *Node) *Node

// MLP returns a fully-connected network with the given hidden layer widths, ReLU after each hidden
// layer and a linear output layer of `outputs` units. The input [batch, ...] is flattened first.
// Layer i's variables live in scope "layer_i".
func MLP(hidden []int, outputs int) Fn {
	return func(ctx *context.Context, x *Node) *Node {
		if x.Rank() > 2 {
			x = Reshape(x, x.Shape().Dimensions[0], -1)
		}
		for i, h := range hidden {
			x = activations.Relu(layers.DenseWithBias(ctx.In(fmt.Sprintf("layer_%d", i)), x, h))
		}
		return layers.DenseWithBias(ctx.In(fmt.Sprintf("layer_%d", len(hidden))), x, outputs)
	}
}
