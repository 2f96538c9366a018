package nn_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/nn"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/train"
)

// TestStepsMatchOracle runs 3 training steps of every CNN of the paper (simple CNN, VGG-13, AlexNet:
// confidence loss; DCGAN: one discriminator and one generator update), same seed and inputs, with
// GoMLX's native convolution and pooling on the default (cpu) backend, and with the
// implementations the models used before (im2col by Gather, max pooling by ArgMax + Gather; see
// nn.UseOracle) on plain simplego, whose kernels are independent of the cpu backend's, and compares
// the losses and every variable after the steps. They sum in different orders, so they agree to
// float32 rounding, not bit for bit.
func TestStepsMatchOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("runs CNN training steps twice")
	}
	cpu, err := backend.NewWithConfig(backend.Default)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := backend.NewWithConfig("go:ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	img := func(r *rand.Rand, n int) *tensors.Tensor {
		v := make([]float32, n*3*32*32)
		for i := range v {
			v[i] = r.Float32()
		}
		return tensors.FromFlatDataAndDimensions(v, n, 3, 32, 32)
	}
	lab := func(r *rand.Rand, n int) *tensors.Tensor {
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(r.IntN(10))
		}
		return tensors.FromFlatDataAndDimensions(v, n)
	}
	noise := func(r *rand.Rand, n, d int) *tensors.Tensor {
		z := make([]float32, n*d)
		for i := range z {
			z[i] = float32(r.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(z, n, d)
	}
	classifier := func(fn models.Fn) func(b backends.Backend, ctx *context.Context) (*train.Step, error) {
		return func(b backends.Backend, ctx *context.Context) (*train.Step, error) {
			net := models.Net{Scope: models.ClassifierScope, Fn: fn}
			return train.Classifier(b, ctx, train.ClassifierConfig{Net: net, Opt: optim.Adam{Scope: net.Scope, LearningRate: 1e-3}, Beta: 1})
		}
	}
	cases := []struct {
		name   string
		build  func(b backends.Backend, ctx *context.Context) (*train.Step, error)
		inputs func(r *rand.Rand) []any
		// noisy says which variables have an exact gradient of zero, so that Adam turns rounding
		// noise into full steps of either sign: the biases of VGG's convolutions, which batch norm
		// cancels, and the running means of those batch norms, which follow the biases.
		noisy bool
	}{
		{"VGG-13", classifier(models.VGG13(10, 1.0/8)), func(r *rand.Rand) []any { return []any{img(r, 4), lab(r, 4), img(r, 4)} }, true},
		{"simple CNN", classifier(models.SimpleCNN(10, 16, 32, 64, 32)), func(r *rand.Rand) []any { return []any{img(r, 8), lab(r, 8), img(r, 8)} }, false},
		{"AlexNet", classifier(models.AlexNet(10, 1.0/8)), func(r *rand.Rand) []any { return []any{img(r, 4), lab(r, 4), img(r, 4)} }, false},
		{"DCGAN", func(b backends.Backend, ctx *context.Context) (*train.Step, error) {
			g := models.Net{Scope: models.GeneratorScope, Fn: models.DCGANGenerator(3, 1.0/8)}
			d := models.Net{Scope: models.DiscriminatorScope, Fn: models.DCGANDiscriminator(1.0 / 8)}
			return train.GAN(b, ctx, train.GANConfig{Generator: g, Discriminator: d,
				OptG: optim.Adam{Scope: g.Scope, LearningRate: 2e-4, Beta1: 0.5},
				OptD: optim.Adam{Scope: d.Scope, LearningRate: 2e-4, Beta1: 0.5}})
		}, func(r *rand.Rand) []any { return []any{img(r, 4), noise(r, 4, 100)} }, false},
	}
	const steps = 3
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var losses [2][][]float64
			var vars [2]map[string][]float32
			for k, b := range []backends.Backend{plain, cpu} {
				restore := func() {}
				if k == 0 {
					restore = nn.UseOracle()
				}
				ctx := context.New()
				ctx.SetRNGStateFromSeed(7)
				step, err := tc.build(b, ctx)
				if err != nil {
					restore()
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(8, 9))
				for range steps {
					l, err := step.Run(tc.inputs(r)...)
					if err != nil {
						restore()
						t.Fatal(err)
					}
					losses[k] = append(losses[k], l)
				}
				vars[k] = map[string][]float32{}
				for v := range ctx.IterVariables() {
					if v.DType().IsFloat() {
						vars[k][v.ScopeAndName()] = tensors.MustCopyFlatData[float32](v.MustValue())
					}
				}
				restore() // native ops for the second run
			}
			for s := range steps {
				for i := range losses[0][s] {
					a, b := losses[0][s][i], losses[1][s][i]
					if math.Abs(a-b) > 1e-4*(1+math.Abs(a)) {
						t.Errorf("step %d loss %d: oracle %.7g, native %.7g", s, i, a, b)
					}
				}
			}
			// After a few Adam steps a variable moves by about lr per step; the two may differ by a
			// small fraction of that where a gradient is near zero (Adam's sign-like first steps).
			var worst float64
			var worstName string
			for name, a := range vars[0] {
				if tc.noisy && strings.HasPrefix(name, "/classifier/conv_") &&
					(strings.HasSuffix(name, "/biases") || strings.HasSuffix(name, "/bn/mean")) {
					continue
				}
				b, ok := vars[1][name]
				if !ok || len(b) != len(a) {
					t.Fatalf("variable %s: %d values with the oracle, %d native", name, len(a), len(b))
				}
				for i := range a {
					if d := math.Abs(float64(a[i] - b[i])); d > worst {
						worst, worstName = d, name
					}
				}
			}
			t.Logf("largest variable difference %.3g (%s)", worst, worstName)
			if worst > 1e-3 {
				t.Errorf("variables differ by up to %.3g (%s)", worst, worstName)
			}
		})
	}
}
