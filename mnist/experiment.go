package mnist

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/metrics"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/train"
)

// Data holds the in-distribution splits and the OOD sets of a run, and the classifiers trained on it
// so far (one per regime: the confidence-loss classifier of the benchmark is also the pre-trained
// classifier of Figure 3(c)(d), trained once).
type Data struct {
	// Train and Test are the MNIST images used; the accuracy is measured on all of Test.
	Train, Test *Set
	// Calib (ValN images of Test) chooses ODIN's (T, ε); DetTest (the rest of Test) is the
	// in-distribution side of every detection metric, so that no image both chooses and is scored.
	Calib, DetTest *Set
	// OOD maps a set's name to its test images: letters A–J (Go fonts), uniform and Gaussian noise.
	OOD map[string]*Set
	// OODVal maps a set's name to ValN further images of the same kind, for ODIN's choice.
	OODVal map[string]*Set
	// OODNames lists OOD in report order.
	OODNames []string

	trained map[Regime]*trainedClassifier
}

// trainedClassifier is a classifier trained in ctx by one regime.
type trainedClassifier struct {
	ctx     *context.Context
	seconds float64
}

// LoadData loads MNIST (subsets as the config says) and builds the OOD test and validation sets.
func LoadData(cfg Config) (*Data, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opt := Options{Dir: cfg.DataDir, Download: cfg.Download, Channels: cfg.Channels, Subset: cfg.DataSubset}
	tr, err := Load("train", opt)
	if err != nil {
		return nil, err
	}
	te, err := Load("test", opt)
	if err != nil {
		return nil, err
	}
	d := &Data{
		Train: tr.Subset(cfg.TrainN, uint64(cfg.Seed)),
		Test:  te.Subset(cfg.TestN, uint64(cfg.Seed)+1),
		OOD:   map[string]*Set{}, OODVal: map[string]*Set{},
		OODNames: []string{"letters A-J (Go fonts)", "uniform noise", "Gaussian noise"},
		trained:  map[Regime]*trainedClassifier{},
	}
	if d.Calib, d.DetTest, err = d.Test.Split(min(cfg.ValN, d.Test.N/2), uint64(cfg.Seed)+2); err != nil {
		return nil, err
	}
	n := cfg.OODN + cfg.ValN
	letters, err := Letters(n, cfg.Channels, uint64(cfg.Seed)+7)
	if err != nil {
		return nil, err
	}
	for k, s := range []*Set{letters, UniformNoise(n, cfg.Channels, uint64(cfg.Seed)+8), GaussianNoise(n, cfg.Channels, uint64(cfg.Seed)+9)} {
		name := d.OODNames[k]
		if d.OODVal[name], d.OOD[name], err = s.Split(cfg.ValN, uint64(cfg.Seed)+20+uint64(k)); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// classifierNet is the simple CNN of the config.
func (c Config) classifierNet() models.Net {
	return models.Net{Scope: models.ClassifierScope, Fn: models.SimpleCNN(10, c.Conv1, c.Conv2, c.FC1, c.FC2)}
}

func (c Config) ganNets(prefix string) (gen, disc models.Net) {
	return models.Net{Scope: prefix + models.GeneratorScope, Fn: models.DCGANGenerator(c.Channels, c.GANWidth)},
		models.Net{Scope: prefix + models.DiscriminatorScope, Fn: models.DCGANDiscriminator(c.GANWidth)}
}

// batcher draws shuffled mini-batches of a Set, epoch by epoch.
type batcher struct {
	s     *Set
	r     *rand.Rand
	perm  []int
	pos   int
	batch int
}

func newBatcher(s *Set, batch int, r *rand.Rand) *batcher {
	return &batcher{s: s, r: r, batch: batch}
}

func (b *batcher) stepsPerEpoch() int { return max(1, b.s.N/b.batch) }

// next returns images [batch, C, H, W] and labels [batch].
func (b *batcher) next() (*tensors.Tensor, *tensors.Tensor) {
	per := b.s.C * b.s.H * b.s.W
	x := make([]float32, 0, b.batch*per)
	y := make([]int32, 0, b.batch)
	for range b.batch {
		if b.pos >= len(b.perm) {
			b.perm, b.pos = b.r.Perm(b.s.N), 0
		}
		i := b.perm[b.pos]
		b.pos++
		x = append(x, b.s.Image(i)...)
		y = append(y, int32(max(b.s.Labels[i], 0)))
	}
	return tensors.FromFlatDataAndDimensions(x, b.batch, b.s.C, b.s.H, b.s.W), tensors.FromFlatDataAndDimensions(y, b.batch)
}

func gaussianImages(r *rand.Rand, n, c, h, w int) *tensors.Tensor {
	v := make([]float32, n*c*h*w)
	for i := range v {
		v[i] = min(1, max(0, float32(0.5+r.NormFloat64())))
	}
	return tensors.FromFlatDataAndDimensions(v, n, c, h, w)
}

func latent(r *rand.Rand, n, d int) *tensors.Tensor {
	v := make([]float32, n*d)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(v, n, d)
}

// logitsOf runs the classifier over a set.
func logitsOf(b backends.Backend, ctx *context.Context, net models.Net, s *Set) ([][]float32, error) {
	p, err := models.NewPredictor(b, ctx, net, 100)
	if err != nil {
		return nil, err
	}
	return p.Outputs(s.Images, s.C, s.H, s.W)
}

func logProgress(w io.Writer, what string, i, total int, start time.Time, names []string, losses []float64, last *time.Time) {
	if w == nil || (i+1 != total && time.Since(*last) < 10*time.Second) {
		return
	}
	*last = time.Now()
	s := fmt.Sprintf("%s: step %d/%d (%.0fs)", what, i+1, total, time.Since(start).Seconds())
	for k, n := range names {
		s += fmt.Sprintf(" %s=%.4f", n, losses[k])
	}
	fmt.Fprintln(w, s)
}

// Regime names a way to train the classifier (the rows of the benchmark table).
type Regime string

// The classifier training regimes of the MNIST benchmark.
const (
	CrossEntropy    Regime = "cross entropy"
	ConfidenceNoise Regime = "confidence loss, Gaussian noise as seen OOD"
	JointConfidence Regime = "joint confidence loss (Algorithm 1)"
)

// regimes lists the benchmark's regimes in table order; a regime's classifier is initialised from
// seed cfg.Seed + its index.
var regimes = []Regime{CrossEntropy, ConfidenceNoise, JointConfidence}

// classifier returns the classifier of the regime, training it on first use.
func (d *Data) classifier(b backends.Backend, cfg Config, regime Regime, log io.Writer) (*trainedClassifier, error) {
	if t := d.trained[regime]; t != nil {
		return t, nil
	}
	k := slices.Index(regimes, regime)
	if k < 0 {
		return nil, errors.Errorf("unknown training regime %q", regime)
	}
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(cfg.Seed + k)); err != nil {
		return nil, err
	}
	secs, err := trainClassifier(b, ctx, cfg, d, regime, log)
	if err != nil {
		return nil, err
	}
	if d.trained == nil {
		d.trained = map[Regime]*trainedClassifier{}
	}
	t := &trainedClassifier{ctx: ctx, seconds: secs}
	d.trained[regime] = t
	return t, nil
}

// trainClassifier trains a fresh classifier in ctx with the regime and returns the seconds taken.
func trainClassifier(b backends.Backend, ctx *context.Context, cfg Config, d *Data, regime Regime, log io.Writer) (float64, error) {
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 11))
	net := cfg.classifierNet()
	opt := optim.Adam{Scope: net.Scope, LearningRate: cfg.LR}
	var step *train.Step
	var err error
	switch regime {
	case CrossEntropy, ConfidenceNoise:
		step, err = train.Classifier(b, ctx, train.ClassifierConfig{Net: net, Opt: opt, Beta: cfg.Beta})
	case JointConfidence:
		gen, disc := cfg.ganNets("")
		step, err = train.Joint(b, ctx, train.JointConfig{Net: net, Opt: opt, Beta: cfg.Beta, GAN: train.GANConfig{
			Generator: gen, Discriminator: disc,
			OptG: optim.Adam{Scope: gen.Scope, LearningRate: cfg.GANLR, Beta1: cfg.GANBeta1},
			OptD: optim.Adam{Scope: disc.Scope, LearningRate: cfg.GANLR, Beta1: cfg.GANBeta1}}})
	default:
		return 0, errors.Errorf("unknown training regime %q", regime)
	}
	if err != nil {
		return 0, errors.Wrap(err, string(regime))
	}
	bt := newBatcher(d.Train, cfg.Batch, r)
	total := bt.stepsPerEpoch() * cfg.Epochs
	start, last := time.Now(), time.Now()
	for i := range total {
		if cfg.DecayEpoch > 0 && i == cfg.DecayEpoch*bt.stepsPerEpoch() {
			if err := optim.SetLearningRate(ctx, net.Scope, cfg.LR*cfg.DecayFactor); err != nil {
				return 0, errors.Wrap(err, string(regime))
			}
		}
		x, y := bt.next()
		var inputs []any
		switch regime {
		case CrossEntropy:
			inputs = []any{x, y}
		case ConfidenceNoise:
			inputs = []any{x, y, gaussianImages(r, cfg.Batch, d.Train.C, d.Train.H, d.Train.W)}
		case JointConfidence:
			inputs = []any{x, y, latent(r, cfg.Batch, cfg.GANZ), latent(r, cfg.Batch, cfg.GANZ)}
		}
		losses, err := step.Run(inputs...)
		if err != nil {
			return 0, errors.Wrap(err, string(regime))
		}
		logProgress(log, string(regime), i, total, start, step.Names(), losses, &last)
	}
	return time.Since(start).Seconds(), nil
}

