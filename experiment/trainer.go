package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/loop"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/train"
	"github.com/confcal/confcal/dataset"
)

// CheckpointFile is the name of a run's checkpoint in its directory.
const CheckpointFile = "checkpoint.bin"

// afterEpoch, when set (tests), is called after each epoch's checkpoint is written.
var afterEpoch func(dir string, epoch int)

// trainingKey returns the settings that change what training produces, for a regime.
func (c Config) trainingKey(d *Data, regime Regime) map[string]any {
	s := regime.Spec()
	k := map[string]any{
		"data": d.Name, "standin": d.StandIn, "regime": regime, "model": c.Model, "width": c.Width,
		"seed": c.Seed, "train_n": c.TrainN, "epochs": c.Epochs, "batch": c.Batch, "lr": c.LR,
		"lr_decay_epoch": c.DecayEpoch, "lr_decay": c.DecayFactor,
	}
	if c.CNNSizes != "" {
		k[ParamCNNSizes] = c.CNNSizes
	}
	if c.Channels != 0 {
		k[ParamChannels] = c.Channels
	}
	if s.KL {
		k["beta"] = c.Beta
	}
	if s.Seen {
		k["seen"] = d.SeenName
	}
	if s.UsesGAN() {
		k["gan"] = []any{c.GANWidth, c.GANZ, c.GANLR, c.GANBeta1}
	}
	if s.PretrainedGAN {
		k["gan_epochs"] = c.GANEpochs
	}
	if s.PullAway {
		k["pt_weight"] = c.PTWeight
	}
	return k
}

// RunKey names a run: regime, model and the swept hyperparameters, readable, plus a hash of every
// other setting that changes training. Runs with equal keys are the same run (a rerun resumes it).
func (c Config) RunKey(d *Data, regime Regime) string {
	name := fmt.Sprintf("%s_%s_b%g_n%d_lr%g", regime, c.Model, c.Beta, c.Batch, c.LR)
	if !regime.Spec().KL {
		name = fmt.Sprintf("%s_%s_n%d_lr%g", regime, c.Model, c.Batch, c.LR)
	}
	return name + "_" + hash(c.trainingKey(d, regime))
}

// hash is a short hash of v's JSON.
func hash(v any) string {
	j, _ := json.Marshal(v)
	h := sha256.Sum256(j)
	return hex.EncodeToString(h[:4])
}

// ganKey names the original GAN pre-trained for the conf-gan regime (shared by every conf-gan run
// with the same data and GAN settings).
func (c Config) ganKey(d *Data) string {
	return "gan-original_" + hash(map[string]any{"data": d.Name, "standin": d.StandIn, "train_n": c.TrainN, "seed": c.Seed,
		"gan": []any{c.GANWidth, c.GANZ, c.GANLR, c.GANBeta1, c.GANEpochs, c.Batch}})
}

// Trained is a trained classifier: its context and how the training went.
type Trained struct {
	Ctx          *context.Context
	Net          models.Net
	Regime       Regime
	Key          string
	Dir          string
	EpochSeconds []float64
	ResumedFrom  int // epochs loaded from a checkpoint (0: started afresh)
	state        loop.State
	// Generator is the GAN generator trained with the classifier (joint regimes) or the pre-trained
	// original GAN's (conf-gan); zero otherwise.
	Generator models.Net
}

// CheckRestored returns an error when the model uses a variable that the checkpoint it was
// restored from did not hold (nil when it was not restored): call it once the model's graphs
// have been built, e.g. after evaluating a finished run.
func (t *Trained) CheckRestored() error { return t.state.CheckRestored(t.Ctx) }

