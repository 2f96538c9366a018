package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

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
	k := map[string]any{
		"data": d.Name, "standin": d.StandIn, "regime": regime, "model": c.Model, "width": c.Width,
		"seed": c.Seed, "train_n": c.TrainN, "epochs": c.Epochs, "batch": c.Batch, "lr": c.LR,
		"lr_decay_epoch": c.DecayEpoch, "lr_decay": c.DecayFactor,
	}
	if regime != CrossEntropy && regime != KPlusOne {
		k["beta"] = c.Beta
	}
	if regime == ConfSeen || regime == KPlusOne {
		k["seen"] = d.SeenName
	}
	if regime == ConfGAN || regime == Joint || regime == JointPT {
		k["gan"] = []any{c.GANWidth, c.GANZ, c.GANLR, c.GANBeta1}
	}
	if regime == ConfGAN {
		k["gan_epochs"] = c.GANEpochs
	}
	if regime == JointPT {
		k["pt_weight"] = c.PTWeight
	}
	return k
}

// RunKey names a run: regime, model and the swept hyperparameters, readable, plus a hash of every
// other setting that changes training. Runs with equal keys are the same run (a rerun resumes it).
func (c Config) RunKey(d *Data, regime Regime) string {
	j, _ := json.Marshal(c.trainingKey(d, regime))
	h := sha256.Sum256(j)
	name := fmt.Sprintf("%s_%s_b%g_n%d_lr%g", regime, c.Model, c.Beta, c.Batch, c.LR)
	if regime == CrossEntropy || regime == KPlusOne {
		name = fmt.Sprintf("%s_%s_n%d_lr%g", regime, c.Model, c.Batch, c.LR)
	}
	return name + "_" + hex.EncodeToString(h[:4])
}

// ganKey names the original GAN pre-trained for the conf-gan regime (shared by every conf-gan run
// with the same data and GAN settings).
func (c Config) ganKey(d *Data) string {
	j, _ := json.Marshal(map[string]any{"data": d.Name, "standin": d.StandIn, "train_n": c.TrainN, "seed": c.Seed,
		"gan": []any{c.GANWidth, c.GANZ, c.GANLR, c.GANBeta1, c.GANEpochs, c.Batch}})
	h := sha256.Sum256(j)
	return "gan-original_" + hex.EncodeToString(h[:4])
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
	restored     restoredVars
	// Generator is the GAN generator trained with the classifier (joint regimes) or the pre-trained
	// original GAN's (conf-gan); zero otherwise.
	Generator models.Net
}

// lrAt is the classifier's learning rate in an epoch (App. B: × 0.1 from epoch 60).
func (c Config) lrAt(epoch int) float64 {
	if epoch >= c.DecayEpoch {
		return c.LR * c.DecayFactor
	}
	return c.LR
}