// Row is one trained classifier of the benchmark: its test accuracy and, on each OOD set (MNIST test
// images = positives), the metrics of the baseline detector and of ODIN.
type Row struct {
	Regime   Regime                    `json:"regime"`
	Accuracy float64                   `json:"accuracy"`
	Metrics  map[string]metrics.Report `json:"metrics"`
	// ODIN holds ODIN's metrics on each OOD set at the (T, ε) chosen on that set's validation images.
	ODIN    map[string]ODINResult `json:"odin,omitempty"`
	Seconds float64               `json:"train_seconds"`
}

// ODINResult is ODIN on one OOD set: the (T, ε) of least detection error on the validation images
// (Calib against the set's OODVal), that error, and the test metrics at that choice.
type ODINResult struct {
	T        float64        `json:"temperature"`
	Eps      float64        `json:"epsilon"`
	ValError float64        `json:"validation_detection_error"`
	Report   metrics.Report `json:"metrics"`
}

// evaluate computes the accuracy and the detection metrics (baseline and ODIN) of the classifier in ctx.
func evaluate(b backends.Backend, ctx *context.Context, cfg Config, d *Data, regime Regime, secs float64) (Row, error) {
	net := cfg.classifierNet()
	logits, err := logitsOf(b, ctx, net, d.Test)
	if err != nil {
		return Row{}, err
	}
	row := Row{Regime: regime, Metrics: map[string]metrics.Report{}, ODIN: map[string]ODINResult{}, Seconds: secs}
	if row.Accuracy, err = detect.Accuracy(logits, d.Test.Labels); err != nil {
		return row, err
	}
	if logits, err = logitsOf(b, ctx, net, d.DetTest); err != nil {
		return row, err
	}
	in := detect.Baseline(logits)
	for _, name := range d.OODNames {
		ol, err := logitsOf(b, ctx, net, d.OOD[name])
		if err != nil {
			return row, err
		}
		if row.Metrics[name], err = metrics.Compute(in, detect.Baseline(ol)); err != nil {
			return row, errors.Wrap(err, name)
		}
	}
	if row.ODIN, err = evaluateODIN(b, ctx, net, d); err != nil {
		return row, errors.Wrap(err, string(regime))
	}
	return row, nil
}

