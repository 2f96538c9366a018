package train_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/train"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

var (
	cls  = models.Net{Scope: models.ClassifierScope, Fn: models.MLP([]int{16}, 2)}
	gen  = models.Net{Scope: models.GeneratorScope, Fn: models.MLP([]int{16}, 2)}
	disc = models.Net{Scope: models.DiscriminatorScope, Fn: models.MLP([]int{16}, 1)}
)

func adam(scope string) optim.Adam { return optim.Adam{Scope: scope, LearningRate: 0.01} }

// twoBlobs returns n points per class around (-2,0) and (2,0).
func twoBlobs(r *rand.Rand, n int) (*tensors.Tensor, *tensors.Tensor) {
	x := make([]float32, 0, 4*n)
	y := make([]int32, 0, 2*n)
	for c := range 2 {
		for range n {
			x = append(x, float32(4*c-2)+float32(r.NormFloat64()*0.5), float32(r.NormFloat64()*0.5))
			y = append(y, int32(c))
		}
	}
	return tensors.FromFlatDataAndDimensions(x, 2*n, 2), tensors.FromFlatDataAndDimensions(y, 2*n)
}

func noise(r *rand.Rand, n, d int, scale float64) *tensors.Tensor {
	z := make([]float32, n*d)
	for i := range z {
		z[i] = float32(r.NormFloat64() * scale)
	}
	return tensors.FromFlatDataAndDimensions(z, n, d)
}

// snapshot copies every variable's value, by scope+name.
func snapshot(ctx *context.Context) map[string][]float32 {
	s := map[string][]float32{}
	for v := range ctx.IterVariables() {
		if v.DType().IsFloat() {
			s[v.ScopeAndName()] = tensors.MustCopyFlatData[float32](v.MustValue())
		}
	}
	return s
}

// changedNetworks returns which of the three networks' trainable variables changed.
func changedNetworks(before, after map[string][]float32) map[string]bool {
	out := map[string]bool{}
	for name, a := range after {
		b, ok := before[name]
		for _, net := range []string{"classifier", "generator", "discriminator"} {
			if strings.HasPrefix(name, "/"+net+"/") && (!ok || !equal(a, b)) {
				out[net] = true
			}
		}
	}
	return out
}

func equal(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func TestClassifierLearnsAndTouchesOnlyItself(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b := backend.Must()
	ctx := context.New()
	ctx.SetRNGStateFromSeed(1)
	step, err := train.Classifier(b, ctx, train.ClassifierConfig{Net: cls, Opt: adam("classifier"), Beta: 1})
	if err != nil {
		t.Fatal(err)
	}
	x, y := twoBlobs(r, 32)
	out := noise(r, 32, 2, 6)
	var first, last float64
	for i := range 150 {
		l, err := step.Run(x, y, out)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = l[0]
		}
		last = l[0]
	}
	if !(last < first*0.5) {
		t.Fatalf("confidence loss did not go down: first %.4f, last %.4f", first, last)
	}
	if optim.Steps(ctx, "classifier") != 150 {
		t.Fatalf("classifier optimizer made %d steps, want 150", optim.Steps(ctx, "classifier"))
	}
}

func TestJointStepUpdatesEachNetworkWithItsOwnOptimizer(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := backend.Must()
	ctx := context.New()
	ctx.SetRNGStateFromSeed(2)
	cfg := train.JointConfig{
		GAN: train.GANConfig{Generator: gen, Discriminator: disc, OptG: adam("generator"), OptD: adam("discriminator")},
		Net: cls, Opt: adam("classifier"), Beta: 1,
	}
	joint, err := train.Joint(b, ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	x, y := twoBlobs(r, 8)
	if _, err := joint.Run(x, y, noise(r, 16, 2, 1), noise(r, 16, 2, 1)); err != nil {
		t.Fatal(err)
	}
	for _, net := range []string{"classifier", "generator", "discriminator"} {
		if got := optim.Steps(ctx, net); got != 1 {
			t.Errorf("%s optimizer: %d steps after one joint iteration, want 1", net, got)
		}
	}
	// A classifier-only step must leave G and D bit-for-bit unchanged, a GAN step the classifier.
	clsStep, err := train.Classifier(b, ctx, train.ClassifierConfig{Net: cls, Opt: adam("classifier"), Beta: 1})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(ctx)
	if _, err := clsStep.Run(x, y, noise(r, 16, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if ch := changedNetworks(before, snapshot(ctx)); !ch["classifier"] || ch["generator"] || ch["discriminator"] {
		t.Fatalf("classifier step changed %v", ch)
	}
	ganStep, err := train.GAN(b, ctx, train.GANConfig{Generator: gen, Discriminator: disc,
		OptG: adam("generator"), OptD: adam("discriminator"), Classifier: cls, Beta: 1})
	if err != nil {
		t.Fatal(err)
	}
	before = snapshot(ctx)
	if _, err := ganStep.Run(x, noise(r, 16, 2, 1)); err != nil {
		t.Fatal(err)
	}
	if ch := changedNetworks(before, snapshot(ctx)); ch["classifier"] || !ch["generator"] || !ch["discriminator"] {
		t.Fatalf("GAN step changed %v", ch)
	}
	before = snapshot(ctx)
	if _, err := joint.Run(x, y, noise(r, 16, 2, 1), noise(r, 16, 2, 1)); err != nil {
		t.Fatal(err)
	}
	if ch := changedNetworks(before, snapshot(ctx)); !ch["classifier"] || !ch["generator"] || !ch["discriminator"] {
		t.Fatalf("joint step changed only %v", ch)
	}
}

func TestConfigErrors(t *testing.T) {
	b := backend.Must()
	ctx := context.New()
	cases := map[string]func() error{
		"beta": func() error {
			_, err := train.Classifier(b, ctx, train.ClassifierConfig{Net: cls, Opt: adam("classifier"), Beta: -1})
			return err
		},
		"scope": func() error {
			_, err := train.Classifier(b, ctx, train.ClassifierConfig{Net: cls, Opt: adam("generator")})
			return err
		},
		"classifier": func() error {
			_, err := train.GAN(b, ctx, train.GANConfig{Generator: gen, Discriminator: disc, OptG: adam("generator"), OptD: adam("discriminator"), Beta: 1})
			return err
		},
		"learning rate": func() error {
			_, err := train.Classifier(b, ctx, train.ClassifierConfig{Net: cls, Opt: optim.Adam{Scope: "classifier"}})
			return err
		},
	}
	for want, f := range cases {
		err := f()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error mentioning %q", err, want)
		}
	}
}

func TestDivergenceIsReported(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ctx := context.New()
	step, err := train.Classifier(backend.Must(), ctx, train.ClassifierConfig{Net: cls, Opt: optim.Adam{Scope: "classifier", LearningRate: 1e38}})
	if err != nil {
		t.Fatal(err)
	}
	x, y := twoBlobs(r, 4)
	for i := range 10 {
		if _, err = step.Run(x, y); err != nil {
			break
		}
		_ = i
	}
	if err == nil || !strings.Contains(err.Error(), "diverged") {
		t.Fatalf("got %v, want a divergence error", err)
	}
}
