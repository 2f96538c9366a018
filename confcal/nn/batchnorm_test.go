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
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/backend"
)

// bnStats returns the per-channel mean, biased and unbiased variance of flat x with dims [B, C] or
// [B, C, H, W], computed in float64 with two passes.
func bnStats(x []float64, dims []int) (mean, biased, unbiased []float64) {
	c := dims[1]
	spatial := 1
	for _, d := range dims[2:] {
		spatial *= d
	}
	count := dims[0] * spatial
	mean, biased, unbiased = make([]float64, c), make([]float64, c), make([]float64, c)
	at := func(b, ch, s int) float64 { return x[(b*c+ch)*spatial+s] }
	for ch := range c {
		for b := range dims[0] {
			for s := range spatial {
				mean[ch] += at(b, ch, s)
			}
		}
		mean[ch] /= float64(count)
		ss := 0.0
		for b := range dims[0] {
			for s := range spatial {
				d := at(b, ch, s) - mean[ch]
				ss += d * d
			}
		}
		biased[ch] = ss / float64(count)
		unbiased[ch] = ss / float64(count-1)
	}
	return mean, biased, unbiased
}

// bnApply returns (x − mean)/√(variance + 1e-5)·γ + β per channel.
func bnApply(x []float64, dims []int, mean, variance, gamma, beta []float64) []float64 {
	c := dims[1]
	spatial := len(x) / (dims[0] * c)
	y := make([]float64, len(x))
	for i, v := range x {
		ch := (i / spatial) % c
		y[i] = (v-mean[ch])/math.Sqrt(variance[ch]+1e-5)*gamma[ch] + beta[ch]
	}
	return y
}

var bnShapes = [][]int{{4, 3, 5, 2}, {2, 4, 3, 3}, {6, 3}, {1, 2, 3, 1}}

// bnContext returns a context whose scope "bn" holds scale γ and offset β with the given values.
func bnContext(dtype dtypes.DType, gamma, beta []float64) *context.Context {
	ctx := context.New()
	ctx.In("bn").VariableWithValue("scale", layerTensor(gamma, dtype, len(gamma)))
	ctx.In("bn").VariableWithValue("offset", layerTensor(beta, dtype, len(beta)))
	return ctx
}

// bnExec compiles BatchNorm in scope "bn" (training or inference mode) returning its output.
func bnExec(ctx *context.Context, training bool) *context.Exec {
	return context.MustNewExec(backend.Must(), ctx, func(ctx *context.Context, x *Node) *Node {
		ctx.SetTraining(x.Graph(), training)
		return BatchNorm(ctx.In("bn").Checked(false), x)
	})
}

func bnVariable(ctx *context.Context, name string) []float64 {
	return layerFlat64(ctx.InspectVariable("/bn", name).MustValue())
}

func layerAssertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.IsNaN(want[i]) && math.IsNaN(got[i]) {
			continue
		}
		if !(math.Abs(got[i]-want[i]) <= tol*(1+math.Abs(want[i]))) { // NaN fails
			t.Fatalf("%s[%d]=%.10g want %.10g (tolerance %g)", what, i, got[i], want[i], tol)
		}
	}
}

func bnRandomAffine(rng *rand.Rand, c int) (gamma, beta []float64) {
	gamma, beta = make([]float64, c), make([]float64, c)
	for i := range c {
		gamma[i] = 0.5 + rng.Float64()
		beta[i] = rng.Float64() - 0.5
	}
	return gamma, beta
}

// Variables, their initial values and trainability.
func TestBatchNormVariables(t *testing.T) {
	ctx := context.New()
	exec := bnExec(ctx, true)
	defer exec.Finalize()
	exec.MustExec(layerTensor(make([]float64, 2*3*2*2), dtypes.Float32, 2, 3, 2, 2))
	for _, tc := range []struct {
		name      string
		trainable bool
		init      float64 // the running stats were updated once with a batch of zeros
	}{{"scale", true, 1}, {"offset", true, 0}, {"mean", false, 0}, {"variance", false, 0.9}} {
		v := ctx.InspectVariable("/bn", tc.name)
		if v == nil {
			t.Fatalf("no variable %q in /bn", tc.name)
		}
		if v.Trainable != tc.trainable {
			t.Errorf("%s: trainable=%v want %v", tc.name, v.Trainable, tc.trainable)
		}
		if got := v.Shape(); !got.Equal(shapes.Make(dtypes.Float32, 3)) {
			t.Errorf("%s: shape %s want (Float32)[3]", tc.name, got)
		}
		layerAssertClose(t, tc.name, layerFlat64(v.MustValue()), []float64{tc.init, tc.init, tc.init}, 1e-7)
	}
}

