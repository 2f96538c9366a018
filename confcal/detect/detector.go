package detect

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/models"
)

// Detector is an out-of-distribution detector over a trained network. Scores returns one score per
// example, higher for more in-distribution (in-distribution iff score ≥ δ, the convention of
// package metrics), for x a flat float32 array of examples of the given dimensions (as
// models.Predictor.Outputs takes it: [2] for 2D points, [3, 32, 32] for images). The network runs in
// inference mode and no variable is changed.
type Detector interface {
	// Name identifies the detector and its settings, e.g. "baseline" or "odin(T=1000,eps=0.001)".
	Name() string
	// Scores returns the score of each example of x.
	Scores(x []float32, exampleDims ...int) ([]float64, error)
}

// NewBaselineDetector returns the baseline detector (Hendrycks & Gimpel 2017) of net, named
// "baseline": the maximum softmax probability of its logits (Baseline), computed in batches of
// batchSize examples by a models.Predictor.
func NewBaselineDetector(b backends.Backend, ctx *context.Context, net models.Net, batchSize int) (Detector, error) {
	return newLogitDetector("baseline", Baseline, b, ctx, net, batchSize)
}

// NewKPlusOneDetector returns the detector of a classifier with an extra out-of-distribution class
// (App. E), named "k+1": 1 − p(K+1|x), the last logit being that class (KPlusOne), computed in
// batches of batchSize examples by a models.Predictor.
func NewKPlusOneDetector(b backends.Backend, ctx *context.Context, net models.Net, batchSize int) (Detector, error) {
	return newLogitDetector("k+1", KPlusOne, b, ctx, net, batchSize)
}

// NewODINDetector returns ODIN at the fixed point p = (T, ε) (see ODIN), named
// "odin(T=…,eps=…)", on batches of batchSize examples. To choose (T, ε) first, use NewODIN, Tune
// and then At, which reuses the compiled graphs.
func NewODINDetector(b backends.Backend, ctx *context.Context, net models.Net, batchSize int, p ODINParams) (Detector, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	o, err := NewODIN(b, ctx, net, batchSize)
	if err != nil {
		return nil, err
	}
	return o.At(p)
}

// At returns the Detector of ODIN at the fixed point p = (T, ε): its scores are Scores(x, p.T,
// p.Eps, exampleDims...). It shares o's compiled graphs (and their one example shape).
func (o *ODIN) At(p ODINParams) (Detector, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return odinAt{o: o, p: p}, nil
}

// odinAt is ODIN at one grid point.
type odinAt struct {
	o *ODIN
	p ODINParams
}

func (d odinAt) Name() string { return fmt.Sprintf("odin(T=%g,eps=%g)", d.p.T, d.p.Eps) }

func (d odinAt) Scores(x []float32, exampleDims ...int) ([]float64, error) {
	return d.o.Scores(x, d.p.T, d.p.Eps, exampleDims...)
}

// logitDetector scores each example by a function of its logits.
type logitDetector struct {
	name  string
	score func(logits [][]float32) []float64
	pred  *models.Predictor
}

func newLogitDetector(name string, score func([][]float32) []float64, b backends.Backend, ctx *context.Context, net models.Net, batchSize int) (Detector, error) {
	pred, err := models.NewPredictor(b, ctx, net, batchSize)
	if err != nil {
		return nil, errors.WithMessagef(err, "%s detector", name)
	}
	return &logitDetector{name: name, score: score, pred: pred}, nil
}

func (d *logitDetector) Name() string { return d.name }

func (d *logitDetector) Scores(x []float32, exampleDims ...int) ([]float64, error) {
	logits, err := d.pred.Outputs(x, exampleDims...)
	if err != nil {
		return nil, errors.WithMessagef(err, "%s detector", d.name)
	}
	if len(logits) > 0 && len(logits[0]) < 2 {
		return nil, errors.Errorf("%s detector needs logits [n, K>=2], the network gives %d value(s) per example", d.name, len(logits[0]))
	}
	return d.score(logits), nil
}
