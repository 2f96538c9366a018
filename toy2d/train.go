package toy2d

import (
	"io"
	"math/rand/v2"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/loop"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/train"
)

// mlp returns the network of the 2D experiments: `layers` hidden layers of `hidden` ReLU units.
func (c Config) mlp(scope string, outputs int) models.Net {
	h := make([]int, c.Layers)
	for i := range h {
		h[i] = c.Hidden
	}
	return models.Net{Scope: scope, Fn: models.MLP(h, outputs)}
}

// batchOf draws a mini-batch of n labelled points (with replacement) as tensors.
func batchOf(r *rand.Rand, data Labelled, n int) (*tensors.Tensor, *tensors.Tensor) {
	x := make([]float32, 0, 2*n)
	y := make([]int32, 0, n)
	for range n {
		i := r.IntN(len(data.X))
		x = append(x, float32(data.X[i][0]), float32(data.X[i][1]))
		y = append(y, int32(data.Y[i]))
	}
	return tensors.FromFlatDataAndDimensions(x, n, 2), tensors.FromFlatDataAndDimensions(y, n)
}

func pointsTensor(pts [][2]float64) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(flatten(pts), len(pts), 2)
}

// evalClassifier returns the classifier's logits on pts.
func evalClassifier(b backends.Backend, ctx *context.Context, net models.Net, pts [][2]float64) ([][]float32, error) {
	p, err := models.NewPredictor(b, ctx, net, 1024)
	if err != nil {
		return nil, err
	}
	return p.Outputs(flatten(pts), 2)
}

// runSteps trains step for epochs epochs of stepsPerEpoch steps, each step's inputs from inputs
// (drawn from the run's one random stream, in order), with progress events on log.
func runSteps(name string, ctx *context.Context, step *train.Step, epochs, stepsPerEpoch int, log io.Writer,
	inputs func() ([]any, error)) ([]float64, error) {
	st, err := loop.Loop{Name: name, Ctx: ctx, Step: step, Epochs: epochs, Progress: loop.ProgressFor(log),
		Epoch: func(int) (loop.Epoch, error) {
			return loop.Epoch{Steps: stepsPerEpoch, Inputs: func(int) ([]any, error) { return inputs() }}, nil
		}}.Run(loop.State{})
	return st.Losses, err
}
