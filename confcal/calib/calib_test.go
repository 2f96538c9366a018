package calib

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/softmax"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// TestECEHandWorked checks the ECE value and table on small cases worked out by hand.
func TestECEHandWorked(t *testing.T) {
	cases := []struct {
		name    string
		conf    []float64
		correct []bool
		bins    int
		want    float64 // percent
		counts  []int
	}{
		{
			// M = 4 bins (0,.25] (.25,.5] (.5,.75] (.75,1].
			// 0.2 wrong → bin 1: acc 0, conf 0.2, gap 0.2.
			// 0.45 right → bin 2: acc 1, conf 0.45, gap 0.55.
			// 0.7 right, 0.9 wrong → bins 3 and 4: gaps 0.3 and 0.9.
			// ECE = (0.2 + 0.55 + 0.3 + 0.9)/4 = 1.95/4 = 0.4875 → 48.75%.
			name: "four samples four bins",
			conf: []float64{0.2, 0.45, 0.7, 0.9}, correct: []bool{false, true, true, false}, bins: 4,
			want: 48.75, counts: []int{1, 1, 1, 1},
		},
		{
			// Two samples share bin 4 (.75,1]: 0.8 right and 1.0 wrong → acc 0.5, conf 0.9, gap 0.4,
			// weight 2/3. 0.3 right → bin 2, gap 0.7, weight 1/3.
			// ECE = 2/3·0.4 + 1/3·0.7 = 0.8/3 + 0.7/3 = 1.5/3 = 0.5 → 50%.
			name: "shared bin",
			conf: []float64{0.8, 1.0, 0.3}, correct: []bool{true, false, true}, bins: 4,
			want: 50, counts: []int{0, 1, 0, 2},
		},
		{
			// Boundary rule (m−1)/M < q <= m/M with M = 4: 0.25 → bin 1, 0.5 → bin 2, 0.75 → bin 3,
			// 1 → bin 4, and 0 → bin 1. All correct: gaps bin1 |1 − (0+0.25)/2| = 0.875,
			// bin2 0.5, bin3 0.25, bin4 0 → ECE = (2·0.875 + 0.5 + 0.25 + 0)/5 = 2.5/5 = 0.5 → 50%.
			name: "edges",
			conf: []float64{0, 0.25, 0.5, 0.75, 1}, correct: []bool{true, true, true, true, true}, bins: 4,
			want: 50, counts: []int{2, 1, 1, 1},
		},
		{
			// Edges not exactly representable: M = 10, q = 0.3 equals float64(3)/10 and must go to
			// bin 3 (0.2, 0.3], q = 0.7 to bin 7, q = 0.1 to bin 1. All wrong: ECE = mean conf
			// = (0.1 + 0.3 + 0.7)/3 = 1.1/3 → 36.667%.
			name: "tenths",
			conf: []float64{0.1, 0.3, 0.7}, correct: []bool{false, false, false}, bins: 10,
			want: 110.0 / 3, counts: []int{1, 0, 1, 0, 0, 0, 1, 0, 0, 0},
		},
		{
			// Single bin: ECE = |accuracy − mean confidence| = |2/4 − 0.6| = 0.1 → 10%.
			name: "one bin",
			conf: []float64{0.5, 0.7, 0.4, 0.8}, correct: []bool{true, false, true, false}, bins: 1,
			want: 10, counts: []int{4},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ece, table, err := ECE(c.conf, c.correct, c.bins)
			if err != nil {
				t.Fatal(err)
			}
			if !near(ece, c.want, 1e-12) {
				t.Errorf("ECE = %v, want %v", ece, c.want)
			}
			if len(table) != c.bins {
				t.Fatalf("table has %d bins, want %d", len(table), c.bins)
			}
			for m, b := range table {
				if b.Count != c.counts[m] {
					t.Errorf("bin %d count = %d, want %d", m+1, b.Count, c.counts[m])
				}
				if b.Lo != float64(m)/float64(c.bins) || b.Hi != float64(m+1)/float64(c.bins) {
					t.Errorf("bin %d edges (%v, %v]", m+1, b.Lo, b.Hi)
				}
			}
		})
	}
}

