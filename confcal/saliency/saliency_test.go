package saliency_test

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/nn"
	"github.com/confcal/confcal/confcal/saliency"
)

// dense reads the weights [in, out] and biases [out] of a models.Dense layer as float64.
func dense(t *testing.T, ctx *context.Context, scope string) (w [][]float64, b []float64) {
	t.Helper()
	get := func(name string) *tensors.Tensor {
		v := ctx.GetVariableByScopeAndName(scope, name)
		if v == nil {
			t.Fatalf("no variable %s/%s", scope, name)
		}
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		return val
	}
	wt := get("weights")
	in, out := wt.Shape().Dimensions[0], wt.Shape().Dimensions[1]
	flat := tensors.MustCopyFlatData[float32](wt)
	w = make([][]float64, in)
	for i := range w {
		w[i] = make([]float64, out)
		for j := range w[i] {
			w[i][j] = float64(flat[i*out+j])
		}
	}
	for _, v := range tensors.MustCopyFlatData[float32](get("biases")) {
		b = append(b, float64(v))
	}
	return w, b
}

// mlpByHand returns the logits of a ReLU MLP (layers as (W, b)) at x, and the input gradient of the
// top-1 logit: plain, or guided (each ReLU also zeroes the negative part of the gradient from
// above). It also returns the smallest |pre-activation| (for finite differences) and whether the
// guided rule zeroed some non-zero gradient component.
func mlpByHand(ws [][][]float64, bs [][]float64, x []float64, guided bool) (logits, grad []float64, margin float64, blocked bool) {
	margin = math.Inf(1)
	var pre [][]float64
	h := x
	for l := range ws {
		a := make([]float64, len(bs[l]))
		for j := range a {
			a[j] = bs[l][j]
			for i := range h {
				a[j] += h[i] * ws[l][i][j]
			}
		}
		if l == len(ws)-1 {
			logits = a
			break
		}
		pre = append(pre, a)
		h = make([]float64, len(a))
		for j, v := range a {
			margin = math.Min(margin, math.Abs(v))
			h[j] = math.Max(v, 0)
		}
	}
	top := 0
	for j, v := range logits {
		if v > logits[top] {
			top = j
		}
	}
	last := len(ws) - 1
	v := make([]float64, len(ws[last]))
	for i := range v {
		v[i] = ws[last][i][top]
	}
	for l := last - 1; l >= 0; l-- {
		// Back through ReLU l (input pre[l], upstream v), then through layer l's weights.
		for j := range v {
			if guided && v[j] < 0 {
				if pre[l][j] > 0 {
					blocked = true
				}
				v[j] = 0
			}
			if pre[l][j] <= 0 {
				v[j] = 0
			}
		}
		u := make([]float64, len(ws[l]))
		for i := range u {
			for j := range v {
				u[i] += ws[l][i][j] * v[j]
			}
		}
		v = u
	}
	return logits, v, margin, blocked
}

func assertClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 1.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol*scale) {
			t.Fatalf("%s[%d] = %v, want %v (tolerance %g)", what, i, got[i], want[i], tol*scale)
		}
	}
}

