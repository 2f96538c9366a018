package mnist

import (
	"io"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/train"
)

// GANSamples describes one trained generator's samples.
type GANSamples struct {
	// MeanMaxSoftmax is the pre-trained classifier's mean confidence on the samples: the number that
	// makes Figure 3(c)(d) checkable (the proposed GAN's should be clearly lower).
	MeanMaxSoftmax float64 `json:"mean_max_softmax"`
	// Grid holds GridN samples (NCHW, [0,1]) for the figure.
	Grid        []float32 `json:"grid"`
	GridN       int       `json:"grid_n"`
	FinalLosses []float64 `json:"final_losses"` // discriminator, generator
	Seconds     float64   `json:"train_seconds"`
}

// GANResult is Figure 3(c)(d).
type GANResult struct {
	// ClassifierAccuracy is the pre-trained classifier's MNIST test accuracy; ClassifierDataConfidence
	// its mean max-softmax on MNIST test images, for scale.
	ClassifierAccuracy       float64    `json:"classifier_accuracy"`
	ClassifierDataConfidence float64    `json:"classifier_data_confidence"`
	ClassifierSeconds        float64    `json:"classifier_train_seconds"`
	Original                 GANSamples `json:"original"`
	Proposed                 GANSamples `json:"proposed"`
	C                        int        `json:"channels"`
}

// RunGANs pre-trains the simple CNN with cross entropy + β KL on Gaussian noise (the benchmark's
// confidence-loss classifier: trained once per Data, whichever of RunGANs and RunBenchmark comes
// first), then trains the original GAN and the proposed GAN (against the frozen classifier) on the
// MNIST training images.
func RunGANs(b backends.Backend, cfg Config, d *Data, log io.Writer) (*GANResult, error) {
	t, err := d.classifier(b, cfg, ConfidenceNoise, log)
	if err != nil {
		return nil, err
	}
	ctx := t.ctx
	res := &GANResult{C: d.Train.C, ClassifierSeconds: t.seconds}
	cls := cfg.classifierNet()
	logits, err := logitsOf(b, ctx, cls, d.Test)
	if err != nil {
		return nil, err
	}
	if res.ClassifierAccuracy, err = detect.Accuracy(logits, d.Test.Labels); err != nil {
		return nil, err
	}
	res.ClassifierDataConfidence = mean(detect.Baseline(logits))

	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 13))
	for _, proposed := range []bool{false, true} {
		prefix, name, out := "original_", "original GAN", &res.Original
		gc := train.GANConfig{}
		if proposed {
			prefix, name, out = "", "proposed GAN", &res.Proposed
			gc.Classifier, gc.Beta = cls, cfg.Beta
		}
		gen, disc := cfg.ganNets(prefix)
		gc.Generator, gc.Discriminator = gen, disc
		gc.OptG = optim.Adam{Scope: gen.Scope, LearningRate: cfg.GANLR, Beta1: cfg.GANBeta1}
		gc.OptD = optim.Adam{Scope: disc.Scope, LearningRate: cfg.GANLR, Beta1: cfg.GANBeta1}
		step, err := train.GAN(b, ctx, gc)
		if err != nil {
			return nil, errors.Wrap(err, name)
		}
		bt := newBatcher(d.Train, cfg.GANBatch, r)
		total := bt.stepsPerEpoch() * cfg.GANEpochs
		start, last := time.Now(), time.Now()
		for i := range total {
			x, _ := bt.next()
			if out.FinalLosses, err = step.Run(x, latent(r, cfg.GANBatch, cfg.GANZ)); err != nil {
				return nil, errors.Wrap(err, name)
			}
			logProgress(log, name, i, total, start, step.Names(), out.FinalLosses, &last)
		}
		out.Seconds = time.Since(start).Seconds()
		samples, err := sample(b, ctx, gen, r, 500, cfg.GANZ, d.Train.C)
		if err != nil {
			return nil, errors.Wrap(err, name)
		}
		sl, err := logitsOf(b, ctx, cls, samples)
		if err != nil {
			return nil, err
		}
		out.MeanMaxSoftmax = mean(detect.Baseline(sl))
		out.GridN = 64
		out.Grid = samples.Images[:64*samples.C*samples.H*samples.W]
	}
	return res, nil
}

// sample draws n images from a generator (inference mode: batch norm with running statistics).
func sample(b backends.Backend, ctx *context.Context, gen models.Net, r *rand.Rand, n, z, c int) (*Set, error) {
	rows, err := models.Sample(b, ctx, gen, r, n, z, 100)
	if err != nil {
		return nil, err
	}
	s := &Set{N: n, C: c, H: 32, W: 32, Labels: make([]int, n), Name: "generated"}
	for _, row := range rows {
		s.Images = append(s.Images, row...)
	}
	if len(s.Images) != n*c*32*32 {
		return nil, errors.Errorf("generator gives %d values per sample, want %d", len(rows[0]), c*32*32)
	}
	return s, nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