// TestECETableValues checks acc(B_m) and conf(B_m) in the table of the "shared bin" case.
func TestECETableValues(t *testing.T) {
	_, table, err := ECE([]float64{0.8, 1.0, 0.3}, []bool{true, false, true}, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []Bin{
		{Lo: 0, Hi: 0.25},
		{Lo: 0.25, Hi: 0.5, Count: 1, Accuracy: 1, Confidence: 0.3},
		{Lo: 0.5, Hi: 0.75},
		{Lo: 0.75, Hi: 1, Count: 2, Accuracy: 0.5, Confidence: 0.9},
	}
	for m := range want {
		g, w := table[m], want[m]
		if g.Count != w.Count || !near(g.Accuracy, w.Accuracy, 1e-12) || !near(g.Confidence, w.Confidence, 1e-12) ||
			g.Lo != w.Lo || g.Hi != w.Hi {
			t.Errorf("bin %d = %+v, want %+v", m+1, g, w)
		}
	}
}

// TestECEBoundaryRule checks that q exactly m/M goes to bin m (not m+1), for many M.
func TestECEBoundaryRule(t *testing.T) {
	for _, M := range []int{1, 3, 7, 10, 15, 20, 100} {
		for m := 1; m <= M; m++ {
			q := float64(m) / float64(M)
			_, table, err := ECE([]float64{q}, []bool{true}, M)
			if err != nil {
				t.Fatal(err)
			}
			if table[m-1].Count != 1 {
				t.Errorf("M=%d: q=%d/%d not in bin %d", M, m, M, m)
			}
			// Just above the edge goes to the next bin.
			if m < M {
				_, table, _ = ECE([]float64{math.Nextafter(q, 2)}, []bool{true}, M)
				if table[m].Count != 1 {
					t.Errorf("M=%d: nextafter(%d/%d) not in bin %d", M, m, M, m+1)
				}
			}
		}
	}
}

// TestECEPerfectCalibration: when each bin's accuracy equals its mean confidence, ECE is 0.
func TestECEPerfectCalibration(t *testing.T) {
	var conf []float64
	var correct []bool
	// Confidence 0.6 with 3 of 5 right, 0.9 with 9 of 10 right, 1.0 all right, 0.05 with 1 of 20 right.
	add := func(q float64, n, right int) {
		for i := range n {
			conf = append(conf, q)
			correct = append(correct, i < right)
		}
	}
	add(0.6, 5, 3)
	add(0.9, 10, 9)
	add(1.0, 4, 4)
	add(0.05, 20, 1)
	ece, _, err := ECE(conf, correct, 20)
	if err != nil {
		t.Fatal(err)
	}
	if !near(ece, 0, 1e-12) {
		t.Errorf("ECE of a perfectly calibrated set = %v, want 0", ece)
	}
}

// TestECEErrors checks the error cases.
func TestECEErrors(t *testing.T) {
	cases := []struct {
		name    string
		conf    []float64
		correct []bool
		bins    int
		msg     string
	}{
		{"length mismatch", []float64{0.5, 0.6}, []bool{true}, 10, "2 confidences but 1"},
		{"empty", nil, nil, 10, "no samples"},
		{"zero bins", []float64{0.5}, []bool{true}, 0, "bins >= 1"},
		{"NaN", []float64{0.5, math.NaN()}, []bool{true, true}, 10, "confidence[1]"},
		{"above 1", []float64{1.0000001}, []bool{true}, 10, "confidence[0]"},
		{"negative", []float64{0.2, -0.1}, []bool{true, false}, 10, "confidence[1]"},
	}
	for _, c := range cases {
		_, _, err := ECE(c.conf, c.correct, c.bins)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.msg)
		}
	}
}

// TestNLLHandWorked checks NLL on a case worked out by hand.
func TestNLLHandWorked(t *testing.T) {
	ln3 := float32(math.Log(3))
	logits := [][]float32{{0, ln3}, {0, ln3}}
	labels := []int{1, 0}
	// T = 1: −log(3/4) and −log(1/4) → mean (log(4/3) + log 4)/2.
	got, err := NLL(logits, labels, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := (math.Log(4.0/3) + math.Log(4)) / 2
	if !near(got, want, 1e-7) {
		t.Errorf("NLL(T=1) = %v, want %v", got, want)
	}
	// T = 0.5 doubles the logits: p = (1/10, 9/10) → (log(10/9) + log 10)/2.
	got, _ = NLL(logits, labels, 0.5)
	want = (math.Log(10.0/9) + math.Log(10)) / 2
	if !near(got, want, 1e-7) {
		t.Errorf("NLL(T=0.5) = %v, want %v", got, want)
	}
	// Huge logits: label on the smaller of (1e4, 0) at T = 1 costs exactly 1e4 (+ log(1+e^-1e4)).
	got, _ = NLL([][]float32{{1e4, 0}}, []int{1}, 1)
	if !near(got, 1e4, 1e-12) {
		t.Errorf("NLL with huge logits = %v, want 1e4", got)
	}
}

// sampleDataset draws n rows of k logits z ~ scale·N(0, 1) and labels y ~ softmax(z/T0).
func sampleDataset(seed uint64, n, k int, scale, t0 float64) ([][]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 0xca11b))
	logits := make([][]float32, n)
	labels := make([]int, n)
	for i := range logits {
		row := make([]float32, k)
		for j := range row {
			row[j] = float32(scale * r.NormFloat64())
		}
		p := softmax.Probs(scaled(row, 1/t0), 1)
		u := r.Float64()
		y := k - 1
		for j, pj := range p {
			if u < pj {
				y = j
				break
			}
			u -= pj
		}
		logits[i], labels[i] = row, y
	}
	return logits, labels
}

