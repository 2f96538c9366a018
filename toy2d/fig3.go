package toy2d

import (
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/loop"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/train"
)

// SampleStats summarises where a generator's samples fall relative to the target mixture.
type SampleStats struct {
	// MeanLogDensity and MedianLogDensity of the samples under the true mixture.
	MeanLogDensity   float64 `json:"mean_log_density"`
	MedianLogDensity float64 `json:"median_log_density"`
	// HighDensityShare is the share of samples within 2 sigmas of a component (the high-density area).
	HighDensityShare float64 `json:"high_density_share"`
	// InsideBoxShare is the share of samples inside [-fig3_box, fig3_box]².
	InsideBoxShare float64 `json:"inside_box_share"`
	// ModeShares[k] is the share of samples nearest to component k.
	ModeShares []float64 `json:"mode_shares"`
	// MeanMaxSoftmax is the pre-trained classifier's mean confidence on the samples.
	MeanMaxSoftmax float64 `json:"mean_max_softmax"`
}

// Fig3Result holds Figure 3(a)(b): samples of the original and of the proposed GAN.
type Fig3Result struct {
	Config  Config `json:"config"`
	Backend string `json:"backend"`
	// ClassifierAccuracy is the pre-trained classifier's accuracy on fresh target samples (which
	// component a point came from).
	ClassifierAccuracy float64 `json:"classifier_accuracy"`
	// ClassifierOODConfidence is its mean max-softmax on fresh rejection samples of the box.
	ClassifierOODConfidence float64      `json:"classifier_ood_confidence"`
	Data                    [][2]float64 `json:"data"` // a subsample of the target, for the plot
	Original                [][2]float64 `json:"original"`
	Proposed                [][2]float64 `json:"proposed"`
	OriginalStats           SampleStats  `json:"original_stats"`
	ProposedStats           SampleStats  `json:"proposed_stats"`
	DataStats               SampleStats  `json:"data_stats"`
	OriginalLosses          []float64    `json:"original_final_losses"` // discriminator, generator
	ProposedLosses          []float64    `json:"proposed_final_losses"`
	Seconds                 struct {
		Pretrain float64 `json:"pretrain"`
		Original float64 `json:"original"`
		Proposed float64 `json:"proposed"`
	} `json:"seconds"`
}

// Scopes of the Figure 3 networks, all in one context.
const (
	origGenScope  = "original_generator"
	origDiscScope = "original_discriminator"
)

