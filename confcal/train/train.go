// Package train holds the training steps of the paper, each compiled once into one graph:
//
//   - Classifier: cross entropy, or the confidence loss of eq. 1 with an explicit out-of-distribution
//     batch, or the K+1-class loss of eq. 5 (App. E);
//   - OnGenerator: the confidence loss whose out-of-distribution batch is sampled from a frozen,
//     pre-trained generator (the "confidence loss with original GAN" of Figure 4);
//   - GAN: one discriminator and one generator update, of the original GAN (eq. 2) or of the
//     proposed GAN against a fixed classifier (eq. 3);
//   - Joint: one iteration of Algorithm 1 — discriminator, generator (eq. 3), classifier (eq. 1 on
//     the generator's samples) — for the joint confidence loss of eq. 4, optionally with the
//     pull-away term of App. D.
//
// Each network's variables live under its own scope (Net.Scope) and each network has its own
// optim.Adam, which updates only that network, with its own state and learning rate. Within one
// iteration of Algorithm 1 the updates are sequential as in the paper and the authors' code: the
// generator's step sees the discriminator already updated, and the classifier's step sees the
// updated generator (GoMLX's Variable.ValueGraph returns the updated value after SetValueGraph).
package train

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
)

// Step is a compiled training step. Run feeds it one batch of inputs and returns its losses by name.
type Step struct {
	names []string
	exec  *context.Exec
	count int
}

// Names returns the names of the losses Run returns, in order.
func (s *Step) Names() []string { return s.names }

// Run executes one step. It returns an error, naming the loss and the step, if a loss is NaN or
// infinite (the variables were already updated; training should stop there).
func (s *Step) Run(inputs ...any) ([]float64, error) {
	outs, err := s.exec.Exec(inputs...)
	if err != nil {
		return nil, err
	}
	s.count++
	vals := make([]float64, len(outs))
	for i, o := range outs {
		vals[i] = float64(tensors.ToScalar[float32](o))
		o.FinalizeAll()
		if math.IsNaN(vals[i]) || math.IsInf(vals[i], 0) {
			return vals, errors.Errorf("training diverged: %s loss is %v at step %d (try a lower learning rate or β)", s.names[i], vals[i], s.count)
		}
	}
	return vals, nil
}

func newStep(b backends.Backend, ctx *context.Context, names []string, fn func(ctx *context.Context, in []*Node) []*Node) (*Step, error) {
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, in []*Node) []*Node {
		ctx.SetTraining(in[0].Graph(), true)
		return fn(ctx, in)
	})
	if err != nil {
		return nil, err
	}
	return &Step{names: names, exec: exec}, nil
}

func checkBeta(beta float64) error {
	if !(beta >= 0) || math.IsInf(beta, 0) {
		return errors.Errorf("β (beta) must be a finite number >= 0, got %v", beta)
	}
	return nil
}

func checkOpt(net models.Net, opt optim.Adam, what string) error {
	if !net.Valid() {
		return errors.Errorf("%s network is missing (needs a scope and a model function)", what)
	}
	if opt.Scope != net.Scope {
		return errors.Errorf("%s optimizer has scope %q but the network's scope is %q", what, opt.Scope, net.Scope)
	}
	return opt.Validate()
}

// ClassifierConfig configures a classifier step.
type ClassifierConfig struct {
	Net models.Net
	Opt optim.Adam
	// Beta weighs the KL term of eq. 1; 0 gives plain cross entropy.
	Beta float64
	// KPlusOne trains a K+1-class classifier with eq. 5 instead (Beta is then ignored; the OOD batch
	// is pushed to the last class).
	KPlusOne bool
}

