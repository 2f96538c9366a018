package toy2d

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/models"
)

// mlp returns the network of the 2D experiments: `layers` hidden layers of `hidden` ReLU units.
func (c Config) mlp(scope string, outputs int) models.Net {
	h := make([]int, c.Layers)
	for i := range h {
		h[i] = c.Hidden
	}
	return models.Net{Scope: scope, Fn: models.MLP(h, outputs)}
}

// newModelContext returns a fresh context whose random initialisation follows seed.
func newModelContext(seed int) (*context.Context, error) {
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(seed)); err != nil {
		return nil, err
	}
	return ctx, nil
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

func gaussianTensor(r *rand.Rand, n, d int) *tensors.Tensor {
	z := make([]float32, n*d)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(z, n, d)
}

// evalClassifier returns the classifier's logits on pts.
func evalClassifier(b backends.Backend, ctx *context.Context, net models.Net, pts [][2]float64) ([][]float32, error) {
	p, err := models.NewPredictor(b, ctx, net, 1024)
	if err != nil {
		return nil, err
	}
	return p.Outputs(flatten(pts), 2)
}

// progress prints a line at most every interval, and always at the last step.
type progress struct {
	w        io.Writer
	what     string
	total    int
	start    time.Time
	last     time.Time
	interval time.Duration
}

func newProgress(w io.Writer, what string, total int) *progress {
	now := time.Now()
	return &progress{w: w, what: what, total: total, start: now, last: now, interval: 5 * time.Second}
}

func (p *progress) step(i int, names []string, losses []float64) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if i+1 != p.total && now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	s := fmt.Sprintf("%s: step %d/%d (%.1fs)", p.what, i+1, p.total, now.Sub(p.start).Seconds())
	for k, n := range names {
		s += fmt.Sprintf(" %s=%.4f", n, losses[k])
	}
	fmt.Fprintln(p.w, s)
}