// Train trains the classifier of a regime in runsDir/<RunKey>, one checkpoint per epoch (written
// atomically). A run whose checkpoint exists goes on from it; a finished one is only loaded.
func Train(b backends.Backend, cfg Config, d *Data, regime Regime, runsDir string, log io.Writer) (*Trained, error) {
	key := cfg.RunKey(d, regime)
	dir := filepath.Join(runsDir, key)
	ckPath := filepath.Join(dir, CheckpointFile)
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(cfg.Seed)); err != nil {
		return nil, err
	}
	t := &Trained{Ctx: ctx, Net: cfg.classifier(d.Classes, regime), Regime: regime, Key: key, Dir: dir}

	var ganCk *Checkpoint
	if regime == ConfGAN {
		var err error
		if ganCk, err = trainOriginalGAN(b, cfg, d, runsDir, log); err != nil {
			return nil, err
		}
	}
	ck, err := readRunCheckpoint(ckPath, key, cfg.Epochs)
	var restored restoredVars
	switch {
	case err != nil:
		return nil, err
	case ck == nil:
		if ganCk != nil {
			scope := "/" + models.GeneratorScope
			if err := ganCk.restoreScope(ctx, scope); err != nil {
				return nil, err
			}
			restored = newRestored(filepath.Join(runsDir, cfg.ganKey(d), CheckpointFile), ganCk, scope)
		}
	default:
		if err := ck.Restore(ctx); err != nil {
			return nil, fmt.Errorf("%s: %v", ckPath, err)
		}
		restored = newRestored(ckPath, ck, "")
		t.restored = restored
		t.ResumedFrom, t.EpochSeconds = ck.Epoch, ck.EpochSeconds
		if ck.Epoch < cfg.Epochs {
			logf(log, "%s: resuming from the checkpoint of epoch %d/%d", key, ck.Epoch, cfg.Epochs)
		}
	}
	gen, disc := cfg.ganNets("", d.Train.C)
	if regime == ConfGAN || regime == Joint || regime == JointPT {
		t.Generator = gen
	}
	start := t.ResumedFrom
	if start >= cfg.Epochs {
		return t, nil
	}

	opt := optim.Adam{Scope: t.Net.Scope, LearningRate: cfg.lrAt(start)}
	ganCfg := train.GANConfig{Generator: gen, Discriminator: disc,
		OptG: optim.Adam{Scope: gen.Scope, LearningRate: cfg.GANLR, Beta1: cfg.GANBeta1},
		OptD: optim.Adam{Scope: disc.Scope, LearningRate: cfg.GANLR, Beta1: cfg.GANBeta1}}
	var step *train.Step
	switch regime {
	case CrossEntropy:
		step, err = train.Classifier(b, ctx, train.ClassifierConfig{Net: t.Net, Opt: opt})
	case ConfSeen, KPlusOne:
		if d.Seen == nil {
			return nil, fmt.Errorf("%s: regime %s needs a seen OOD training set", d.Name, regime)
		}
		step, err = train.Classifier(b, ctx, train.ClassifierConfig{Net: t.Net, Opt: opt, Beta: cfg.Beta, KPlusOne: regime == KPlusOne})
	case ConfGAN:
		step, err = train.OnGenerator(b, ctx, train.OnGeneratorConfig{Generator: gen,
			Classifier: train.ClassifierConfig{Net: t.Net, Opt: opt, Beta: cfg.Beta}})
	case Joint, JointPT:
		if regime == JointPT {
			ganCfg.PullAway = cfg.PTWeight
		}
		step, err = train.Joint(b, ctx, train.JointConfig{GAN: ganCfg, Opt: opt, Net: t.Net, Beta: cfg.Beta})
	default:
		return nil, fmt.Errorf("unknown regime %q", regime)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}

	run := epochLoop{key: key, ckPath: ckPath, ctx: ctx, step: step, set: d.Train, seed: cfg.Seed, batch: cfg.Batch,
		stream: streamOf(string(regime)), epochs: cfg.Epochs, restored: restored,
		beforeEpoch: func(epoch int) error {
			if epoch == 0 {
				return nil
			}
			return optim.SetLearningRate(ctx, t.Net.Scope, cfg.lrAt(epoch))
		},
		inputs: func(r *rand.Rand, x, y *tensors.Tensor) []any {
			switch regime {
			case ConfSeen, KPlusOne:
				return []any{x, y, randomImages(d.Seen, cfg.Batch, r)}
			case ConfGAN:
				return []any{x, y, latent(r, cfg.Batch, cfg.GANZ)}
			case Joint, JointPT:
				return []any{x, y, latent(r, cfg.Batch, cfg.GANZ), latent(r, cfg.Batch, cfg.GANZ)}
			}
			return []any{x, y}
		}}
	if t.EpochSeconds, err = run.run(start, t.EpochSeconds, log); err != nil {
		return nil, err
	}
	return t, nil
}

