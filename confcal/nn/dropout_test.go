package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/backend"
)

// dropoutExec compiles Dropout(x, p) in the given mode, returning the output and the gradient of
// Σ w ⊙ output w.r.t. x.
func dropoutExec(ctx *context.Context, p float64, training bool) *context.Exec {
	return context.MustNewExec(backend.Must(), ctx, func(ctx *context.Context, x, w *Node) []*Node {
		ctx.SetTraining(x.Graph(), training)
		y := Dropout(ctx, x, p)
		return []*Node{y, Gradient(ReduceAllSum(Mul(w, y)), x)[0]}
	})
}

// Inference mode is the identity (gradient: w), whatever p.
func TestDropoutInferenceIsIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	x, w := layerUniform(rng, 600), layerUniform(rng, 600)
	for _, p := range []float64{0, 0.5, 1} {
		exec := dropoutExec(context.New(), p, false)
		outs := exec.MustExec(layerTensor(x, dtypes.Float32, 20, 30), layerTensor(w, dtypes.Float32, 20, 30))
		layerAssertClose(t, fmt.Sprintf("p=%g: output", p), layerFlat64(outs[0]), layerFlat64(layerTensor(x, dtypes.Float32, 600)), 0)
		layerAssertClose(t, fmt.Sprintf("p=%g: gradient", p), layerFlat64(outs[1]), layerFlat64(layerTensor(w, dtypes.Float32, 600)), 0)
		exec.Finalize()
	}
}

// Training mode: about p of the entries are zeroed (within 0.01 on 200,000 entries, ≥ 9 standard
// deviations), the others scaled by 1/(1−p); the gradient is the same mask times 1/(1−p); each
// execution draws a new mask, and the same seed gives the same masks.
func TestDropoutTraining(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const rows, cols = 200, 1000
	x, w := layerUniform(rng, rows*cols), layerUniform(rng, rows*cols)
	for i := range x {
		x[i] = 1 + math.Abs(x[i]) // never 0, so a zero output means dropped
	}
	for _, p := range []float64{0.5, 0.2, 0.9} {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			t.Run(fmt.Sprintf("p=%g_%s", p, dtype), func(t *testing.T) {
				tol := 1e-12
				if dtype == dtypes.Float32 {
					tol = 1e-6
				}
				ctx := context.New()
				if err := ctx.SetRNGStateFromSeed(42); err != nil {
					t.Fatal(err)
				}
				exec := dropoutExec(ctx, p, true)
				defer exec.Finalize()
				xT, wT := layerTensor(x, dtype, rows, cols), layerTensor(w, dtype, rows, cols)
				var masks [][]bool
				for run := range 2 {
					outs := exec.MustExec(xT, wT)
					y, dx := layerFlat64(outs[0]), layerFlat64(outs[1])
					mask := make([]bool, len(y))
					dropped := 0
					for i := range y {
						if y[i] == 0 {
							dropped++
							if dx[i] != 0 {
								t.Fatalf("run %d: entry %d dropped but gradient %v", run, i, dx[i])
							}
							continue
						}
						mask[i] = true
						xi, wi := x[i], w[i]
						if dtype == dtypes.Float32 {
							xi, wi = float64(float32(xi)), float64(float32(wi))
						}
						if !(math.Abs(y[i]-xi/(1-p)) <= tol*math.Abs(y[i])) {
							t.Fatalf("run %d: y[%d]=%v, want x/(1-p)=%v", run, i, y[i], xi/(1-p))
						}
						if !(math.Abs(dx[i]-wi/(1-p)) <= tol*(1+math.Abs(dx[i]))) {
							t.Fatalf("run %d: dx[%d]=%v, want w/(1-p)=%v", run, i, dx[i], wi/(1-p))
						}
					}
					if frac := float64(dropped) / float64(len(y)); math.Abs(frac-p) > 0.01 {
						t.Errorf("run %d: dropped fraction %.4f, want %.2f ± 0.01", run, frac, p)
					}
					masks = append(masks, mask)
				}
				same := 0
				for i := range masks[0] {
					if masks[0][i] == masks[1][i] {
						same++
					}
				}
				// Independent masks agree on p²+(1−p)² of the entries.
				if agree := float64(same) / float64(len(masks[0])); agree > p*p+(1-p)*(1-p)+0.01 {
					t.Errorf("two executions agree on %.4f of the entries: the mask did not change", agree)
				}

				// Same seed, same first mask.
				ctx2 := context.New()
				if err := ctx2.SetRNGStateFromSeed(42); err != nil {
					t.Fatal(err)
				}
				exec2 := dropoutExec(ctx2, p, true)
				defer exec2.Finalize()
				y2 := layerFlat64(exec2.MustExec(xT, wT)[0])
				for i := range y2 {
					if (y2[i] != 0) != masks[0][i] {
						t.Fatalf("same seed, different mask at %d", i)
					}
				}
			})
		}
	}
}

// p = 0 is the identity and p = 1 gives zeros in training mode; p outside [0, 1] is refused.
func TestDropoutEdgeRates(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	x, w := layerUniform(rng, 50), layerUniform(rng, 50)
	for _, tc := range []struct {
		p        float64
		wantY    []float64
		wantGrad []float64
	}{{0, x, w}, {1, make([]float64, 50), make([]float64, 50)}} {
		exec := dropoutExec(context.New(), tc.p, true)
		outs := exec.MustExec(layerTensor(x, dtypes.Float64, 5, 10), layerTensor(w, dtypes.Float64, 5, 10))
		layerAssertClose(t, fmt.Sprintf("p=%g: output", tc.p), layerFlat64(outs[0]), tc.wantY, 0)
		layerAssertClose(t, fmt.Sprintf("p=%g: gradient", tc.p), layerFlat64(outs[1]), tc.wantGrad, 0)
		exec.Finalize()
	}
	for _, p := range []float64{-0.1, 1.5, math.NaN()} {
		func() {
			g := NewGraph(backend.Must(), "dropout")
			defer g.Finalize()
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "drop rate") {
					t.Errorf("Dropout(p=%g): panic %v, want one about the drop rate", p, r)
				}
			}()
			Dropout(context.New(), Parameter(g, "x", shapes.Make(dtypes.Float32, 3)), p)
		}()
	}
}

// The training graph with its gradient uses only ops the default backend lists.
func TestDropoutOpsSupported(t *testing.T) {
	be := backend.Must()
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
		ctx := context.New()
		g := NewGraph(be, "dropout")
		ctx.SetTraining(g, true)
		x := Parameter(g, "x", shapes.Make(dtype, 4, 3, 2, 2))
		y := Dropout(ctx, x, 0.5)
		Gradient(ReduceAllSum(Mul(y, y)), x)
		if got := UnsupportedOps(g, be); len(got) != 0 {
			t.Errorf("%s: ops outside %s's capabilities: %v", dtype, be.Name(), got)
		}
		g.Finalize()
	}
}