// Train trains the classifier of a regime in runsDir/<RunKey>, one checkpoint per epoch (written
// atomically). A run whose checkpoint exists goes on from it; a finished one is only loaded.
// Messages and progress go to log (loop.ProgressFor: a notebook's progress display, or text).
func Train(b backends.Backend, cfg Config, d *Data, regime Regime, runsDir string, log io.Writer) (*Trained, error) {
	spec, ok := Regimes[regime]
	if !ok {
		return nil, fmt.Errorf("unknown regime %q", regime)
	}
	key := cfg.RunKey(d, regime)
	dir := filepath.Join(runsDir, key)
	ckPath := filepath.Join(dir, CheckpointFile)
	ctx, err := loop.NewContext(int64(cfg.Seed))
	if err != nil {
		return nil, err
	}
	t := &Trained{Ctx: ctx, Net: cfg.classifier(d.Classes, regime), Regime: regime, Key: key, Dir: dir}
	var ganPath string
	if spec.PretrainedGAN {
		if ganPath, err = trainOriginalGAN(b, cfg, d, runsDir, log); err != nil {
			return nil, err
		}
	}
	st, err := loop.Resume(ctx, ckPath, key, cfg.Epochs)
	if err != nil {
		return nil, err
	}
	switch {
	case st.Epoch == 0 && spec.PretrainedGAN:
		if st, err = loop.StartFrom(ctx, ganPath, "/"+models.GeneratorScope); err != nil {
			return nil, err
		}
	case st.Epoch > 0 && st.Epoch < cfg.Epochs:
		logf(log, "%s: resuming from the checkpoint of epoch %d/%d", key, st.Epoch, cfg.Epochs)
	}
	t.state, t.ResumedFrom, t.EpochSeconds = st, st.Epoch, st.EpochSeconds
	gen, disc := cfg.ganNets("", d.Train.C)
	if spec.UsesGAN() {
		t.Generator = gen
	}
	if st.Done(cfg.Epochs) {
		// A finished run is only evaluated: its checkpoint must hold every variable of the model.
		if err := checkHolds(b, st, t, d, cfg); err != nil {
			return nil, err
		}
		return t, nil
	}
	if spec.Seen && d.Seen == nil {
		return nil, fmt.Errorf("%s: regime %s needs a seen OOD training set", d.Name, regime)
	}
	step, err := classifierStep(b, ctx, cfg, spec, t.Net, gen, disc, cfg.lrAt(st.Epoch))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	inputs := func(r *rand.Rand, x, y *tensors.Tensor) []any {
		switch {
		case spec.Seen:
			return []any{x, y, loop.RandomImages(d.Seen, cfg.Batch, r)}
		case spec.PretrainedGAN:
			return []any{x, y, loop.Latent(r, cfg.Batch, cfg.GANZ)}
		case spec.JointGAN:
			return []any{x, y, loop.Latent(r, cfg.Batch, cfg.GANZ), loop.Latent(r, cfg.Batch, cfg.GANZ)}
		}
		return []any{x, y}
	}
	l := cfg.newLoop(key, ckPath, ctx, step, d.Train, string(regime), cfg.Epochs, inputs, log)
	l.BeforeEpoch = func(e int) error {
		if e == 0 {
			return nil
		}
		return optim.SetLearningRate(ctx, t.Net.Scope, cfg.lrAt(e))
	}
	if st, err = l.Run(st); err != nil {
		return nil, err
	}
	t.state, t.EpochSeconds = st, st.EpochSeconds
	return t, nil
}

// checkHolds returns an error naming the checkpoint of st when it lacks a variable of t's classifier
// (or of its generator): the variables a freshly initialised model has must all have been restored.
func checkHolds(b backends.Backend, st loop.State, t *Trained, d *Data, cfg Config) error {
	scratch := context.New()
	if err := models.Initialize(b, scratch, t.Net, d.Train.C, d.Train.H, d.Train.W); err != nil {
		return err
	}
	if t.Generator.Valid() {
		if err := models.Initialize(b, scratch, t.Generator, cfg.GANZ); err != nil {
			return err
		}
	}
	return st.CheckRestored(scratch)
}

