package detect_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/nn"
	"github.com/confcal/confcal/confcal/softmax"
)

// linearNet is logits = x·W + b with fixed W [d, k] and b [k].
func linearNet(w [][]float32, b []float32) models.Net {
	return models.Net{Scope: "lin", Fn: func(ctx *context.Context, x *Node) *Node {
		g := x.Graph()
		wv := ctx.VariableWithValue("w", w).ValueGraph(g)
		bv := ctx.VariableWithValue("b", b).ValueGraph(g)
		return Add(Dot(x, wv), InsertAxes(bv, 0))
	}}
}

// initialized returns a fresh context holding net's initial variables, for examples of dims.
func initialized(t *testing.T, net models.Net, dims ...int) *context.Context {
	t.Helper()
	ctx := context.New()
	if err := models.Initialize(backend.Must(), ctx, net, dims...); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// linearByHand returns the linear model's logits x·W + b in float64.
func linearByHand(w [][]float32, b []float32, x []float64) []float64 {
	l := make([]float64, len(b))
	for j := range l {
		l[j] = float64(b[j])
		for i := range w {
			l[j] += x[i] * float64(w[i][j])
		}
	}
	return l
}

// softmaxByHand returns softmax(l/T) in float64.
func softmaxByHand(l []float64, T float64) []float64 {
	m := slices.Max(l)
	p := make([]float64, len(l))
	s := 0.0
	for j, v := range l {
		p[j] = math.Exp((v - m) / T)
		s += p[j]
	}
	for j := range p {
		p[j] /= s
	}
	return p
}

// odinByHand is ODIN for the linear model in float64: with p = softmax(l/T) and ŷ = argmax l,
// ∇_x log S_ŷ = (W[:,ŷ] − Σ_k p_k W[:,k]) / T and x' = x − ε·sign(−∇) = x + ε·sign(∇).
// It also returns min |∇_d| so that the caller can make sure no sign is ambiguous in float32.
func odinByHand(w [][]float32, b []float32, x []float64, T, eps float64) (xp []float64, score, minAbsGrad float64) {
	d, k := len(w), len(b)
	l := linearByHand(w, b, x)
	top := 0
	for j, v := range l {
		if v > l[top] {
			top = j
		}
	}
	p := softmaxByHand(l, T)
	xp = make([]float64, d)
	minAbsGrad = math.Inf(1)
	for i := 0; i < d; i++ {
		gr := float64(w[i][top])
		for j := 0; j < k; j++ {
			gr -= p[j] * float64(w[i][j])
		}
		gr /= T
		minAbsGrad = math.Min(minAbsGrad, math.Abs(gr))
		s := 0.0
		if gr > 0 {
			s = 1
		} else if gr < 0 {
			s = -1
		}
		xp[i] = x[i] + eps*s
	}
	return xp, slices.Max(softmaxByHand(linearByHand(w, b, xp), T)), minAbsGrad
}

func TestODINMatchesHandComputation(t *testing.T) {
	const d, k, n = 6, 4, 7
	rng := rand.New(rand.NewPCG(1, 2))
	w := make([][]float32, d)
	for i := range w {
		w[i] = make([]float32, k)
		for j := range w[i] {
			w[i][j] = float32(3 * (2*rng.Float64() - 1))
		}
	}
	b := []float32{0.3, -0.2, 0.1, 0}
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	// The direction of the perturbation depends on T (through the softmax weights of the other
	// classes): make sure the data shows it, so that ignoring T in the gradient fails the test.
	flips := 0
	for i := 0; i < n; i++ {
		xi := make([]float64, d)
		for j := range xi {
			xi[j] = float64(x[i*d+j])
		}
		x1, _, _ := odinByHand(w, b, xi, 1, 1)
		x1000, _, _ := odinByHand(w, b, xi, 1000, 1)
		for j := range x1 {
			if x1[j] != x1000[j] {
				flips++
			}
		}
	}
	if flips == 0 {
		t.Fatal("the test data has the same perturbation direction at T = 1 and T = 1000; change it")
	}
	o, err := detect.NewODIN(backend.Must(), initialized(t, linearNet(w, b), d), linearNet(w, b), 3) // 7 = 3+3+1: padded
	if err != nil {
		t.Fatal(err)
	}
	grid := []detect.ODINParams{{T: 3, Eps: 0}, {T: 1, Eps: 0.01}, {T: 10, Eps: 1e-3}, {T: 1000, Eps: 1e-4}, {T: 2.5, Eps: 0.05}, {T: 10, Eps: 0.05}, {T: 10, Eps: 0}}
	gridScores, err := o.GridScores(x, grid, d)
	if err != nil {
		t.Fatal(err)
	}
	for pi, p := range grid {
		xp, logits, err := o.Perturb(x, p.T, p.Eps, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(xp) != len(x) || len(logits) != n {
			t.Fatalf("T=%v ε=%v: got %d perturbed values and %d logit rows, want %d and %d", p.T, p.Eps, len(xp), len(logits), len(x), n)
		}
		scores, _ := softmax.Rows(logits, p.T)
		got, err := o.Scores(x, p.T, p.Eps, d)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			xi := make([]float64, d)
			for j := range xi {
				xi[j] = float64(x[i*d+j])
			}
			wantXP, wantScore, minGrad := odinByHand(w, b, xi, p.T, p.Eps)
			if minGrad < 1e-5/p.T {
				t.Fatalf("example %d: gradient component %g too small for an unambiguous sign; change the data", i, minGrad)
			}
			for j := range wantXP {
				if diff := math.Abs(float64(xp[i*d+j]) - wantXP[j]); diff > 1e-6 {
					t.Errorf("T=%v ε=%v example %d: x'[%d] = %v, want %v", p.T, p.Eps, i, j, xp[i*d+j], wantXP[j])
				}
			}
			if diff := math.Abs(scores[i] - wantScore); diff > 2e-6*wantScore {
				t.Errorf("T=%v ε=%v example %d: score %v, want %v", p.T, p.Eps, i, scores[i], wantScore)
			}
			if got[i] != scores[i] || gridScores[pi][i] != scores[i] {
				t.Errorf("T=%v ε=%v example %d: Scores %v, GridScores %v, softmax.Rows(Perturb) %v", p.T, p.Eps, i, got[i], gridScores[pi][i], scores[i])
			}
		}
	}
	flat := models.Net{Scope: "flat", Fn: func(_ *context.Context, x *Node) *Node { return ReduceSum(x, -1) }}
	if of, err := detect.NewODIN(backend.Must(), context.New(), flat, 3); err != nil {
		t.Fatal(err)
	} else if _, err := of.Scores(x, 1, 1e-3, d); err == nil {
		t.Error("a network without [batch, K] logits should be an error")
	}
	if _, err := o.Scores(x, 0, 0, d); err == nil {
		t.Error("T = 0 should be rejected")
	}
	if _, err := o.Scores(x, 1, -1e-3, d); err == nil {
		t.Error("ε < 0 should be rejected")
	}
	if _, err := o.Scores(x[:d+1], 1, 0, d); err == nil {
		t.Errorf("%d values are not a whole number of %d-value examples", d+1, d)
	}
}

// mlpWithNorm is a small classifier with batch norm and dropout, whose training mode would change
// variables (batch-norm statistics, the random generator's state) and outputs.
func mlpWithNorm(ctx *context.Context, x *Node) *Node {
	h := models.Dense(ctx.In("fc_0"), x, 16)
	h = nn.ReLUCtx(ctx, nn.BatchNorm(ctx.In("bn"), h))
	h = nn.Dropout(ctx, h, 0.5)
	return models.Dense(ctx.In("fc_1"), h, 4)
}

// snapshot returns a copy of the raw bytes of every variable of ctx, by scope and name.
func snapshot(t *testing.T, ctx *context.Context) map[string][]byte {
	t.Helper()
	vars := map[string][]byte{}
	for v := range ctx.IterVariables() {
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		if err := val.ConstBytes(func(data []byte) { vars[v.ScopeAndName()] = slices.Clone(data) }); err != nil {
			t.Fatal(err)
		}
	}
	return vars
}

// With ε = 0 and T = 1 ODIN is the baseline detector, in inference mode; no variable changes; the
// batch size (hence the zero padding) does not change any example's result.
func TestODINBaselineInferenceAndPadding(t *testing.T) {
	const d, n = 6, 11
	be := backend.Must()
	ctx := context.New()
	net := models.Net{Scope: "clf", Fn: mlpWithNorm}
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	if err := models.Initialize(be, ctx, net, d); err != nil {
		t.Fatal(err)
	}
	pred, err := models.NewPredictor(be, ctx, net, 5)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := pred.Outputs(x, d)
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, ctx)
	if len(before) == 0 {
		t.Fatal("the network has no variables")
	}
	base := detect.Baseline(logits)

	o4, err := detect.NewODIN(be, ctx, net, 4)
	if err != nil {
		t.Fatal(err)
	}
	got, err := o4.Scores(x, 1, 0, d)
	if err != nil {
		t.Fatal(err)
	}
	for i := range base {
		if math.Abs(got[i]-base[i]) > 1e-12 {
			t.Errorf("ODIN(T=1, ε=0)[%d] = %v, baseline %v", i, got[i], base[i])
		}
	}
	xp4, l4, err := o4.Perturb(x, 10, 1e-2, d)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for i := range x {
		if diff := math.Abs(float64(xp4[i] - x[i])); diff > 1e-6 {
			moved++
			if math.Abs(diff-1e-2) > 1e-6 {
				t.Errorf("x'[%d] - x[%d] = %v, want ±0.01", i, i, xp4[i]-x[i])
			}
		}
	}
	if moved < len(x)/2 {
		t.Errorf("only %d of %d inputs moved by ε", moved, len(x))
	}
	o1, err := detect.NewODIN(be, ctx, net, 1)
	if err != nil {
		t.Fatal(err)
	}
	xp1, l1, err := o1.Perturb(x, 10, 1e-2, d)
	if err != nil {
		t.Fatal(err)
	}
	for i := range xp1 {
		if xp1[i] != xp4[i] {
			t.Fatalf("x'[%d] with batch 1 = %v, with batch 4 = %v", i, xp1[i], xp4[i])
		}
	}
	for i := range l1 {
		for j := range l1[i] {
			if math.Abs(float64(l1[i][j]-l4[i][j])) > 1e-5 {
				t.Fatalf("logits[%d][%d] with batch 1 = %v, with batch 4 = %v", i, j, l1[i][j], l4[i][j])
			}
		}
	}
	after := snapshot(t, ctx)
	if len(after) != len(before) {
		t.Fatalf("%d variables before ODIN, %d after", len(before), len(after))
	}
	for name, v := range before {
		if !slices.Equal(v, after[name]) {
			t.Errorf("variable %s changed", name)
		}
	}
}