// Training mode: the output is (x − batch mean)/√(biased batch variance + ε)·γ + β; the running
// statistics follow PyTorch's rule over two steps (momentum 0.1, unbiased variance); inference
// mode then normalises with the running statistics and leaves them unchanged.
func TestBatchNormTrainingAndInference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, dims := range bnShapes {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			t.Run(fmt.Sprintf("%v_%s", dims, dtype), func(t *testing.T) {
				tol := 1e-12
				if dtype == dtypes.Float32 {
					tol = 2e-5
				}
				size := 1
				for _, d := range dims {
					size *= d
				}
				c := dims[1]
				gamma, beta := bnRandomAffine(rng, c)
				ctx := bnContext(dtype, gamma, beta)
				train, infer := bnExec(ctx, true), bnExec(ctx, false)
				defer train.Finalize()
				defer infer.Finalize()

				runMean, runVar := make([]float64, c), make([]float64, c)
				for i := range c {
					runVar[i] = 1
				}
				for step := 1; step <= 2; step++ {
					x := layerUniform(rng, size)
					for i := range x {
						x[i] = 3*x[i] + float64(step) // mean ≈ step, variance ≈ 3
					}
					if dtype == dtypes.Float32 {
						for i := range x {
							x[i] = float64(float32(x[i]))
						}
					}
					mean, biased, unbiased := bnStats(x, dims)
					got := layerFlat64(train.MustExec1(layerTensor(x, dtype, dims...)))
					layerAssertClose(t, fmt.Sprintf("step %d: training output", step), got, bnApply(x, dims, mean, biased, gamma, beta), tol)
					for i := range c {
						runMean[i] = 0.9*runMean[i] + 0.1*mean[i]
						runVar[i] = 0.9*runVar[i] + 0.1*unbiased[i]
					}
					layerAssertClose(t, fmt.Sprintf("step %d: running mean", step), bnVariable(ctx, "mean"), runMean, tol)
					layerAssertClose(t, fmt.Sprintf("step %d: running variance", step), bnVariable(ctx, "variance"), runVar, tol)
				}

				x := layerUniform(rng, size)
				got := layerFlat64(infer.MustExec1(layerTensor(x, dtype, dims...)))
				if dtype == dtypes.Float32 {
					for i := range x {
						x[i] = float64(float32(x[i]))
					}
				}
				layerAssertClose(t, "inference output", got, bnApply(x, dims, runMean, runVar, gamma, beta), tol)
				layerAssertClose(t, "running mean after inference", bnVariable(ctx, "mean"), runMean, tol)
				layerAssertClose(t, "running variance after inference", bnVariable(ctx, "variance"), runVar, tol)
			})
		}
	}
}

// Two applications in one training graph (a discriminator on real and fake batches) update the
// running statistics twice, the second from the first, as two PyTorch forward passes.
func TestBatchNormTwiceInOneGraph(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	dims := []int{3, 2, 2, 2}
	x1, x2 := layerUniform(rng, 24), layerUniform(rng, 24)
	for i := range x2 {
		x2[i] = 2*x2[i] + 1
	}
	ctx := context.New()
	exec := context.MustNewExec(backend.Must(), ctx, func(ctx *context.Context, a, b *Node) []*Node {
		ctx.SetTraining(a.Graph(), true)
		bn := ctx.In("bn").Checked(false)
		return []*Node{BatchNorm(bn, a), BatchNorm(bn, b)}
	})
	defer exec.Finalize()
	exec.MustExec(layerTensor(x1, dtypes.Float64, dims...), layerTensor(x2, dtypes.Float64, dims...))
	m1, _, v1 := bnStats(x1, dims)
	m2, _, v2 := bnStats(x2, dims)
	wantMean, wantVar := make([]float64, 2), make([]float64, 2)
	for i := range 2 {
		wantMean[i] = 0.9*(0.1*m1[i]) + 0.1*m2[i]
		wantVar[i] = 0.9*(0.9+0.1*v1[i]) + 0.1*v2[i]
	}
	layerAssertClose(t, "running mean", bnVariable(ctx, "mean"), wantMean, 1e-12)
	layerAssertClose(t, "running variance", bnVariable(ctx, "variance"), wantVar, 1e-12)
}

