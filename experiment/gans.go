package experiment

import (
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/loop"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/train"
	"github.com/confcal/confcal/dataset"
)

// GAN is a trained generator, for sampling: its context and network, and how training went.
type GAN struct {
	Ctx          *context.Context
	Generator    models.Net
	Key          string
	ZDim         int // latent dimension
	EpochSeconds []float64
	// Losses are the discriminator's and the generator's losses at the last step.
	Losses []float64
}

// OriginalGAN pre-trains (or loads) the original DCGAN of eq. 2 on the training images for
// gan_epochs epochs: the generator of the conf-gan regime, and Figure 3(c)'s.
func OriginalGAN(b backends.Backend, cfg Config, d *Data, runsDir string, log io.Writer) (*GAN, error) {
	path, err := trainOriginalGAN(b, cfg, d, runsDir, log)
	if err != nil {
		return nil, err
	}
	return loadGAN(cfg, d, path, cfg.ganKey(d))
}

// proposedGANKey names the proposed GAN trained against the classifier of run clsKey.
func (c Config) proposedGANKey(clsKey string) string {
	return "gan-proposed_" + hash(map[string]any{"classifier": clsKey, "beta": c.Beta, "seed": c.Seed,
		"gan": []any{c.GANWidth, c.GANZ, c.GANLR, c.GANBeta1, c.GANEpochs, c.Batch}})
}

// ProposedGAN trains (or loads) the proposed GAN of eq. 3 for gan_epochs epochs: the DCGAN whose
// generator also minimises β·KL(U ‖ p(y|G(z))) through the classifier t, which stays frozen (in
// inference mode, its weights copied from t's checkpoint) — Figure 3(d)'s generator.
func ProposedGAN(b backends.Backend, cfg Config, d *Data, t *Trained, runsDir string, log io.Writer) (*GAN, error) {
	if !(cfg.Beta > 0) {
		return nil, fmt.Errorf("the proposed GAN needs beta > 0, got %v", cfg.Beta)
	}
	key := cfg.proposedGANKey(t.Key)
	ckPath := filepath.Join(runsDir, key, CheckpointFile)
	ctx, err := loop.NewContext(int64(cfg.Seed) + 2)
	if err != nil {
		return nil, err
	}
	st, err := loop.Resume(ctx, ckPath, key, cfg.GANEpochs)
	if err != nil {
		return nil, err
	}
	if !st.Done(cfg.GANEpochs) {
		switch st.Epoch {
		case 0:
			if st, err = loop.StartFrom(ctx, filepath.Join(t.Dir, CheckpointFile), "/"+t.Net.Scope); err != nil {
				return nil, err
			}
		default:
			logf(log, "%s: resuming from the checkpoint of epoch %d/%d", key, st.Epoch, cfg.GANEpochs)
		}
		gen, disc := cfg.ganNets("", d.Train.C)
		gc := cfg.ganConfig(gen, disc)
		gc.Classifier, gc.Beta = t.Net, cfg.Beta
		step, err := train.GAN(b, ctx, gc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		l := cfg.newLoop(key, ckPath, ctx, step, d.Train, "gan-proposed", cfg.GANEpochs,
			func(r *rand.Rand, x, _ *tensors.Tensor) []any { return []any{x, loop.Latent(r, cfg.Batch, cfg.GANZ)} }, log)
		if _, err := l.Run(st); err != nil {
			return nil, err
		}
	}
	return loadGAN(cfg, d, ckPath, key)
}

// loadGAN reads a finished GAN's checkpoint into a fresh context.
func loadGAN(cfg Config, d *Data, path, key string) (*GAN, error) {
	ctx := context.New()
	st, err := loop.Resume(ctx, path, key, cfg.GANEpochs)
	if err != nil {
		return nil, err
	}
	if !st.Done(cfg.GANEpochs) {
		return nil, fmt.Errorf("%s: GAN %s has %d of its %d epochs", path, key, st.Epoch, cfg.GANEpochs)
	}
	gen, _ := cfg.ganNets("", d.Train.C)
	return &GAN{Ctx: ctx, Generator: gen, Key: key, ZDim: cfg.GANZ, EpochSeconds: st.EpochSeconds, Losses: st.Losses}, nil
}

// Samples draws n images G(z), z ~ N(0, I) from r, in inference mode, as a set of the training
// images' shape (labels 0).
func (g *GAN) Samples(b backends.Backend, d *Data, r *rand.Rand, n int) (*dataset.Set, error) {
	rows, err := models.Sample(b, g.Ctx, g.Generator, r, n, g.ZDim, evalBatch)
	if err != nil {
		return nil, err
	}
	s := d.Train
	out := &dataset.Set{N: n, C: s.C, H: s.H, W: s.W, Labels: make([]int, n), Name: g.Key, Source: "samples of " + g.Key}
	for _, row := range rows {
		if len(row) != s.C*s.H*s.W {
			return nil, fmt.Errorf("%s: the generator gives %d values per sample, the images have %d", g.Key, len(row), s.C*s.H*s.W)
		}
		out.Images = append(out.Images, row...)
	}
	return out, nil
}
