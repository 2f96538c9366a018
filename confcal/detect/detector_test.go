package detect_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/detect"
)

// Every detector runs on the same linear network logits = x·W + b (K = 4 classes, the last one the
// K+1 detector's out-of-distribution class) and the same five examples (batches of 2: the last one
// padded), and its scores match the float64 values computed here from W, b and x.
func TestDetectors(t *testing.T) {
	w := [][]float32{
		{1.5, -0.5, 0.25, -1},
		{-0.75, 2, 0.5, 0.3},
		{0.4, -1.2, 1.1, 0.9},
	}
	b := []float32{0.3, -0.2, 0.1, 0}
	const d, batch = 3, 2
	x := []float32{
		1, 0, 0,
		0, 1, 0,
		0.5, -0.5, 1,
		-1, -1, 2,
		0.2, 0.1, -0.3,
	}
	n := len(x) / d
	net := linearNet(w, b)
	be := backend.Must()
	ctx := initialized(t, net, d)
	tuned, err := detect.NewODIN(be, ctx, net, batch)
	if err != nil {
		t.Fatal(err)
	}
	maxProb := func(T float64) func(l []float64) float64 {
		return func(l []float64) float64 { return slices.Max(softmaxByHand(l, T)) }
	}
	cases := []struct {
		name string
		new  func() (detect.Detector, error)
		// want is the score of example x (float64) by hand.
		want func(x []float64) float64
	}{
		{"baseline", func() (detect.Detector, error) { return detect.NewBaselineDetector(be, ctx, net, batch) },
			func(x []float64) float64 { return maxProb(1)(linearByHand(w, b, x)) }},
		{"k+1", func() (detect.Detector, error) { return detect.NewKPlusOneDetector(be, ctx, net, batch) },
			func(x []float64) float64 { return 1 - softmaxByHand(linearByHand(w, b, x), 1)[3] }},
		{"odin(T=10,eps=0.05)", func() (detect.Detector, error) {
			return detect.NewODINDetector(be, ctx, net, batch, detect.ODINParams{T: 10, Eps: 0.05})
		}, func(x []float64) float64 { return odinScore(t, w, b, x, 10, 0.05) }},
		{"odin(T=1000,eps=0.01)", func() (detect.Detector, error) { return tuned.At(detect.ODINParams{T: 1000, Eps: 0.01}) },
			func(x []float64) float64 { return odinScore(t, w, b, x, 1000, 0.01) }},
		// ODIN at T = 1, ε = 0 is the baseline.
		{"odin(T=1,eps=0)", func() (detect.Detector, error) { return tuned.At(detect.ODINParams{T: 1, Eps: 0}) },
			func(x []float64) float64 { return maxProb(1)(linearByHand(w, b, x)) }},
	}
	for _, c := range cases {
		det, err := c.new()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if det.Name() != c.name {
			t.Errorf("Name() = %q, want %q", det.Name(), c.name)
		}
		got, err := det.Scores(x, d)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(got) != n {
			t.Fatalf("%s: %d scores for %d examples", c.name, len(got), n)
		}
		for i := range n {
			xi := make([]float64, d)
			for j := range xi {
				xi[j] = float64(x[i*d+j])
			}
			if want := c.want(xi); math.Abs(got[i]-want) > 2e-6*want {
				t.Errorf("%s: example %d scores %v, want %v", c.name, i, got[i], want)
			}
		}
		if _, err := det.Scores(x[:d+1], d); err == nil {
			t.Errorf("%s: %d values are not a whole number of %d-value examples", c.name, d+1, d)
		}
	}
	if _, err := tuned.At(detect.ODINParams{T: 0, Eps: 0}); err == nil || !strings.Contains(err.Error(), "temperature") {
		t.Errorf("ODIN at T = 0: error %v, want one about the temperature", err)
	}
	if _, err := detect.NewODINDetector(be, ctx, net, batch, detect.ODINParams{T: 1, Eps: -1}); err == nil {
		t.Error("ODIN with ε < 0 should be rejected")
	}
	if _, err := detect.NewBaselineDetector(be, ctx, net, 0); err == nil {
		t.Error("batch size 0 should be rejected")
	}
}

// odinScore is odinByHand's score; it fails the test if a gradient component is too small for its
// sign to be unambiguous in float32.
func odinScore(t *testing.T, w [][]float32, b []float32, x []float64, T, eps float64) float64 {
	t.Helper()
	_, score, minGrad := odinByHand(w, b, x, T, eps)
	if eps > 0 && minGrad < 1e-5/T {
		t.Fatalf("x = %v, T = %v: gradient component %g too small for an unambiguous sign; change the data", x, T, minGrad)
	}
	return score
}