// bnGradExec compiles, in training or inference mode, the loss Σ w ⊙ BatchNorm(x) and its gradient
// w.r.t. x, γ and β (float64).
func bnGradExec(ctx *context.Context, training bool) *context.Exec {
	return context.MustNewExec(backend.Must(), ctx, func(ctx *context.Context, x, w *Node) []*Node {
		g := x.Graph()
		ctx.SetTraining(g, training)
		bn := ctx.In("bn").Checked(false)
		loss := ReduceAllSum(Mul(w, BatchNorm(bn, x)))
		scale := bn.GetVariable("scale").ValueGraph(g)
		offset := bn.GetVariable("offset").ValueGraph(g)
		return append([]*Node{loss}, Gradient(loss, x, scale, offset)...)
	})
}

// Gradients w.r.t. x, γ and β in training mode (through the batch statistics) and inference mode,
// against central finite differences of the graph's loss and against the closed forms:
// training: dx = γ/√(σ²+ε)·(w − mean(w) − x̂·mean(w·x̂)), dγ = Σ w·x̂, dβ = Σ w per channel.
func TestBatchNormGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, dims := range [][]int{{3, 2, 2, 3}, {5, 3}} {
		for _, training := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v_training=%v", dims, training), func(t *testing.T) {
				size := 1
				for _, d := range dims {
					size *= d
				}
				c := dims[1]
				gamma, beta := bnRandomAffine(rng, c)
				ctx := bnContext(dtypes.Float64, gamma, beta)
				// Non-trivial running statistics for inference mode.
				ctx.In("bn").VariableWithValue("mean", layerTensor(layerUniform(rng, c), dtypes.Float64, c))
				rv := layerUniform(rng, c)
				for i := range rv {
					rv[i] = 1.5 + rv[i]
				}
				ctx.In("bn").VariableWithValue("variance", layerTensor(rv, dtypes.Float64, c))
				exec := bnGradExec(ctx, training)
				defer exec.Finalize()
				x, w := layerUniform(rng, size), layerUniform(rng, size)
				xT, wT := layerTensor(x, dtypes.Float64, dims...), layerTensor(w, dtypes.Float64, dims...)
				outs := exec.MustExec(xT, wT)
				dx, dgamma, dbeta := layerFlat64(outs[1]), layerFlat64(outs[2]), layerFlat64(outs[3])

				// Closed forms.
				mean, variance := bnVariable(ctx, "mean"), rv
				if training {
					mean, variance, _ = bnStats(x, dims)
				}
				spatial := size / (dims[0] * c)
				count := float64(dims[0] * spatial)
				xhat := bnApply(x, dims, mean, variance, bnOnes(c), make([]float64, c))
				wantDGamma, wantDBeta := make([]float64, c), make([]float64, c)
				meanW, meanWX := make([]float64, c), make([]float64, c)
				for i := range x {
					ch := (i / spatial) % c
					wantDGamma[ch] += w[i] * xhat[i]
					wantDBeta[ch] += w[i]
					meanW[ch] += w[i] / count
					meanWX[ch] += w[i] * xhat[i] / count
				}
				wantDX := make([]float64, size)
				for i := range x {
					ch := (i / spatial) % c
					inv := gamma[ch] / math.Sqrt(variance[ch]+1e-5)
					if training {
						wantDX[i] = inv * (w[i] - meanW[ch] - xhat[i]*meanWX[ch])
					} else {
						wantDX[i] = inv * w[i]
					}
				}
				layerAssertClose(t, "dx vs closed form", dx, wantDX, 1e-10)
				layerAssertClose(t, "dγ vs closed form", dgamma, wantDGamma, 1e-10)
				layerAssertClose(t, "dβ vs closed form", dbeta, wantDBeta, 1e-10)

				// Finite differences (running statistics don't affect the training-mode loss, and the
				// inference graph doesn't change them).
				const h = 1e-6
				loss := func() float64 { return layerFlat64(exec.MustExec(xT, wT)[0])[0] }
				fdX := make([]float64, size)
				for i := range x {
					xp := append([]float64(nil), x...)
					xp[i] = x[i] + h
					xT = layerTensor(xp, dtypes.Float64, dims...)
					lp := loss()
					xp[i] = x[i] - h
					xT = layerTensor(xp, dtypes.Float64, dims...)
					fdX[i] = (lp - loss()) / (2 * h)
				}
				xT = layerTensor(x, dtypes.Float64, dims...)
				layerAssertClose(t, "dx vs finite differences", dx, fdX, 1e-6)
				for _, p := range []struct {
					name   string
					values []float64
					grad   []float64
				}{{"scale", gamma, dgamma}, {"offset", beta, dbeta}} {
					fd := make([]float64, c)
					v := ctx.InspectVariable("/bn", p.name)
					for i := range c {
						vp := append([]float64(nil), p.values...)
						vp[i] = p.values[i] + h
						if err := v.SetValue(layerTensor(vp, dtypes.Float64, c)); err != nil {
							t.Fatal(err)
						}
						lp := loss()
						vp[i] = p.values[i] - h
						if err := v.SetValue(layerTensor(vp, dtypes.Float64, c)); err != nil {
							t.Fatal(err)
						}
						fd[i] = (lp - loss()) / (2 * h)
					}
					if err := v.SetValue(layerTensor(p.values, dtypes.Float64, c)); err != nil {
						t.Fatal(err)
					}
					layerAssertClose(t, "d"+p.name+" vs finite differences", p.grad, fd, 1e-6)
				}
			})
		}
	}
}