// evaluateODIN runs ODIN (App. C.3) on every OOD set: (T, ε) chosen on the paper's grid
// T ∈ {1,10,100,500,1000} × ε ∈ {0,1e-4,1e-3,1e-2} by the detection error between Calib and the
// set's validation images, then the test metrics (DetTest against the set's test images) there.
func evaluateODIN(b backends.Backend, ctx *context.Context, net models.Net, d *Data) (map[string]ODINResult, error) {
	o, err := detect.NewODIN(b, ctx, net, 100)
	if err != nil {
		return nil, err
	}
	dims := []int{d.Test.C, d.Test.H, d.Test.W}
	grid := detect.ODINGrid()
	inVal, err := o.GridScores(d.Calib.Images, grid, dims...)
	if err != nil {
		return nil, errors.Wrap(err, "ODIN on the MNIST validation images")
	}
	inTest := map[detect.ODINParams][]float64{}
	out := map[string]ODINResult{}
	for _, name := range d.OODNames {
		outVal, err := o.GridScores(d.OODVal[name].Images, grid, dims...)
		if err != nil {
			return nil, errors.Wrapf(err, "ODIN on %s", name)
		}
		best, _, err := detect.SelectODIN(grid, func(p detect.ODINParams) ([]float64, []float64, error) {
			i := slices.Index(grid, p)
			return inVal[i], outVal[i], nil
		})
		if err != nil {
			return nil, errors.Wrapf(err, "ODIN on %s", name)
		}
		p := best.ODINParams
		if inTest[p] == nil {
			if inTest[p], err = o.Scores(d.DetTest.Images, p.T, p.Eps, dims...); err != nil {
				return nil, err
			}
		}
		os, err := o.Scores(d.OOD[name].Images, p.T, p.Eps, dims...)
		if err != nil {
			return nil, err
		}
		rep, err := metrics.Compute(inTest[p], os)
		if err != nil {
			return nil, errors.Wrapf(err, "ODIN on %s", name)
		}
		out[name] = ODINResult{T: p.T, Eps: p.Eps, ValError: best.DetectionError, Report: rep}
	}
	return out, nil
}

// RunBenchmark trains one classifier per regime (or reuses the one already trained on d) and
// evaluates each (the Table-1-style benchmark, with ODIN beside the baseline).
func RunBenchmark(b backends.Backend, cfg Config, d *Data, log io.Writer) ([]Row, error) {
	var rows []Row
	for _, regime := range regimes {
		t, err := d.classifier(b, cfg, regime, log)
		if err != nil {
			return nil, err
		}
		row, err := evaluate(b, t.ctx, cfg, d, regime, t.seconds)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}
