package train_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/train"
)

// TestCPUBackendStepsMatchSimplego runs the same training steps (same seed, same inputs) on the
// project's CPU backend and on plain simplego, whose kernels are an independent implementation of
// every op the CPU backend replaces, and compares the losses and every variable after the steps.
// The two sum in different orders, so they agree to float32 rounding, not bit for bit.
//
// The CNNs' training steps use ops plain simplego lacks (Reverse, SelectAndScatterMax, the
// gradients of their native convolutions and pooling); confcal/nn's TestStepsMatchOracle compares
// them, on this backend, with the implementations they used before, run on plain simplego.
func TestCPUBackendStepsMatchSimplego(t *testing.T) {
	if testing.Short() {
		t.Skip("runs CNN training steps on two backends")
	}
	cpu, err := backend.NewWithConfig(backend.Default)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := backend.NewWithConfig("go:ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		build  func(b backends.Backend, ctx *context.Context) (*train.Step, error)
		inputs func(r *rand.Rand) []any
	}{
		{"joint (2-D MLPs)", func(b backends.Backend, ctx *context.Context) (*train.Step, error) {
			return train.Joint(b, ctx, train.JointConfig{
				GAN: train.GANConfig{Generator: gen, Discriminator: disc, OptG: adam("generator"), OptD: adam("discriminator")},
				Net: cls, Opt: adam("classifier"), Beta: 1})
		}, func(r *rand.Rand) []any {
			x, y := twoBlobs(r, 16)
			return []any{x, y, noise(r, 32, 2, 1), noise(r, 32, 2, 1)}
		}},
	}
	const steps = 3
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var losses [2][][]float64
			var vars [2]map[string][]float32
			for k, b := range []backends.Backend{plain, cpu} {
				ctx := context.New()
				ctx.SetRNGStateFromSeed(7)
				step, err := tc.build(b, ctx)
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(8, 9))
				for range steps {
					l, err := step.Run(tc.inputs(r)...)
					if err != nil {
						t.Fatal(err)
					}
					losses[k] = append(losses[k], l)
				}
				vars[k] = snapshot(ctx)
			}
			for s := range steps {
				for i := range losses[0][s] {
					a, b := losses[0][s][i], losses[1][s][i]
					if math.Abs(a-b) > 1e-4*(1+math.Abs(a)) {
						t.Errorf("step %d loss %d: simplego %.7g, cpu %.7g", s, i, a, b)
					}
				}
			}
			// After a few Adam steps a variable moves by about lr per step; the backends may differ by
			// a small fraction of that where a gradient is near zero (Adam's sign-like first steps).
			var worst float64
			var worstName string
			for name, a := range vars[0] {
				b := vars[1][name]
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