// RunFig3 pre-trains the classifier, then trains the original GAN (eq. 2) and the proposed GAN
// (eq. 3, against the frozen classifier) on the same target, and samples both.
func RunFig3(b backends.Backend, cfg Config, log io.Writer) (*Fig3Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := cfg.Fig3
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 3))
	data := f.Target.Sample(r, f.NPerClass)
	stepsPerEpoch := max(1, len(data.X)/f.Batch)
	ctx, err := loop.NewContext(int64(cfg.Seed))
	if err != nil {
		return nil, err
	}
	res := &Fig3Result{Config: cfg, Backend: b.Name()}
	cls := cfg.mlp(models.ClassifierScope, 2)

	// Pre-train the classifier: CE on the target + β KL on fresh rejection samples of the box.
	start := time.Now()
	if err := pretrainFig3Classifier(b, ctx, cfg, r, data, cls, stepsPerEpoch, log); err != nil {
		return nil, err
	}
	res.Seconds.Pretrain = time.Since(start).Seconds()
	test := f.Target.Sample(r, 500)
	logits, err := evalClassifier(b, ctx, cls, test.X)
	if err != nil {
		return nil, err
	}
	if res.ClassifierAccuracy, err = detect.Accuracy(logits, test.Y); err != nil {
		return nil, err
	}
	oodTest, err := RejectionSample(r, f.Target, f.Box, f.Margin, 1000)
	if err != nil {
		return nil, err
	}
	if logits, err = evalClassifier(b, ctx, cls, oodTest); err != nil {
		return nil, err
	}
	res.ClassifierOODConfidence = mean(detect.Baseline(logits))

	// The two GANs.
	for _, proposed := range []bool{false, true} {
		gen := cfg.mlp(origGenScope, 2)
		disc := cfg.mlp(origDiscScope, 1)
		name := "original GAN"
		gc := train.GANConfig{Saturating: f.Saturating}
		if proposed {
			gen, disc, name = cfg.mlp(models.GeneratorScope, 2), cfg.mlp(models.DiscriminatorScope, 1), "proposed GAN"
			gc.Classifier, gc.Beta = cls, cfg.Beta
		}
		gc.Generator, gc.Discriminator = gen, disc
		gc.OptG = optim.Adam{Scope: gen.Scope, LearningRate: f.LR, Beta1: f.AdamBeta1}
		gc.OptD = optim.Adam{Scope: disc.Scope, LearningRate: f.LR, Beta1: f.AdamBeta1}
		step, err := train.GAN(b, ctx, gc)
		if err != nil {
			return nil, errors.Wrap(err, name)
		}
		start := time.Now()
		losses, err := runSteps("figure 3 "+name, ctx, step, f.Epochs, stepsPerEpoch, log, func() ([]any, error) {
			x, _ := batchOf(r, data, f.Batch)
			return []any{x, loop.Latent(r, f.Batch, f.Z)}, nil
		})
		if err != nil {
			return nil, errors.Wrap(err, name)
		}
		secs := time.Since(start).Seconds()
		samples, err := sampleGenerator(b, ctx, gen, r, f.Samples, f.Z)
		if err != nil {
			return nil, errors.Wrap(err, name)
		}
		if proposed {
			res.Proposed, res.ProposedLosses, res.Seconds.Proposed = samples, losses, secs
		} else {
			res.Original, res.OriginalLosses, res.Seconds.Original = samples, losses, secs
		}
	}
	res.Data = f.Target.Sample(r, f.Samples/len(f.Target)).X
	for _, s := range []struct {
		pts [][2]float64
		out *SampleStats
	}{{res.Original, &res.OriginalStats}, {res.Proposed, &res.ProposedStats}, {res.Data, &res.DataStats}} {
		if *s.out, err = sampleStats(b, ctx, cls, f, s.pts); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func pretrainFig3Classifier(b backends.Backend, ctx *context.Context, cfg Config, r *rand.Rand, data Labelled,
	cls models.Net, stepsPerEpoch int, log io.Writer) error {
	f := cfg.Fig3
	step, err := train.Classifier(b, ctx, train.ClassifierConfig{
		Net: cls, Opt: optim.Adam{Scope: cls.Scope, LearningRate: f.PretrainLR}, Beta: cfg.Beta})
	if err != nil {
		return err
	}
	_, err = runSteps("figure 3 classifier pre-training", ctx, step, f.PretrainEpochs, stepsPerEpoch, log, func() ([]any, error) {
		x, y := batchOf(r, data, f.Batch)
		ood, err := RejectionSample(r, f.Target, f.Box, f.Margin, f.Batch)
		if err != nil {
			return nil, err
		}
		return []any{x, y, pointsTensor(ood)}, nil
	})
	return errors.Wrap(err, "classifier pre-training")
}

// sampleGenerator draws n samples G(z), z ~ N(0, I).
func sampleGenerator(b backends.Backend, ctx *context.Context, gen models.Net, r *rand.Rand, n, zDim int) ([][2]float64, error) {
	rows, err := models.Sample(b, ctx, gen, r, n, zDim, 1024)
	if err != nil {
		return nil, err
	}
	pts := make([][2]float64, len(rows))
	for i, row := range rows {
		if len(row) != 2 {
			return nil, errors.Errorf("generator outputs %d values per sample, want 2", len(row))
		}
		pts[i] = [2]float64{float64(row[0]), float64(row[1])}
	}
	return pts, nil
}

func sampleStats(b backends.Backend, ctx *context.Context, cls models.Net, f Fig3Config, pts [][2]float64) (SampleStats, error) {
	s := SampleStats{ModeShares: make([]float64, len(f.Target))}
	if len(pts) == 0 {
		return s, errors.New("no samples")
	}
	logd := make([]float64, len(pts))
	for i, p := range pts {
		logd[i] = f.Target.LogDensity(p)
		if f.Target.MinDistance(p) <= 2 {
			s.HighDensityShare++
		}
		if math.Abs(p[0]) <= f.Box.Half && math.Abs(p[1]) <= f.Box.Half {
			s.InsideBoxShare++
		}
		best, bestD := 0, math.Inf(1)
		for k, g := range f.Target {
			if d := g.Distance(p); d < bestD {
				best, bestD = k, d
			}
		}
		s.ModeShares[best]++
	}
	n := float64(len(pts))
	s.HighDensityShare /= n
	s.InsideBoxShare /= n
	for k := range s.ModeShares {
		s.ModeShares[k] /= n
	}
	s.MeanLogDensity = mean(logd)
	sort.Float64s(logd)
	s.MedianLogDensity = logd[len(logd)/2]
	logits, err := evalClassifier(b, ctx, cls, pts)
	if err != nil {
		return s, err
	}
	s.MeanMaxSoftmax = mean(detect.Baseline(logits))
	return s, nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