// A 2-hidden-layer ReLU MLP (models.MLP, whose ReLUs follow nn.ParamGuidedReLU) on examples of
// shape [2, 3]: guided and plain maps against float64 hand computations, the plain map against
// finite differences of the network's own logits, and guided ≠ plain where the guided rule blocks
// a negative gradient.
func TestMapsMatchHandComputation(t *testing.T) {
	const n, d = 5, 6
	be := backend.Must()
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, int64(5)) // fixed weights: the test is the same every run
	net := models.Net{Scope: "mlp", Fn: models.MLP([]int{8, 7}, 4)}
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	if err := models.Initialize(be, ctx, net, d); err != nil {
		t.Fatal(err)
	}
	pred, err := models.NewPredictor(be, ctx, net, n)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := pred.Outputs(x, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	var ws [][][]float64
	var bs [][]float64
	for l := range 3 {
		w, b := dense(t, ctx, fmt.Sprintf("/mlp/layer_%d", l))
		ws, bs = append(ws, w), append(bs, b)
	}
	guidedM, err := saliency.New(be, ctx, net, 2, true) // 5 = 2+2+1: padded
	if err != nil {
		t.Fatal(err)
	}
	plainM, err := saliency.New(be, ctx, net, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	guided, topG, err := guidedM.Maps(x, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	plain, topP, err := plainM.Maps(x, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(guided) != n || len(plain) != n {
		t.Fatalf("%d guided and %d plain maps for %d examples", len(guided), len(plain), n)
	}
	anyBlocked := false
	var margins []float64 // smallest |pre-activation| of each example
	for i := 0; i < n; i++ {
		xi := make([]float64, d)
		for j := range xi {
			xi[j] = float64(x[i*d+j])
		}
		wantLogits, wantPlain, margin, _ := mlpByHand(ws, bs, xi, false)
		_, wantGuided, _, blocked := mlpByHand(ws, bs, xi, true)
		assertClose(t, fmt.Sprintf("logits %d", i), logits[i], wantLogits, 1e-5)
		if top := detect.Predictions([][]float32{logits[i]}, 0)[0]; topG[i] != top || topP[i] != top {
			t.Errorf("example %d: top-1 %d (guided) and %d (plain), want %d", i, topG[i], topP[i], top)
		}
		assertClose(t, fmt.Sprintf("plain map %d", i), plain[i], wantPlain, 1e-5)
		assertClose(t, fmt.Sprintf("guided map %d", i), guided[i], wantGuided, 1e-5)
		if blocked {
			// Where the hand computation says blocking changes the map, the maps must differ by
			// as much (a blocked component can also be tiny: then there is nothing to see).
			anyBlocked = true
			diff, wantDiff := 0.0, 0.0
			for j := range wantPlain {
				diff = math.Max(diff, math.Abs(float64(guided[i][j]-plain[i][j])))
				wantDiff = math.Max(wantDiff, math.Abs(wantGuided[j]-wantPlain[j]))
			}
			if wantDiff > 1e-3 && diff < 0.5*wantDiff {
				t.Errorf("example %d: a negative gradient was blocked (maps should differ by %.3g) but guided and plain differ by %.3g", i, wantDiff, diff)
			}
		}
		margins = append(margins, margin)
	}
	if !anyBlocked {
		t.Fatal("the guided rule blocked nothing in the test data: guided and plain maps would agree")
	}

	// Finite differences of the top-1 logit (central, step h, float32 network), on the examples whose
	// pre-activations are all far enough from the ReLU kink that no step crosses it.
	const h = 5e-4
	var xs []float32
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			for _, s := range []float32{h, -h} {
				e := slices.Clone(x[i*d : (i+1)*d])
				e[j] += s
				xs = append(xs, e...)
			}
		}
	}
	fd, err := models.NewPredictor(be, ctx, net, 2*d)
	if err != nil {
		t.Fatal(err)
	}
	out, err := fd.Outputs(xs, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i := 0; i < n; i++ {
		if margins[i] < 8*h {
			continue
		}
		checked++
		num := make([]float64, d)
		for j := 0; j < d; j++ {
			k := 2 * (i*d + j)
			num[j] = (float64(out[k][topP[i]]) - float64(out[k+1][topP[i]])) / (2 * h)
		}
		assertClose(t, fmt.Sprintf("plain map %d vs finite differences", i), plain[i], num, 2e-3)
	}
	if checked < 3 {
		t.Fatalf("only %d examples far from the ReLU kinks (margins %v); change the data", checked, margins)
	}

	// The one-shot helpers give the same maps.
	g2, err := saliency.Guided(be, ctx, net, x, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := saliency.Plain(be, ctx, net, x, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range g2 {
		if !slices.Equal(g2[i], guided[i]) || !slices.Equal(p2[i], plain[i]) {
			t.Errorf("example %d: Guided/Plain differ from Mapper.Maps", i)
		}
	}
	if _, _, err := guidedM.Maps(x[:d+1], 2, 3); err == nil {
		t.Error("7 values are not a whole number of 6-value examples")
	}
}

// With the context parameter nn.ParamGuidedReLU set, the classifiers' forward values are unchanged
// bit for bit, while a Mapper can still compute plain gradients (its graph parameter overrides).
// The guided map of a small simple CNN differs from its plain map, and both graphs use only ops of
// the backend.
func TestClassifiersGuidedMode(t *testing.T) {
	be := backend.Must()
	rng := rand.New(rand.NewPCG(9, 10))
	x := make([]float32, 2*3*32*32)
	for i := range x {
		x[i] = float32(rng.Float64())
	}
	for _, tc := range []struct {
		name string
		fn   models.Fn
		run  bool
	}{
		{"SimpleCNN", models.SimpleCNN(4, 4, 6, 12, 8), true},
		{"VGG13", models.VGG13(4, 1.0/16), false},
		{"AlexNet", models.AlexNet(4, 1.0/16), false},
		{"MLP", models.MLP([]int{8}, 4), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Forward values, plain and guided.
			ctx := context.New()
			ctx.SetParam(context.ParamInitialSeed, int64(11)) // fixed weights: with some random ones every guided path of the narrow SimpleCNN is dead
			net := models.Net{Scope: "clf", Fn: tc.fn}
			if err := models.Initialize(be, ctx, net, 3, 32, 32); err != nil {
				t.Fatal(err)
			}
			p, err := models.NewPredictor(be, ctx, net, 2)
			if err != nil {
				t.Fatal(err)
			}
			plainOut, err := p.Outputs(x, 3, 32, 32)
			if err != nil {
				t.Fatal(err)
			}
			ctx.SetParam(nn.ParamGuidedReLU, true)
			p2, err := models.NewPredictor(be, ctx, net, 2)
			if err != nil {
				t.Fatal(err)
			}
			guidedOut, err := p2.Outputs(x, 3, 32, 32)
			if err != nil {
				t.Fatal(err)
			}
			for i := range plainOut {
				if !slices.Equal(plainOut[i], guidedOut[i]) {
					t.Fatalf("example %d: logits %v in guided mode, %v in plain mode", i, guidedOut[i], plainOut[i])
				}
			}

			// Ops of the forward+gradient graphs, guided and plain.
			for _, guided := range []bool{false, true} {
				g := NewGraph(be, "ops")
				nn.SetGuided(ctx, g, guided)
				in := Parameter(g, "x", shapes.Make(dtypes.Float32, 2, 3, 32, 32))
				Gradient(ReduceAllSum(net.Apply(ctx, in)), in)
				if bad := nn.UnsupportedOps(g, be); len(bad) > 0 {
					t.Errorf("guided=%v: ops the backend lacks: %v", guided, bad)
				}
				g.Finalize()
			}
			if !tc.run {
				return
			}
			// The context parameter says guided; Plain's graph parameter says plain.
			plain, err := saliency.Plain(be, ctx, net, x, 3, 32, 32)
			if err != nil {
				t.Fatal(err)
			}
			ctx.SetParam(nn.ParamGuidedReLU, false)
			plain2, err := saliency.Plain(be, ctx, net, x, 3, 32, 32)
			if err != nil {
				t.Fatal(err)
			}
			guided, err := saliency.Guided(be, ctx, net, x, 3, 32, 32)
			if err != nil {
				t.Fatal(err)
			}
			for i := range plain {
				if !slices.Equal(plain[i], plain2[i]) {
					t.Errorf("example %d: the plain map depends on the context parameter", i)
				}
				if len(guided[i]) != 3*32*32 || saliency.MaxAbs(guided[i]) == 0 {
					t.Errorf("example %d: guided map of %d values, max |g| %v", i, len(guided[i]), saliency.MaxAbs(guided[i]))
				}
				if slices.Equal(plain[i], guided[i]) {
					t.Errorf("example %d: guided map equals the plain map", i)
				}
			}
		})
	}
}

func TestRendering(t *testing.T) {
	g := []float32{-2, 0, 1, 4, float32(math.NaN()), -8}
	if got, want := saliency.MaxAbs(g, []float32{3}), 8.0; got != want {
		t.Errorf("MaxAbs = %v, want %v", got, want)
	}
	if got := saliency.MaxAbs(); got != 0 {
		t.Errorf("MaxAbs() = %v, want 0", got)
	}
	// Own scale 8: 0.5 + g/16.
	want := []float32{0.375, 0.5, 0.5625, 0.75, 0.5, 0}
	if got := saliency.Signed(g, 0); !slices.Equal(got, want) {
		t.Errorf("Signed(g, own scale) = %v, want %v", got, want)
	}
	// Scale 2: 0.5 + g/4, clipped.
	want = []float32{0, 0.5, 0.75, 1, 0.5, 0}
	if got := saliency.Signed(g, 2); !slices.Equal(got, want) {
		t.Errorf("Signed(g, 2) = %v, want %v", got, want)
	}
	if got := saliency.Signed([]float32{0, 0}, 0); !slices.Equal(got, []float32{0.5, 0.5}) {
		t.Errorf("Signed(zeros) = %v, want grey", got)
	}
	// Two channels of three pixels: max |g| over channels / 8.
	mag, err := saliency.Magnitude(g, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0.5, 0, 1}; !slices.Equal(mag, want) {
		t.Errorf("Magnitude = %v, want %v", mag, want)
	}
	if _, err := saliency.Magnitude(g, 4, 0); err == nil {
		t.Error("6 values are not 4 channels")
	}

	// A 3×1×2 map: pixel (x, y) = (1, 0) has channels g[1], g[3], g[5] = 0, 4, -8 → scale 8:
	// 0.5, 0.75, 0 → 128, 191, 0.
	img, err := saliency.ToImage(g, 3, 1, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	rgba, ok := img.(*image.RGBA)
	if !ok || rgba.Bounds() != image.Rect(0, 0, 2, 1) {
		t.Fatalf("ToImage gave %T with bounds %v", img, img.Bounds())
	}
	if c := rgba.RGBAAt(1, 0); c.R != 128 || c.G != 191 || c.B != 0 || c.A != 255 {
		t.Errorf("pixel (1,0) = %v, want {128 191 0 255}", c)
	}
	gray, err := saliency.ToImage([]float32{-1, 1}, 1, 2, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if gi, ok := gray.(*image.Gray); !ok || gi.GrayAt(0, 0).Y != 0 || gi.GrayAt(0, 1).Y != 255 {
		t.Errorf("grey image %v", gray)
	}
	if _, err := saliency.ToImage(g, 2, 1, 3, 0); err == nil {
		t.Error("2 channels should be refused")
	}
	if _, err := saliency.ToImage(g, 3, 2, 2, 0); err == nil {
		t.Error("6 values are not 3×2×2")
	}
}