// Classifier compiles a classifier step. Run(x, y) trains with cross entropy; Run(x, y, xOut)
// with the confidence loss (or the K+1 loss) on the out-of-distribution batch xOut.
// Losses: "classifier".
func Classifier(b backends.Backend, ctx *context.Context, cfg ClassifierConfig) (*Step, error) {
	if err := checkOpt(cfg.Net, cfg.Opt, "classifier"); err != nil {
		return nil, err
	}
	if err := checkBeta(cfg.Beta); err != nil {
		return nil, err
	}
	return newStep(b, ctx, []string{"classifier"}, func(ctx *context.Context, in []*Node) []*Node {
		if len(in) < 2 || len(in) > 3 {
			panic(errors.Errorf("classifier step takes (x, y) or (x, y, xOut), got %d inputs", len(in)))
		}
		logits := cfg.Net.Apply(ctx, in[0])
		var outLogits *Node
		if len(in) == 3 {
			outLogits = cfg.Net.Apply(ctx, in[2])
		}
		loss := classifierLoss(cfg.KPlusOne, logits, in[1], outLogits, cfg.Beta)
		cfg.Opt.Update(ctx, loss)
		return []*Node{loss}
	})
}

// OnGeneratorConfig configures a confidence-loss step on samples of a frozen generator.
type OnGeneratorConfig struct {
	Classifier ClassifierConfig
	Generator  models.Net
}

// OnGenerator compiles the step of "confidence loss with original GAN": Run(x, y, z) trains the
// classifier with eq. 1 where the out-of-distribution batch is G(z) from a pre-trained generator
// that is not updated. Losses: "classifier".
func OnGenerator(b backends.Backend, ctx *context.Context, cfg OnGeneratorConfig) (*Step, error) {
	c := cfg.Classifier
	if err := checkOpt(c.Net, c.Opt, "classifier"); err != nil {
		return nil, err
	}
	if !cfg.Generator.Valid() {
		return nil, errors.New("generator network is missing")
	}
	if err := checkBeta(c.Beta); err != nil {
		return nil, err
	}
	return newStep(b, ctx, []string{"classifier"}, func(ctx *context.Context, in []*Node) []*Node {
		if len(in) != 3 {
			panic(errors.Errorf("on-generator step takes (x, y, z), got %d inputs", len(in)))
		}
		fake := StopGradient(applyFrozen(ctx, cfg.Generator, in[2]))
		loss := classifierLoss(c.KPlusOne, c.Net.Apply(ctx, in[0]), in[1], c.Net.Apply(ctx, fake), c.Beta)
		c.Opt.Update(ctx, loss)
		return []*Node{loss}
	})
}

// applyFrozen runs a network in inference mode (batch norm with its running statistics), for
// networks used but not trained by a step.
func applyFrozen(ctx *context.Context, net models.Net, x *Node) *Node {
	g := x.Graph()
	ctx.SetTraining(g, false)
	defer ctx.SetTraining(g, true)
	return net.Apply(ctx, x)
}

func classifierLoss(kPlusOne bool, logits, labels, outLogits *Node, beta float64) *Node {
	if kPlusOne {
		return confcal.KPlusOneLoss(logits, labels, outLogits)
	}
	return confcal.ConfidenceLoss(logits, labels, outLogits, beta)
}

// GANConfig configures a GAN step.
type GANConfig struct {
	Generator, Discriminator models.Net
	OptG, OptD               optim.Adam
	// Classifier, with Beta > 0, makes it the proposed GAN of eq. 3 against this (fixed) classifier.
	Classifier models.Net
	Beta       float64
	// PullAway weighs the pull-away term of App. D in the generator's loss (0: off).
	PullAway float64
	// Saturating uses log(1-D(G(z))) for the generator as eq. 2 writes it, instead of the
	// non-saturating -log D(G(z)) of the authors' code.
	Saturating bool
}

func (c GANConfig) check() error {
	if err := checkOpt(c.Generator, c.OptG, "generator"); err != nil {
		return err
	}
	if err := checkOpt(c.Discriminator, c.OptD, "discriminator"); err != nil {
		return err
	}
	if err := checkBeta(c.Beta); err != nil {
		return err
	}
	if !(c.PullAway >= 0) {
		return errors.Errorf("pull-away weight must be >= 0, got %v", c.PullAway)
	}
	if c.Beta > 0 && !c.Classifier.Valid() {
		return errors.Errorf("β = %v needs a classifier (eq. 3)", c.Beta)
	}
	return nil
}