// The network is in inference mode inside ODIN: a training step would change the batch-norm
// statistics, so this test also shows that snapshot sees such a change.
func TestODINSnapshotDetectsTraining(t *testing.T) {
	const d = 6
	ctx := context.New()
	net := models.Net{Scope: "clf", Fn: mlpWithNorm}
	exec, err := context.NewExec(backend.Must(), ctx, func(ctx *context.Context, x *Node) *Node {
		ctx.SetTraining(x.Graph(), true)
		return net.Apply(ctx, x)
	})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 4*d)
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	if _, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, 4, d)); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, ctx)
	if _, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, 4, d)); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, ctx)
	changed := false
	for name, v := range before {
		changed = changed || !slices.Equal(v, after[name])
	}
	if !changed {
		t.Error("a training-mode run changed no variable: the no-change check of ODIN would be vacuous")
	}
}

func TestODINGridAndSelect(t *testing.T) {
	grid := detect.ODINGrid()
	if len(grid) != 20 || grid[0] != (detect.ODINParams{T: 1, Eps: 0}) || grid[1] != (detect.ODINParams{T: 1, Eps: 1e-4}) ||
		grid[19] != (detect.ODINParams{T: 1000, Eps: 0.01}) {
		t.Fatalf("grid = %v", grid)
	}
	// Detection errors by hand: identical sets 50%; in {2,3} vs out {1,2}: 25%; separated: 0%.
	sets := [][2][]float64{
		{{1, 2}, {1, 2}},
		{{2, 3}, {1, 2}},
		{{5, 6}, {1, 2}},
		{{3, 4}, {1, 2}}, // also 0: the tie goes to the earlier point
	}
	pts := []detect.ODINParams{{T: 1, Eps: 0}, {T: 10, Eps: 0}, {T: 100, Eps: 1e-3}, {T: 500, Eps: 0}}
	best, all, err := detect.SelectODIN(pts, func(p detect.ODINParams) ([]float64, []float64, error) {
		i := slices.Index(pts, p)
		return sets[i][0], sets[i][1], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantErr := []float64{50, 25, 0, 0}
	for i, c := range all {
		if c.ODINParams != pts[i] || math.Abs(c.DetectionError-wantErr[i]) > 1e-9 {
			t.Errorf("point %d: %+v, want %v with error %v", i, c, pts[i], wantErr[i])
		}
	}
	if best.ODINParams != pts[2] || best.DetectionError != 0 {
		t.Errorf("best = %+v, want %v with error 0", best, pts[2])
	}
	if _, _, err := detect.SelectODIN(nil, nil); err == nil {
		t.Error("an empty grid should be an error")
	}
	if _, _, err := detect.SelectODIN(pts, func(detect.ODINParams) ([]float64, []float64, error) {
		return nil, nil, errors.New("boom")
	}); err == nil {
		t.Error("an error of the score function should be returned")
	}
	if _, _, err := detect.SelectODIN(pts, func(detect.ODINParams) ([]float64, []float64, error) {
		return []float64{math.NaN()}, []float64{1}, nil
	}); err == nil {
		t.Error("NaN scores should be an error")
	}
}

// Tune runs the whole grid on one compiled graph and reports each point's error; the linear model
// separates the two clusters, so some point has a low error.
func TestODINTune(t *testing.T) {
	w := [][]float32{{2, -1, 0}, {-1, 2, 0.5}}
	b := []float32{0, 0, 0.2}
	o, err := detect.NewODIN(backend.Must(), initialized(t, linearNet(w, b), 2), linearNet(w, b), 8)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var xIn, xOut []float32
	for range 20 {
		xIn = append(xIn, float32(3+rng.NormFloat64()*0.3), float32(-3+rng.NormFloat64()*0.3))
		xOut = append(xOut, float32(rng.NormFloat64()*0.3), float32(rng.NormFloat64()*0.3))
	}
	best, all, err := o.Tune(nil, xIn, xOut, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 20 {
		t.Fatalf("%d grid points evaluated, want 20", len(all))
	}
	minErr := math.Inf(1)
	for _, c := range all {
		minErr = math.Min(minErr, c.DetectionError)
	}
	if best.DetectionError != minErr || minErr > 10 {
		t.Errorf("best %+v, least error %v (want it < 10%%)", best, minErr)
	}
	// The graph is compiled once: a second example shape is refused.
	if _, err := o.Scores(make([]float32, 6), 1, 0, 3); err == nil {
		t.Error("another example shape should fail (one compiled graph per ODIN)")
	}
}

// BenchmarkODINSimpleCNN scores 128 random 3×32×32 images with the paper's simple CNN (untrained;
// the cost does not depend on the weights), in batches of 64, through the baseline (one forward pass)
// and through ODIN at one grid point (forward, backward, forward), and reports the time per 1000
// images. Run with: go test ./confcal/detect -run '^$' -bench ODIN -benchtime 1x
func BenchmarkODINSimpleCNN(b *testing.B) {
	const n, batch = 128, 64
	be := backend.Must()
	ctx := context.New()
	net := models.Net{Scope: "clf", Fn: models.SimpleCNN(10, 128, 256, 1024, 256)}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n*3*32*32)
	for i := range x {
		x[i] = float32(rng.Float64())
	}
	if err := models.Initialize(be, ctx, net, 3, 32, 32); err != nil {
		b.Fatal(err)
	}
	p, err := models.NewPredictor(be, ctx, net, batch)
	if err != nil {
		b.Fatal(err)
	}
	o, err := detect.NewODIN(be, ctx, net, batch)
	if err != nil {
		b.Fatal(err)
	}
	// Compile both graphs first.
	if _, err := p.Outputs(x[:batch*3*32*32], 3, 32, 32); err != nil {
		b.Fatal(err)
	}
	if _, err := o.Scores(x[:batch*3*32*32], 1000, 1e-3, 3, 32, 32); err != nil {
		b.Fatal(err)
	}
	b.Run("baseline", func(b *testing.B) {
		for range b.N {
			if _, err := p.Outputs(x, 3, 32, 32); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1000/n, "s/1000img")
	})
	b.Run("odin", func(b *testing.B) {
		for range b.N {
			if _, err := o.Scores(x, 1000, 1e-3, 3, 32, 32); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1000/n, "s/1000img")
	})
}
