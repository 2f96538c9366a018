package detect_test

import (
	"math"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/models"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func TestScores(t *testing.T) {
	logits := [][]float32{{0, 0}, {float32(math.Log(3)), 0}, {1000, 0}, {0, 0, 0}}
	// softmax([ln3,0]) = (3/4, 1/4); huge logits must not overflow.
	want := []float64{0.5, 0.75, 1, 1.0 / 3}
	for i, got := range detect.Baseline(logits) {
		if math.Abs(got-want[i]) > 1e-6 {
			t.Errorf("Baseline row %d = %v, want %v", i, got, want[i])
		}
	}
	// 1 - p(last): rows 0,1 → 1/2, 3/4; row 2: p(last)=e^-1000 ≈ 0 → 1; row 3: 2/3.
	wantK := []float64{0.5, 0.75, 1, 2.0 / 3}
	for i, got := range detect.KPlusOne(logits) {
		if math.Abs(got-wantK[i]) > 1e-6 {
			t.Errorf("KPlusOne row %d = %v, want %v", i, got, wantK[i])
		}
	}
	if acc, err := detect.Accuracy([][]float32{{1, 0}, {0, 1}, {2, 1}}, []int{0, 1, 1}); err != nil || math.Abs(acc-2.0/3) > 1e-12 {
		t.Errorf("accuracy %v, %v", acc, err)
	}
	if _, err := detect.Accuracy(nil, nil); err == nil {
		t.Error("accuracy of nothing should be an error")
	}
}

// A "network" that returns [2x, x+1] for each scalar x: the predictor must give exactly that for
// every example, including the padded last batch.
func TestPredictorBatchesAndPadding(t *testing.T) {
	net := models.Net{Scope: "f", Fn: func(ctx *context.Context, x *Node) *Node {
		return Concatenate([]*Node{MulScalar(x, 2), AddScalar(x, 1)}, -1)
	}}
	p, err := models.NewPredictor(backend.Must(), context.New(), net, 4)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	out, err := p.Outputs(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(x) {
		t.Fatalf("%d outputs for %d inputs", len(out), len(x))
	}
	for i, row := range out {
		if row[0] != 2*x[i] || row[1] != x[i]+1 {
			t.Errorf("row %d = %v", i, row)
		}
	}
	if _, err := p.Outputs(x, 3); err == nil {
		t.Error("10 values are not a whole number of 3-value examples")
	}
	if _, err := models.NewPredictor(backend.Must(), context.New(), net, 0); err == nil {
		t.Error("batch size 0 should be rejected")
	}
}