// trainOriginalGAN pre-trains (or loads) the original DCGAN of the conf-gan regime and returns its
// final checkpoint.
func trainOriginalGAN(b backends.Backend, cfg Config, d *Data, runsDir string, log io.Writer) (*Checkpoint, error) {
	key := cfg.ganKey(d)
	ckPath := filepath.Join(runsDir, key, CheckpointFile)
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(cfg.Seed) + 1); err != nil {
		return nil, err
	}
	start := 0
	var secs []float64
	ck, err := readRunCheckpoint(ckPath, key, cfg.GANEpochs)
	if err != nil {
		return nil, err
	}
	var restored restoredVars
	if ck != nil {
		if ck.Epoch >= cfg.GANEpochs {
			return ck, nil
		}
		if err := ck.Restore(ctx); err != nil {
			return nil, fmt.Errorf("%s: %v", ckPath, err)
		}
		restored = newRestored(ckPath, ck, "")
		start, secs = ck.Epoch, ck.EpochSeconds
		logf(log, "%s: resuming from the checkpoint of epoch %d/%d", key, start, cfg.GANEpochs)
	}
	gen, disc := cfg.ganNets("", d.Train.C)
	step, err := train.GAN(b, ctx, train.GANConfig{Generator: gen, Discriminator: disc,
		OptG: optim.Adam{Scope: gen.Scope, LearningRate: cfg.GANLR, Beta1: cfg.GANBeta1},
		OptD: optim.Adam{Scope: disc.Scope, LearningRate: cfg.GANLR, Beta1: cfg.GANBeta1}})
	if err != nil {
		return nil, err
	}
	run := epochLoop{key: key, ckPath: ckPath, ctx: ctx, step: step, set: d.Train, seed: cfg.Seed, batch: cfg.Batch,
		stream: streamOf("gan-original"), epochs: cfg.GANEpochs, restored: restored,
		inputs: func(r *rand.Rand, x, _ *tensors.Tensor) []any { return []any{x, latent(r, cfg.Batch, cfg.GANZ)} }}
	if _, err := run.run(start, secs, log); err != nil {
		return nil, err
	}
	return ReadCheckpoint(ckPath)
}

// readRunCheckpoint reads the checkpoint of run key, which trains epochs epochs, at ckPath: nil
// without error when there is none; an error naming the file when it is corrupt, belongs to another
// run or has an epoch count outside 1…epochs.
func readRunCheckpoint(ckPath, key string, epochs int) (*Checkpoint, error) {
	ck, err := ReadCheckpoint(ckPath)
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%v (delete it to train %s afresh)", err, key)
	case ck.Key != key:
		return nil, fmt.Errorf("checkpoint %s belongs to run %q, not %q", ckPath, ck.Key, key)
	case ck.Epoch < 1 || ck.Epoch > epochs:
		return nil, fmt.Errorf("checkpoint %s is of epoch %d, want 1…%d for run %q (delete it to train afresh)", ckPath, ck.Epoch, epochs, key)
	}
	return ck, nil
}

// restoredVars says which variables a run took from a checkpoint: those under scope ("" for all)
// must all have come from it.
type restoredVars struct {
	path  string
	scope string
	names map[string]bool // scope/name
}

// newRestored records the variables of ck under scope as restored from the file at path.
func newRestored(path string, ck *Checkpoint, scope string) restoredVars {
	r := restoredVars{path: path, scope: scope, names: map[string]bool{}}
	for _, v := range ck.Vars {
		r.names[v.Scope+"/"+v.Name] = true
	}
	return r
}

// check returns an error naming a variable of ctx under r.scope that the checkpoint did not hold:
// the run would go on with it freshly initialised. Nothing is checked when nothing was restored.
func (r restoredVars) check(ctx *context.Context) error {
	if r.names == nil {
		return nil
	}
	var missing []string
	ctx.EnumerateVariables(func(v *context.Variable) {
		if r.scope != "" && v.Scope() != r.scope && !strings.HasPrefix(v.Scope(), r.scope+"/") {
			return
		}
		if id := v.Scope() + "/" + v.Name(); !r.names[id] {
			missing = append(missing, id)
		}
	})
	if len(missing) > 0 {
		if len(missing) > 5 {
			missing = append(missing[:5], fmt.Sprintf("… (%d in all)", len(missing)))
		}
		return fmt.Errorf("checkpoint %s lacks variables the run has: %s (they would start from fresh values; delete it to train afresh)",
			r.path, strings.Join(missing, ", "))
	}
	return nil
}