func scaled(row []float32, f float64) []float32 {
	o := make([]float32, len(row))
	for i, v := range row {
		o[i] = float32(float64(v) * f)
	}
	return o
}

// TestFitTemperatureRecovers: with labels drawn from softmax(z/T0), the fitted T is close to T0 and
// is a minimiser of the NLL.
func TestFitTemperatureRecovers(t *testing.T) {
	for i, t0 := range []float64{0.5, 2, 4} {
		logits, labels := sampleDataset(uint64(i+1), 5000, 10, 4, t0)
		fit, err := FitTemperature(logits, labels)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("T0 = %v, fitted T = %.4f", t0, fit)
		if math.Abs(fit-t0)/t0 > 0.1 {
			t.Errorf("T0 = %v: fitted T = %v, more than 10%% off", t0, fit)
		}
		nll := func(T float64) float64 {
			v, err := NLL(logits, labels, T)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		at := nll(fit)
		for _, T := range []float64{t0, t0 * 1.2, t0 / 1.2} {
			if at > nll(T) {
				t.Errorf("T0 = %v: NLL(fit=%v) = %v > NLL(%v) = %v", t0, fit, at, T, nll(T))
			}
		}
		// The derivative of the NLL in β = 1/T vanishes at the fit (Newton converged).
		d, err := newDataset(logits, labels)
		if err != nil {
			t.Fatal(err)
		}
		if g, _ := d.derivatives(1 / fit); math.Abs(g) > 1e-9 {
			t.Errorf("T0 = %v: dNLL/dβ at the fit = %v, want ~0", t0, g)
		}
		// A fine grid around the fit finds nothing lower (up to rounding).
		for s := -0.01; s <= 0.01; s += 0.001 {
			T := fit * math.Exp(s)
			if v := nll(T); v < at-1e-12 {
				t.Errorf("T0 = %v: NLL(%v) = %v < NLL(fit=%v) = %v", t0, T, v, fit, at)
			}
		}
	}
}

// TestFitTemperatureEdges: the fit is clamped to [0.05, 20] when the optimum lies outside, and is
// unaffected by a constant shift of each row.
func TestFitTemperatureEdges(t *testing.T) {
	// Perfectly separable, always right: the NLL keeps decreasing as T → 0 → clamp to 0.05.
	logits := [][]float32{{2, 0}, {0, 2}, {1, 0}}
	labels := []int{0, 1, 0}
	fit, err := FitTemperature(logits, labels)
	if err != nil {
		t.Fatal(err)
	}
	if fit != minTemperature {
		t.Errorf("separable data: T = %v, want %v", fit, minTemperature)
	}
	// Always wrong: the NLL keeps decreasing as T → ∞ → clamp to 20.
	fit, err = FitTemperature(logits, []int{1, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if fit != maxTemperature {
		t.Errorf("always-wrong data: T = %v, want %v", fit, maxTemperature)
	}
	// Adding a constant to every logit of a row changes nothing.
	lg, lb := sampleDataset(9, 500, 5, 3, 1.5)
	a, _ := FitTemperature(lg, lb)
	shifted := make([][]float32, len(lg))
	for i, row := range lg {
		shifted[i] = make([]float32, len(row))
		for j, v := range row {
			shifted[i][j] = v + float32(10*i%7)
		}
	}
	b, _ := FitTemperature(shifted, lb)
	if !near(a, b, 1e-5) {
		t.Errorf("row shift changed T from %v to %v", a, b)
	}
}

// TestFitErrors checks the error cases of FitTemperature and NLL.
func TestFitErrors(t *testing.T) {
	good := [][]float32{{1, 2}, {3, 4}}
	cases := []struct {
		name   string
		logits [][]float32
		labels []int
		msg    string
	}{
		{"empty", nil, nil, "no samples"},
		{"length mismatch", good, []int{0}, "2 logit rows but 1 labels"},
		{"ragged", [][]float32{{1, 2}, {3}}, []int{0, 0}, "row 1 has 1"},
		{"empty row", [][]float32{{}, {}}, []int{0, 0}, "logits[0] is empty"},
		{"label too big", good, []int{0, 2}, "labels[1] = 2"},
		{"negative label", good, []int{-1, 0}, "labels[0] = -1"},
		{"NaN", [][]float32{{1, 2}, {float32(math.NaN()), 4}}, []int{0, 0}, "logits[1][0]"},
		{"Inf", [][]float32{{1, float32(math.Inf(1))}, {3, 4}}, []int{0, 0}, "logits[0][1]"},
	}
	for _, c := range cases {
		if _, err := FitTemperature(c.logits, c.labels); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("FitTemperature %s: error %v, want one mentioning %q", c.name, err, c.msg)
		}
		if _, err := NLL(c.logits, c.labels, 1); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("NLL %s: error %v, want one mentioning %q", c.name, err, c.msg)
		}
	}
	for _, T := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := NLL(good, []int{0, 1}, T); err == nil {
			t.Errorf("NLL with T = %v gave no error", T)
		}
	}
}