// ganHalf builds the discriminator and generator updates of one iteration (steps 1 and 2 of
// Algorithm 1) and returns their losses. frozenClassifier runs the classifier in inference mode
// (the proposed GAN against a pre-trained classifier); in the joint step it runs in training mode
// as in the authors' code.
func ganHalf(ctx *context.Context, c GANConfig, x, z *Node, frozenClassifier bool) (lossD, lossG *Node) {
	fake := c.Generator.Apply(ctx, z)
	if !fake.Shape().Equal(x.Shape()) {
		panic(errors.Errorf("generator output %s does not match the real batch %s", fake.Shape(), x.Shape()))
	}
	// 1. D ascends log D(x) + log(1 - D(G(z))) (we minimise its negative).
	lossD = confcal.DiscriminatorLoss(c.Discriminator.Apply(ctx, x), c.Discriminator.Apply(ctx, StopGradient(fake)))
	c.OptD.Update(ctx, lossD)
	// 2. G descends its GAN term + β KL(U‖p(y|G(z))) (+ PT), through the updated D.
	var clsLogits *Node
	if c.Beta > 0 {
		if frozenClassifier {
			clsLogits = applyFrozen(ctx, c.Classifier, fake)
		} else {
			clsLogits = c.Classifier.Apply(ctx, fake)
		}
	}
	lossG = confcal.ProposedGeneratorLoss(c.Discriminator.Apply(ctx, fake), clsLogits, c.Beta, c.Saturating)
	if c.PullAway > 0 {
		lossG = Add(lossG, MulScalar(confcal.PullAwayTerm(fake), c.PullAway))
	}
	c.OptG.Update(ctx, lossG)
	return lossD, lossG
}

// GAN compiles one discriminator + generator iteration: Run(x, z) with a real batch x and latent
// codes z. Losses: "discriminator", "generator".
func GAN(b backends.Backend, ctx *context.Context, cfg GANConfig) (*Step, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return newStep(b, ctx, []string{"discriminator", "generator"}, func(ctx *context.Context, in []*Node) []*Node {
		if len(in) != 2 {
			panic(errors.Errorf("GAN step takes (x, z), got %d inputs", len(in)))
		}
		d, g := ganHalf(ctx, cfg, in[0], in[1], true)
		return []*Node{d, g}
	})
}

// JointConfig configures Algorithm 1.
type JointConfig struct {
	GAN  GANConfig // GAN.Classifier and GAN.Beta are set from Classifier
	Opt  optim.Adam
	Net  models.Net
	Beta float64
}

// Joint compiles one iteration of Algorithm 1: Run(x, y, z1, z2) with a labelled real batch (x, y)
// and two batches of latent codes, z1 for the discriminator and generator updates and z2 for the
// classifier's update on fresh samples of the updated generator.
// Losses: "discriminator", "generator", "classifier".
func Joint(b backends.Backend, ctx *context.Context, cfg JointConfig) (*Step, error) {
	gc := cfg.GAN
	gc.Classifier, gc.Beta = cfg.Net, cfg.Beta
	if err := gc.check(); err != nil {
		return nil, err
	}
	if err := checkOpt(cfg.Net, cfg.Opt, "classifier"); err != nil {
		return nil, err
	}
	if cfg.Beta == 0 {
		return nil, errors.New("the joint confidence loss needs β > 0 (with β = 0 the classifier ignores the generator)")
	}
	return newStep(b, ctx, []string{"discriminator", "generator", "classifier"}, func(ctx *context.Context, in []*Node) []*Node {
		if len(in) != 4 {
			panic(errors.Errorf("joint step takes (x, y, z1, z2), got %d inputs", len(in)))
		}
		x, y := in[0], in[1]
		lossD, lossG := ganHalf(ctx, gc, x, in[2], false)
		// 3. classifier descends -log p(y|x) + β KL(U‖p(y|G(z))) on fresh samples of the updated G.
		fake := StopGradient(cfg.GAN.Generator.Apply(ctx, in[3]))
		lossC := confcal.ConfidenceLoss(cfg.Net.Apply(ctx, x), y, cfg.Net.Apply(ctx, fake), cfg.Beta)
		cfg.Opt.Update(ctx, lossC)
		return []*Node{lossD, lossG, lossC}
	})
}

// String describes a step by its losses, for logs.
func (s *Step) String() string { return fmt.Sprintf("train.Step%v", s.names) }
