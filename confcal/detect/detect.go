// Package detect turns a trained classifier into an out-of-distribution detector (App. A of the
// paper): it computes the classifier's logits on a data set in inference mode, and the score that a
// threshold δ separates (in-distribution iff score ≥ δ):
//
//   - Baseline: the maximum of the softmax, q(x) = max_y p(y|x) (Hendrycks & Gimpel, 2017), the
//     detector of all the paper's main tables;
//
//   - KPlusOne: 1 - p(K+1|x) for a classifier with an extra out-of-distribution class (App. E).
//
//   - ODIN (odin.go, App. C.3, Figure 7): the maximum softmax at temperature T of the input moved by ε
//     against the gradient of the top class's log-softmax, with (T, ε) chosen on validation data.
package detect

import (
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/train"
)

// Predictor computes a network's outputs in inference mode, in fixed-size batches so that one
// compiled graph serves every call.
type Predictor struct {
	exec      *context.Exec
	batchSize int
}

// NewPredictor compiles (lazily, on first use) the network's inference graph for batches of
// batchSize examples.
func NewPredictor(b backends.Backend, ctx *context.Context, net train.Net, batchSize int) (*Predictor, error) {
	if batchSize < 1 {
		return nil, errors.Errorf("predictor batch size must be >= 1, got %d", batchSize)
	}
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x *Node) *Node {
		ctx.SetTraining(x.Graph(), false)
		return net.Apply(ctx, x)
	})
	if err != nil {
		return nil, err
	}
	return &Predictor{exec: exec, batchSize: batchSize}, nil
}

// Outputs runs the network over x, a flat float32 array of n examples each of the given example
// dimensions (e.g. [2] for 2D points, [3,32,32] for images), and returns one output row per example
// (the example's outputs flattened: logits, or a generated image).
// The last batch is padded with zeros and the padding's outputs dropped.
func (p *Predictor) Outputs(x []float32, exampleDims ...int) ([][]float32, error) {
	per := 1
	for _, d := range exampleDims {
		if d < 1 {
			return nil, errors.Errorf("example dimensions must be >= 1, got %v", exampleDims)
		}
		per *= d
	}
	if len(exampleDims) == 0 || len(x)%per != 0 {
		return nil, errors.Errorf("input of %d values is not a whole number of examples of shape %v", len(x), exampleDims)
	}
	n := len(x) / per
	out := make([][]float32, 0, n)
	buf := make([]float32, p.batchSize*per)
	dims := append([]int{p.batchSize}, exampleDims...)
	for start := 0; start < n; start += p.batchSize {
		end := min(start+p.batchSize, n)
		clear(buf)
		copy(buf, x[start*per:end*per])
		res, err := p.exec.Exec(tensors.FromFlatDataAndDimensions(buf, dims...))
		if err != nil {
			return nil, err
		}
		t := res[0]
		if t.Rank() < 2 || t.Shape().Dimensions[0] != p.batchSize {
			return nil, errors.Errorf("network output has shape %s, want [%d, ...]", t.Shape(), p.batchSize)
		}
		flat := tensors.MustCopyFlatData[float32](t)
		t.FinalizeAll()
		k := len(flat) / p.batchSize
		for i := 0; i < end-start; i++ {
			out = append(out, flat[i*k:(i+1)*k:(i+1)*k])
		}
	}
	return out, nil
}

// Baseline returns max_y softmax(logits)_y for each row (the baseline detector's score).
func Baseline(logits [][]float32) []float64 {
	s := make([]float64, len(logits))
	for i, row := range logits {
		s[i] = maxSoftmax(row)
	}
	return s
}

// KPlusOne returns 1 - p(K+1|x) for each row, the last logit being the out-of-distribution class.
func KPlusOne(logits [][]float32) []float64 {
	s := make([]float64, len(logits))
	for i, row := range logits {
		m, sum := logSumExpParts(row)
		last := math.Exp(float64(row[len(row)-1])-m) / sum
		s[i] = 1 - last
	}
	return s
}

// Predictions returns the argmax class of each row (over the first k columns; k <= 0 means all).
func Predictions(logits [][]float32, k int) []int {
	pred := make([]int, len(logits))
	for i, row := range logits {
		if k > 0 && k < len(row) {
			row = row[:k]
		}
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		pred[i] = best
	}
	return pred
}

// Accuracy is the fraction of rows whose argmax equals the label.
func Accuracy(logits [][]float32, labels []int) (float64, error) {
	if len(logits) != len(labels) || len(labels) == 0 {
		return 0, errors.Errorf("accuracy needs as many labels as logit rows (> 0), got %d and %d", len(labels), len(logits))
	}
	correct := 0
	for i, p := range Predictions(logits, 0) {
		if p == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(labels)), nil
}

func maxSoftmax(row []float32) float64 {
	m, sum := logSumExpParts(row)
	_ = m
	return 1 / sum // exp(max - max) / Σ exp(z - max)
}

// logSumExpParts returns max(z) and Σ exp(z - max(z)).
func logSumExpParts(row []float32) (float64, float64) {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	sum := 0.0
	for _, v := range row {
		sum += math.Exp(float64(v) - m)
	}
	return m, sum
}

// Sample draws n outputs G(z) of a generator in inference mode, with latent codes z ~ N(0, I) of
// dimension zDim drawn from r (n·zDim normal draws, in order), in batches of batchSize. Each output
// is one sample, flattened.
func Sample(b backends.Backend, ctx *context.Context, gen train.Net, r *rand.Rand, n, zDim, batchSize int) ([][]float32, error) {
	if n < 1 || zDim < 1 {
		return nil, errors.Errorf("Sample needs n >= 1 and zDim >= 1, got %d and %d", n, zDim)
	}
	p, err := NewPredictor(b, ctx, gen, batchSize)
	if err != nil {
		return nil, err
	}
	z := make([]float32, n*zDim)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	return p.Outputs(z, zDim)
}