// CheckRestored returns an error when the model uses a variable that the checkpoint it was
// restored from did not hold (nil when it was not restored): call it once the model's graphs
// have been built, e.g. after evaluating a finished run.
func (t *Trained) CheckRestored() error { return t.restored.check(t.Ctx) }

// epochLoop is the training loop shared by the classifiers and the pre-trained GAN: epochs of
// shuffled full batches of set, each epoch's random draws from epochRNG (so a resumed run draws
// what an uninterrupted one would), a progress line at least every 15 s, and a checkpoint of ctx
// after every epoch.
type epochLoop struct {
	key, ckPath string
	ctx         *context.Context
	step        *train.Step
	set         *dataset.Set
	seed, batch int
	stream      uint64
	epochs      int
	// inputs returns a step's inputs from its batch (images, labels) and the epoch's random source.
	inputs func(r *rand.Rand, x, y *tensors.Tensor) []any
	// beforeEpoch, if set, runs before each epoch (0-based), e.g. to set the learning rate.
	beforeEpoch func(epoch int) error
	// restored are the variables taken from a checkpoint; after the first step every variable of
	// the step must be among them.
	restored restoredVars
}

// run trains the epochs from start on; secs holds the times of the epochs already done. It returns
// the times of all the epochs.
func (l epochLoop) run(start int, secs []float64, log io.Writer) ([]float64, error) {
	for epoch := start; epoch < l.epochs; epoch++ {
		if l.beforeEpoch != nil {
			if err := l.beforeEpoch(epoch); err != nil {
				return nil, err
			}
		}
		r := epochRNG(l.seed, l.stream, epoch)
		eb := newEpochBatches(l.set, l.batch, r)
		began, last := time.Now(), time.Now()
		for i := range eb.steps() {
			x, y := eb.get(i)
			losses, err := l.step.Run(l.inputs(r, x, y)...)
			if err != nil {
				return nil, fmt.Errorf("%s, epoch %d: %w", l.key, epoch+1, err)
			}
			if epoch == start && i == 0 {
				// The step's graph exists now: its variables must all have been restored.
				if err := l.restored.check(l.ctx); err != nil {
					return nil, err
				}
			}
			if log != nil && (time.Since(last) > 15*time.Second || i+1 == eb.steps()) {
				last = time.Now()
				logf(log, "%s: epoch %d/%d step %d/%d (%.0fs)%s", l.key, epoch+1, l.epochs, i+1, eb.steps(),
					time.Since(began).Seconds(), lossString(l.step.Names(), losses))
			}
		}
		secs = append(secs, time.Since(began).Seconds())
		if err := SaveCheckpoint(l.ckPath, l.ctx, Checkpoint{Epoch: epoch + 1, Key: l.key, EpochSeconds: secs}); err != nil {
			return nil, err
		}
		if afterEpoch != nil {
			afterEpoch(filepath.Dir(l.ckPath), epoch+1)
		}
	}
	return secs, nil
}

// restoreScope restores only the variables under scope (e.g. the generator's weights, without its
// optimizer state or the random state).
func (c *Checkpoint) restoreScope(ctx *context.Context, scope string) error {
	sub := &Checkpoint{}
	for _, v := range c.Vars {
		if v.Scope == scope || strings.HasPrefix(v.Scope, scope+"/") {
			sub.Vars = append(sub.Vars, v)
		}
	}
	if len(sub.Vars) == 0 {
		return fmt.Errorf("checkpoint has no variables under %s", scope)
	}
	return sub.Restore(ctx)
}

func streamOf(s string) uint64 {
	var h uint64 = 1469598103934665603
	for _, b := range []byte(s) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return h
}

func lossString(names []string, losses []float64) string {
	var sb strings.Builder
	for i, n := range names {
		fmt.Fprintf(&sb, " %s=%.4f", n, losses[i])
	}
	return sb.String()
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