// classifierStep compiles the training step of a regime's classifier.
func classifierStep(b backends.Backend, ctx *context.Context, cfg Config, spec RegimeSpec, net, gen, disc models.Net, lr float64) (*train.Step, error) {
	opt := optim.Adam{Scope: net.Scope, LearningRate: lr}
	cls := train.ClassifierConfig{Net: net, Opt: opt, KPlusOne: spec.ExtraClass}
	if spec.KL {
		cls.Beta = cfg.Beta
	}
	switch {
	case spec.PretrainedGAN:
		return train.OnGenerator(b, ctx, train.OnGeneratorConfig{Generator: gen, Classifier: cls})
	case spec.JointGAN:
		gc := cfg.ganConfig(gen, disc)
		if spec.PullAway {
			gc.PullAway = cfg.PTWeight
		}
		return train.Joint(b, ctx, train.JointConfig{GAN: gc, Opt: opt, Net: net, Beta: cfg.Beta})
	}
	return train.Classifier(b, ctx, cls)
}

// ganConfig is the GAN step configuration of the DCGANs gen and disc (each with its own Adam).
func (c Config) ganConfig(gen, disc models.Net) train.GANConfig {
	return train.GANConfig{Generator: gen, Discriminator: disc,
		OptG: optim.Adam{Scope: gen.Scope, LearningRate: c.GANLR, Beta1: c.GANBeta1},
		OptD: optim.Adam{Scope: disc.Scope, LearningRate: c.GANLR, Beta1: c.GANBeta1}}
}

// newLoop returns the loop of a run over set: epochs of shuffled full batches, each epoch's draws
// (permutation, then each step's inputs) from loop.EpochRNG(seed, stream, epoch), so that a resumed
// run draws what an uninterrupted one would.
func (c Config) newLoop(key, ckPath string, ctx *context.Context, step *train.Step, set *dataset.Set, stream string, epochs int,
	inputs func(r *rand.Rand, x, y *tensors.Tensor) []any, log io.Writer) loop.Loop {
	s := loop.Stream(stream)
	dir := filepath.Dir(ckPath)
	return loop.Loop{Name: key, Ctx: ctx, Step: step, Epochs: epochs, Checkpoint: ckPath, Key: key, Progress: loop.ProgressFor(log),
		Epoch: func(e int) (loop.Epoch, error) {
			r := loop.EpochRNG(c.Seed, s, e)
			eb := loop.NewBatches(set, c.Batch, r)
			return loop.Epoch{Steps: eb.Steps(), Inputs: func(i int) ([]any, error) {
				x, y := eb.Get(i)
				return inputs(r, x, y), nil
			}}, nil
		},
		AfterEpoch: func(e int) {
			if afterEpoch != nil {
				afterEpoch(dir, e)
			}
		}}
}

// trainOriginalGAN pre-trains (or loads) the original DCGAN of the conf-gan regime (eq. 2) and
// returns its finished checkpoint's path.
func trainOriginalGAN(b backends.Backend, cfg Config, d *Data, runsDir string, log io.Writer) (string, error) {
	key := cfg.ganKey(d)
	ckPath := filepath.Join(runsDir, key, CheckpointFile)
	ctx, err := loop.NewContext(int64(cfg.Seed) + 1)
	if err != nil {
		return "", err
	}
	st, err := loop.Resume(ctx, ckPath, key, cfg.GANEpochs)
	if err != nil || st.Done(cfg.GANEpochs) {
		return ckPath, err
	}
	if st.Epoch > 0 {
		logf(log, "%s: resuming from the checkpoint of epoch %d/%d", key, st.Epoch, cfg.GANEpochs)
	}
	gen, disc := cfg.ganNets("", d.Train.C)
	step, err := train.GAN(b, ctx, cfg.ganConfig(gen, disc))
	if err != nil {
		return "", err
	}
	l := cfg.newLoop(key, ckPath, ctx, step, d.Train, "gan-original", cfg.GANEpochs,
		func(r *rand.Rand, x, _ *tensors.Tensor) []any { return []any{x, loop.Latent(r, cfg.Batch, cfg.GANZ)} }, log)
	_, err = l.Run(st)
	return ckPath, err
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
