package confcal_test

import (
	"math"
	"testing"

	"github.com/confcal/confcal/confcal"
	"github.com/confcal/confcal/confcal/backend"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Reference implementations in float64 plain Go, written from the paper's formulas with
// probabilities (fine here: the test logits are moderate).
func softmax(z []float64) []float64 {
	p := make([]float64, len(z))
	s := 0.0
	for i, v := range z {
		p[i] = math.Exp(v)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

func klUniformRef(z []float64) float64 {
	p := softmax(z)
	k := float64(len(z))
	kl := 0.0
	for _, pk := range p {
		kl += (1 / k) * math.Log((1/k)/pk)
	}
	return kl
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

var (
	inLogits  = [][]float32{{2, -1, 0.5}, {0, 0, 0}, {-3, 4, 1}, {1.5, 1.5, -2}}
	labels    = []int32{0, 2, 1, 2}
	outLogits = [][]float32{{0.1, 0.2, 0.3}, {5, -5, 0}, {1, 1, 1}}
	dReal     = []float32{2, -0.5, 0.3, 4}
	dFake     = []float32{-1, 0.7, -3}
)

func f64(row []float32) []float64 {
	out := make([]float64, len(row))
	for i, v := range row {
		out[i] = float64(v)
	}
	return out
}

func run1(t *testing.T, fn func(args []*Node) *Node, args ...any) []float32 {
	t.Helper()
	out, err := ExecOnce(backend.Must(), fn, args...)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out)
}

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) || math.IsNaN(got) {
		t.Errorf("%s = %.7g, want %.7g", name, got, want)
	}
}

func TestKLUniform(t *testing.T) {
	got := run1(t, func(a []*Node) *Node { return confcal.KLUniform(a[0]) }, inLogits)
	for i, row := range inLogits {
		near(t, "KL row", float64(got[i]), klUniformRef(f64(row)), 1e-5)
	}
	// Uniform logits give exactly 0; hand value for [ln 3, 0, 0]: p = (3/5, 1/5, 1/5),
	// KL = 1/3 [ln(5/9) + 2 ln(5/3)].
	got = run1(t, func(a []*Node) *Node { return confcal.KLUniform(a[0]) },
		[][]float32{{0, 0, 0}, {float32(math.Log(3)), 0, 0}})
	near(t, "KL uniform", float64(got[0]), 0, 1e-6)
	near(t, "KL hand", float64(got[1]), (math.Log(5.0/9)+2*math.Log(5.0/3))/3, 1e-6)
}

func TestKLUniformStableForHugeLogits(t *testing.T) {
	// p = softmax([1000, 0]) underflows p_1 to 0 in float32: a probability-based KL would be +Inf.
	// From log-softmax: KL = -ln 2 - (0 + (-1000))/2 = 500 - ln 2.
	got := run1(t, func(a []*Node) *Node { return confcal.KLUniform(a[0]) }, [][]float32{{1000, 0}})
	near(t, "KL huge", float64(got[0]), 500-math.Log(2), 1e-5)
}

func TestConfidenceLoss(t *testing.T) {
	for _, beta := range []float64{0, 0.5, 1, 2} {
		got := run1(t, func(a []*Node) *Node { return confcal.ConfidenceLoss(a[0], a[1], a[2], beta) },
			inLogits, labels, outLogits)
		ce := 0.0
		for i, row := range inLogits {
			ce += -math.Log(softmax(f64(row))[labels[i]])
		}
		ce /= float64(len(inLogits))
		kl := 0.0
		for _, row := range outLogits {
			kl += klUniformRef(f64(row))
		}
		kl /= float64(len(outLogits))
		near(t, "confidence loss", float64(got[0]), ce+beta*kl, 1e-5)
	}
}

func TestGANLosses(t *testing.T) {
	var wantD float64
	for _, r := range dReal {
		wantD += -math.Log(sigmoid(float64(r))) / float64(len(dReal))
	}
	var sat, nonSat float64
	for _, f := range dFake {
		wantD += -math.Log(1-sigmoid(float64(f))) / float64(len(dFake))
		sat += math.Log(1-sigmoid(float64(f))) / float64(len(dFake))
		nonSat += -math.Log(sigmoid(float64(f))) / float64(len(dFake))
	}
	got := run1(t, func(a []*Node) *Node { return confcal.DiscriminatorLoss(a[0], a[1]) }, dReal, dFake)
	near(t, "D loss", float64(got[0]), wantD, 1e-5)
	got = run1(t, func(a []*Node) *Node { return confcal.GeneratorGANLoss(a[0], true) }, dFake)
	near(t, "G saturating", float64(got[0]), sat, 1e-5)
	got = run1(t, func(a []*Node) *Node { return confcal.GeneratorGANLoss(a[0], false) }, dFake)
	near(t, "G non-saturating", float64(got[0]), nonSat, 1e-5)

	// eq. 3 with [batch,1] discriminator logits.
	dFakeCol := [][]float32{{-1}, {0.7}, {-3}}
	got = run1(t, func(a []*Node) *Node { return confcal.ProposedGeneratorLoss(a[0], a[1], 1.5, false) }, dFakeCol, outLogits)
	kl := 0.0
	for _, row := range outLogits {
		kl += klUniformRef(f64(row)) / float64(len(outLogits))
	}
	near(t, "proposed G", float64(got[0]), nonSat+1.5*kl, 1e-5)
}

func TestPullAwayTerm(t *testing.T) {
	// Hand case: x1=(1,0), x2=(0,1), x3=(1,1). cos12=0, cos13=cos23=1/√2.
	// PT = (0 + 0.5 + 0.5) * 2 / (3*2) = 1/3.
	got := run1(t, func(a []*Node) *Node { return confcal.PullAwayTerm(a[0]) }, [][]float32{{1, 0}, {0, 1}, {1, 1}})
	near(t, "PT hand", float64(got[0]), 1.0/3, 1e-5)
	// Identical directions give 1, whatever the norms; works on image-shaped samples.
	got = run1(t, func(a []*Node) *Node { return confcal.PullAwayTerm(a[0]) },
		[][][]float32{{{1, 2}, {3, 4}}, {{2, 4}, {6, 8}}})
	near(t, "PT parallel", float64(got[0]), 1, 1e-5)
}

func TestKPlusOneLossAndScore(t *testing.T) {
	got := run1(t, func(a []*Node) *Node { return confcal.KPlusOneLoss(a[0], a[1], a[2]) }, inLogits, labels, outLogits)
	want := 0.0
	for i, row := range inLogits {
		want += -math.Log(softmax(f64(row))[labels[i]]) / float64(len(inLogits))
	}
	for _, row := range outLogits {
		want += -math.Log(softmax(f64(row))[2]) / float64(len(outLogits))
	}
	near(t, "K+1 loss", float64(got[0]), want, 1e-5)

	scores := run1(t, func(a []*Node) *Node { return confcal.NotOODClassScore(a[0]) }, outLogits)
	for i, row := range outLogits {
		near(t, "1-p(K+1)", float64(scores[i]), 1-softmax(f64(row))[2], 1e-5)
	}
}

func TestMaxSoftmax(t *testing.T) {
	for _, temp := range []float64{1, 10, 1000} {
		got := run1(t, func(a []*Node) *Node { return confcal.MaxSoftmax(a[0], temp) }, inLogits)
		for i, row := range inLogits {
			z := f64(row)
			for k := range z {
				z[k] /= temp
			}
			p := softmax(z)
			want := math.Max(p[0], math.Max(p[1], p[2]))
			near(t, "max softmax", float64(got[i]), want, 1e-5)
		}
	}
}

func TestBadShapesAreErrors(t *testing.T) {
	_, err := ExecOnce(backend.Must(), func(a []*Node) *Node { return confcal.KLUniform(a[0]) }, []float32{1, 2, 3})
	if err == nil {
		t.Fatal("KLUniform on a rank-1 input should fail")
	}
	_, err = ExecOnce(backend.Must(), func(a []*Node) *Node { return confcal.CrossEntropy(a[0], a[1]) }, inLogits, []int32{0, 1})
	if err == nil {
		t.Fatal("CrossEntropy with mismatched labels should fail")
	}
}