func bnOnes(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// Training needs more than one value per channel (PyTorch raises the same error); other ranks are
// refused.
func TestBatchNormRejects(t *testing.T) {
	for _, tc := range []struct {
		dims     []int
		training bool
		want     string
	}{{[]int{1, 3}, true, "more than 1 value"}, {[]int{1, 3, 1, 1}, true, "more than 1 value"}, {[]int{2, 3, 4}, false, "takes x"}} {
		func() {
			g := NewGraph(backend.Must(), "bn")
			defer g.Finalize()
			ctx := context.New()
			ctx.SetTraining(g, tc.training)
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Errorf("BatchNorm(%v, training=%v): panic %v, want one mentioning %q", tc.dims, tc.training, r, tc.want)
				}
			}()
			BatchNorm(ctx, Parameter(g, "x", shapes.Make(dtypes.Float32, tc.dims...)))
		}()
	}
	// One sample per channel is fine in inference mode.
	ctx := context.New()
	out := bnExec(ctx, false)
	defer out.Finalize()
	if got := layerFlat64(out.MustExec1(tensors.FromValue([][]float32{{1, 2, 3}}))); !(math.Abs(got[0]-1/math.Sqrt(1+1e-5)) <= 1e-6) {
		t.Errorf("inference on one sample: %v", got)
	}
}

// Training and inference graphs, with the gradient w.r.t. x, γ and β, use only ops the default
// backend lists (in particular no BatchNorm* op).
func TestBatchNormOpsSupported(t *testing.T) {
	be := backend.Must()
	for _, dims := range [][]int{{4, 3, 5, 5}, {8, 3}} {
		for _, training := range []bool{true, false} {
			for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
				ctx := context.New()
				g := NewGraph(be, "bn")
				ctx.SetTraining(g, training)
				x := Parameter(g, "x", shapes.Make(dtype, dims...))
				bn := ctx.In("bn")
				y := BatchNorm(bn, x)
				Gradient(ReduceAllSum(Mul(y, y)), x, bn.GetVariable("scale").ValueGraph(g), bn.GetVariable("offset").ValueGraph(g))
				if got := UnsupportedOps(g, be); len(got) != 0 {
					t.Errorf("%v training=%v %s: ops outside %s's capabilities: %v", dims, training, dtype, be.Name(), got)
				}
				g.Finalize()
			}
		}
	}
}
