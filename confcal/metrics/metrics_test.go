package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const tol = 1e-9

func near(a, b float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// TestComputeHandWorked checks every field of Report on small cases worked out by hand.
func TestComputeHandWorked(t *testing.T) {
	cases := []struct {
		name    string
		in, out []float64
		want    Report
	}{
		{
			// in {3,4,5} all above out {0,1,2}.
			// TNR: thresholds 5,4,3 give TPR 1/3, 2/3, 1; first >= .95 is δ=3 with FP=0 → TNR 100.
			// OOD-positive: flag OOD iff score <= t; t=0,1,2 flags 1/3,2/3,1 of OOD with no in → FPR 0.
			// AUROC: 9 of 9 pairs won → 100. AUPR-in: P=1 at every recall step → 100; likewise out.
			// Detection: δ=3 has no error → 100.
			name: "perfectly separated",
			in:   []float64{3, 4, 5}, out: []float64{0, 1, 2},
			want: Report{TNRAtTPR95: 100, FPRAtTPR95: 0, FPRAtTPR95OODPositive: 0, AUROC: 100,
				AUPRIn: 100, AUPROut: 100, DetectionAcc: 100, NumIn: 3, NumOut: 3},
		},
		{
			// Every score is 0.5: one group with 2 in and 3 out.
			// TNR: only δ=0.5 (TPR 1) with FP=3 → TNR 0, FPR 100; OOD-positive likewise FPR 100.
			// AUROC: 6 tied pairs × 0.5 = 3 of 6 → 50.
			// AUPR-in: single step R 0→1 with P = 2/5 → 40. AUPR-out: P = 3/5 → 60.
			// Detection: δ=+∞ gives 0.5·1 + 0 = 0.5; δ=0.5 gives 0 + 0.5·1 = 0.5 → accuracy 50.
			name: "identical scores",
			in:   []float64{0.5, 0.5}, out: []float64{0.5, 0.5, 0.5},
			want: Report{TNRAtTPR95: 0, FPRAtTPR95: 100, FPRAtTPR95OODPositive: 100, AUROC: 50,
				AUPRIn: 40, AUPROut: 60, DetectionAcc: 50, NumIn: 2, NumOut: 3},
		},
		{
			// in {0,1,2} all below out {3,4,5}.
			// TNR: TPR reaches 1 only at δ=0, where all 3 out are accepted → TNR 0.
			// OOD-positive: all OOD flagged only at t=5 where all in are flagged too → FPR 100.
			// AUROC: 0 of 9 pairs → 0.
			// AUPR-in, thresholds 5,4,3 (out only), then 2,1,0: recall steps of 1/3 at
			// TP/(TP+FP) = 1/4, 2/5, 3/6 → (1/4 + 2/5 + 1/2)/3 = 1.15/3 = 23/60.
			// AUPR-out is the mirror image (out scores negated are the lowest) → also 23/60.
			// Detection: δ=+∞ → 0.5; δ=5,4,3 → 0.5+k/6; δ=2,1,0 → 1/3+1/2, 1/6+1/2, 1/2; min 0.5 → 50.
			name: "reversed",
			in:   []float64{0, 1, 2}, out: []float64{3, 4, 5},
			want: Report{TNRAtTPR95: 0, FPRAtTPR95: 100, FPRAtTPR95OODPositive: 100, AUROC: 0,
				AUPRIn: 100 * 23.0 / 60, AUPROut: 100 * 23.0 / 60, DetectionAcc: 50, NumIn: 3, NumOut: 3},
		},
		{
			// in {0.9, 0.6, 0.4}, out {0.6, 0.3, 0.1}: one in/out tie at 0.6.
			// Distinct thresholds, decreasing, with cumulative (TP, FP):
			//   δ=0.9 (1,0)  δ=0.6 (2,1)  δ=0.4 (3,1)  δ=0.3 (3,2)  δ=0.1 (3,3)
			// TNR@95: first TPR >= .95 at δ=0.4, FP=1 → TNR 2/3, FPR 1/3.
			// OOD-positive, flag iff score <= t, cumulative (OOD flagged, in flagged):
			//   t=0.1 (1,0)  t=0.3 (2,0)  t=0.4 (2,1)  t=0.6 (3,2) → first 3/3 >= .95 at t=0.6, FPR 2/3.
			// AUROC: in 0.9 beats 3; in 0.6 beats 0.3, 0.1 and ties 0.6 → 2.5; in 0.4 beats 2 → 7.5/9 = 5/6.
			// AUPR-in: recall steps of 1/3 at δ=0.9 (P 1), 0.6 (P 2/3), 0.4 (P 3/4)
			//   → 1/3 + 2/9 + 1/4 = 29/36.
			// AUPR-out: steps of 1/3 at t=0.1 (P 1), 0.3 (P 1), 0.6 (P 3/5) → 2/3 + 1/5 = 13/15.
			// Detection error 0.5·FN/3 + 0.5·FP/3: δ=+∞ 3/6, 0.9 2/6, 0.6 2/6, 0.4 1/6, 0.3 2/6,
			//   0.1 3/6 → min 1/6, accuracy 5/6.
			name: "3 in 3 out with tie",
			in:   []float64{0.9, 0.6, 0.4}, out: []float64{0.6, 0.3, 0.1},
			want: Report{TNRAtTPR95: 200.0 / 3, FPRAtTPR95: 100.0 / 3, FPRAtTPR95OODPositive: 200.0 / 3,
				AUROC: 500.0 / 6, AUPRIn: 100 * 29.0 / 36, AUPROut: 100 * 13.0 / 15, DetectionAcc: 500.0 / 6,
				NumIn: 3, NumOut: 3},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Compute(c.in, c.out)
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, got, c.want)
			// The individual functions agree with Compute.
			one := func(name string, v float64, err error, want float64) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !near(v, want) {
					t.Errorf("%s = %v, want %v", name, v, want)
				}
			}
			v, err := TNRAtTPR(c.in, c.out, 0.95)
			one("TNRAtTPR", v, err, c.want.TNRAtTPR95)
			v, err = AUROC(c.in, c.out)
			one("AUROC", v, err, c.want.AUROC)
			v, err = AUPR(c.in, c.out)
			one("AUPR(in,out)", v, err, c.want.AUPRIn)
			v, err = AUPR(negate(c.out), negate(c.in))
			one("AUPR(-out,-in)", v, err, c.want.AUPROut)
			v, err = DetectionAccuracy(c.in, c.out)
			one("DetectionAccuracy", v, err, c.want.DetectionAcc)
		})
	}
}

func checkReport(t *testing.T, got, want Report) {
	t.Helper()
	fields := []struct {
		name      string
		got, want float64
	}{
		{"TNRAtTPR95", got.TNRAtTPR95, want.TNRAtTPR95},
		{"FPRAtTPR95", got.FPRAtTPR95, want.FPRAtTPR95},
		{"FPRAtTPR95OODPositive", got.FPRAtTPR95OODPositive, want.FPRAtTPR95OODPositive},
		{"AUROC", got.AUROC, want.AUROC},
		{"AUPRIn", got.AUPRIn, want.AUPRIn},
		{"AUPROut", got.AUPROut, want.AUPROut},
		{"DetectionAcc", got.DetectionAcc, want.DetectionAcc},
	}
	for _, f := range fields {
		if !near(f.got, f.want) {
			t.Errorf("%s = %.12g, want %.12g", f.name, f.got, f.want)
		}
	}
	if got.NumIn != want.NumIn || got.NumOut != want.NumOut {
		t.Errorf("NumIn, NumOut = %d, %d, want %d, %d", got.NumIn, got.NumOut, want.NumIn, want.NumOut)
	}
}

// TestCurvesHandWorked checks ROCCurve and PRCurve on the 3-in/3-out case with a tie.
func TestCurvesHandWorked(t *testing.T) {
	in := []float64{0.9, 0.6, 0.4}
	out := []float64{0.6, 0.3, 0.1}
	fpr, tpr, err := ROCCurve(in, out)
	if err != nil {
		t.Fatal(err)
	}
	// (TP, FP) per threshold: +∞ (0,0), 0.9 (1,0), 0.6 (2,1), 0.4 (3,1), 0.3 (3,2), 0.1 (3,3).
	wantFPR := []float64{0, 0, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1}
	wantTPR := []float64{0, 1.0 / 3, 2.0 / 3, 1, 1, 1}
	checkSlice(t, "fpr", fpr, wantFPR)
	checkSlice(t, "tpr", tpr, wantTPR)

	rec, prec, err := PRCurve(in, out)
	if err != nil {
		t.Fatal(err)
	}
	wantRec := []float64{0, 1.0 / 3, 2.0 / 3, 1, 1, 1}
	wantPrec := []float64{1, 1, 2.0 / 3, 3.0 / 4, 3.0 / 5, 3.0 / 6}
	checkSlice(t, "recall", rec, wantRec)
	checkSlice(t, "precision", prec, wantPrec)
}

func checkSlice(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s has length %d, want %d: %v", name, len(got), len(want), got)
	}
	for i := range got {
		if !near(got[i], want[i]) {
			t.Errorf("%s[%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
}

// TestTNRAtTPRLevels checks other TPR levels and the bad-argument errors of TNRAtTPR.
func TestTNRAtTPRLevels(t *testing.T) {
	in := []float64{0.9, 0.6, 0.4}
	out := []float64{0.6, 0.3, 0.1}
	cases := []struct {
		tpr, want float64
	}{
		{1.0 / 3, 100},    // δ=0.9: TPR exactly 1/3, FP 0
		{0.34, 200.0 / 3}, // δ=0.6: TPR 2/3, FP 1
		{2.0 / 3, 200.0 / 3},
		{0.7, 200.0 / 3}, // δ=0.4: TPR 1, FP 1
		{1, 200.0 / 3},
	}
	for _, c := range cases {
		got, err := TNRAtTPR(in, out, c.tpr)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got, c.want) {
			t.Errorf("TNRAtTPR(tpr=%v) = %v, want %v", c.tpr, got, c.want)
		}
	}
	// TPR exactly 95% must count as reaching 95%: 20 in-samples, 19 above the lone OOD score.
	in20 := make([]float64, 20)
	for i := range in20 {
		in20[i] = float64(i + 1) // 1..20
	}
	got, err := TNRAtTPR(in20, []float64{1.5}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	// δ=2 gives TPR 19/20 = 0.95 and rejects 1.5 → TNR 100.
	if got != 100 {
		t.Errorf("TNRAtTPR with TPR exactly 0.95 = %v, want 100", got)
	}
	for _, bad := range []float64{0, -0.1, 1.01, math.NaN()} {
		if _, err := TNRAtTPR(in, out, bad); err == nil {
			t.Errorf("TNRAtTPR(tpr=%v) gave no error", bad)
		}
	}
}

// TestErrors checks the errors for empty slices and non-finite scores.
func TestErrors(t *testing.T) {
	good := []float64{0.1, 0.2}
	cases := []struct {
		name    string
		in, out []float64
		wantMsg string
	}{
		{"empty in", nil, good, "in is empty"},
		{"empty out", good, []float64{}, "out is empty"},
		{"NaN in", []float64{0.1, math.NaN()}, good, "in[1] is NaN"},
		{"NaN out", good, []float64{math.NaN()}, "out[0] is NaN"},
		{"+Inf in", []float64{math.Inf(1)}, good, "in[0]"},
		{"-Inf out", good, []float64{0, 1, math.Inf(-1)}, "out[2]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := map[string]func() error{
				"Compute":           func() error { _, err := Compute(c.in, c.out); return err },
				"TNRAtTPR":          func() error { _, err := TNRAtTPR(c.in, c.out, 0.95); return err },
				"AUROC":             func() error { _, err := AUROC(c.in, c.out); return err },
				"DetectionAccuracy": func() error { _, err := DetectionAccuracy(c.in, c.out); return err },
				"ROCCurve":          func() error { _, _, err := ROCCurve(c.in, c.out); return err },
			}
			for name, f := range calls {
				err := f()
				if err == nil {
					t.Errorf("%s: no error", name)
				} else if !strings.Contains(err.Error(), c.wantMsg) {
					t.Errorf("%s: error %q does not mention %q", name, err, c.wantMsg)
				}
			}
			wantPR := strings.NewReplacer("in", "pos", "out", "neg").Replace(c.wantMsg)
			for name, f := range map[string]func() error{
				"AUPR":    func() error { _, err := AUPR(c.in, c.out); return err },
				"PRCurve": func() error { _, _, err := PRCurve(c.in, c.out); return err },
			} {
				err := f()
				if err == nil {
					t.Errorf("%s: no error", name)
				} else if !strings.Contains(err.Error(), wantPR) {
					t.Errorf("%s: error %q does not mention %q", name, err, wantPR)
				}
			}
		})
	}
}

// TestInputsUnchanged checks that the caller's slices are not reordered.
func TestInputsUnchanged(t *testing.T) {
	in := []float64{0.3, 0.9, 0.1}
	out := []float64{0.8, 0.2}
	inCopy, outCopy := slices.Clone(in), slices.Clone(out)
	if _, err := Compute(in, out); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in, inCopy) || !slices.Equal(out, outCopy) {
		t.Errorf("inputs modified: %v %v", in, out)
	}
}

// TestHistogram checks bin edges, the closed last bin, out-of-range values and bad arguments.
func TestHistogram(t *testing.T) {
	// 10 values over [0,1] in 4 bins [0,.25) [.25,.5) [.5,.75) [.75,1]:
	// 0, 0.1 → bin 0; 0.25, 0.3 → bin 1 (0.25 is a left edge); 0.5 → bin 2; 0.75, 0.99, 1 → bin 3
	// (1 = hi joins the last bin); -0.1 and 1.5 are out of range and count in no bin.
	vals := []float64{0, 0.1, 0.25, 0.3, 0.5, 0.75, 0.99, 1, -0.1, 1.5}
	got := Histogram(vals, 0, 1, 4)
	checkSlice(t, "histogram", got, []float64{0.2, 0.2, 0.1, 0.3})

	// Edges that are not exactly representable: the values k/10 (k = 0..10) over [0,1] in 10 bins
	// land in bin k (bin 9 also gets 1.0), although e.g. 0.3/0.1 rounds below 3 in float64.
	var tenths []float64
	for k := 0; k <= 10; k++ {
		tenths = append(tenths, float64(k)/10)
	}
	h := Histogram(tenths, 0, 1, 10)
	wantTenths := make([]float64, 10)
	for k := range wantTenths {
		wantTenths[k] = 1.0 / 11
	}
	wantTenths[9] = 2.0 / 11
	checkSlice(t, "tenths histogram", h, wantTenths)

	if h := Histogram(nil, 0, 1, 3); !slices.Equal(h, []float64{0, 0, 0}) {
		t.Errorf("Histogram(empty) = %v, want zeros", h)
	}
	for _, c := range []struct {
		lo, hi float64
		bins   int
	}{{0, 1, 0}, {1, 1, 3}, {1, 0, 3}, {0, math.Inf(1), 3}, {math.NaN(), 1, 3}} {
		if h := Histogram(vals, c.lo, c.hi, c.bins); h != nil {
			t.Errorf("Histogram(lo=%v, hi=%v, bins=%d) = %v, want nil", c.lo, c.hi, c.bins, h)
		}
	}
}

// ---- Brute-force O(n²) reference implementation, straight from the definitions. ----

func negate(s []float64) []float64 {
	r := make([]float64, len(s))
	for i, v := range s {
		r[i] = -v
	}
	return r
}

// candidates returns the distinct scores of a ∪ b in decreasing order.
func candidates(a, b []float64) []float64 {
	c := slices.Concat(a, b)
	slices.Sort(c)
	c = slices.Compact(c)
	slices.Reverse(c)
	return c
}

// countGE returns #{v in s : v >= d}.
func countGE(s []float64, d float64) int {
	n := 0
	for _, v := range s {
		if v >= d {
			n++
		}
	}
	return n
}

func bruteAUROC(in, out []float64) float64 {
	var u float64
	for _, a := range in {
		for _, b := range out {
			switch {
			case a > b:
				u++
			case a == b:
				u += 0.5
			}
		}
	}
	return 100 * u / float64(len(in)*len(out))
}

func bruteTNR(in, out []float64, tpr float64) float64 {
	best := math.Inf(-1)
	tnr := math.NaN()
	for _, d := range candidates(in, out) {
		if float64(countGE(in, d))/float64(len(in)) >= tpr && d > best {
			best = d
			tnr = 100 * float64(len(out)-countGE(out, d)) / float64(len(out))
		}
	}
	return tnr
}

func bruteDetAcc(in, out []float64) float64 {
	minErr := 0.5 // δ = +∞
	for _, d := range candidates(in, out) {
		pInBelow := float64(len(in)-countGE(in, d)) / float64(len(in))
		pOutAbove := float64(countGE(out, d)) / float64(len(out))
		minErr = math.Min(minErr, 0.5*pInBelow+0.5*pOutAbove)
	}
	return 100 * (1 - minErr)
}

// bruteAUPR is average precision from its definition: Σ_k (R_k − R_{k−1})·P_k over the distinct
// thresholds in decreasing order, each recall and precision recounted from scratch.
func bruteAUPR(pos, neg []float64) float64 {
	var ap, prevR float64
	for _, d := range candidates(pos, neg) {
		tp := countGE(pos, d)
		fp := countGE(neg, d)
		r := float64(tp) / float64(len(pos))
		p := float64(tp) / float64(tp+fp)
		ap += (r - prevR) * p
		prevR = r
	}
	return 100 * ap
}

func bruteReport(in, out []float64) Report {
	tnr := bruteTNR(in, out, 0.95)
	return Report{
		TNRAtTPR95:            tnr,
		FPRAtTPR95:            100 - tnr,
		FPRAtTPR95OODPositive: 100 - bruteTNR(negate(out), negate(in), 0.95),
		AUROC:                 bruteAUROC(in, out),
		AUPRIn:                bruteAUPR(in, out),
		AUPROut:               bruteAUPR(negate(out), negate(in)),
		DetectionAcc:          bruteDetAcc(in, out),
		NumIn:                 len(in),
		NumOut:                len(out),
	}
}

// randomScores draws n scores from N(mean, 1), rounded to multiples of step (step > 0 creates
// ties within and across the two sets).
func randomScores(r *rand.Rand, n int, mean, step float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		v := mean + r.NormFloat64()
		if step > 0 {
			v = math.Round(v/step) * step
		}
		s[i] = v
	}
	return s
}

// TestRandomAgainstBruteForce compares Compute, the single-metric functions and the curves with the
// brute-force implementation on random score sets with and without many ties.
func TestRandomAgainstBruteForce(t *testing.T) {
	cases := []struct {
		seed        uint64
		nIn, nOut   int
		shift, step float64
	}{
		{1, 1, 1, 0, 0},
		{2, 1, 7, 0.5, 0.5},
		{3, 9, 2, 1, 1},
		{4, 50, 50, 1, 0},
		{5, 50, 50, 1, 0.5},
		{6, 200, 73, 2, 0.25},
		{7, 137, 300, 0.3, 1},
		{8, 400, 400, 0, 0.1},
		{9, 300, 250, -1, 0.5}, // OOD scored higher than in-distribution
		{10, 500, 500, 3, 2},   // very coarse: few distinct values
		{11, 20, 20, 1.5, 0},   // exactly 5% granularity in TPR
		{12, 1000, 100, 1.5, 0.05},
	}
	for _, c := range cases {
		r := rand.New(rand.NewPCG(c.seed, 0x5eed))
		in := randomScores(r, c.nIn, c.shift, c.step)
		out := randomScores(r, c.nOut, 0, c.step)
		got, err := Compute(in, out)
		if err != nil {
			t.Fatal(err)
		}
		want := bruteReport(in, out)
		t.Run(fmt.Sprintf("seed%d", c.seed), func(t *testing.T) { checkReport(t, got, want) })

		if v, _ := AUROC(in, out); !near(v, want.AUROC) {
			t.Errorf("seed %d: AUROC = %v, brute %v", c.seed, v, want.AUROC)
		}
		for _, tpr := range []float64{0.05, 0.5, 0.8, 0.95, 0.99, 1} {
			if v, _ := TNRAtTPR(in, out, tpr); !near(v, bruteTNR(in, out, tpr)) {
				t.Errorf("seed %d: TNRAtTPR(%v) = %v, brute %v", c.seed, tpr, v, bruteTNR(in, out, tpr))
			}
		}
		if v, _ := AUPR(in, out); !near(v, want.AUPRIn) {
			t.Errorf("seed %d: AUPR = %v, brute %v", c.seed, v, want.AUPRIn)
		}
		if v, _ := DetectionAccuracy(in, out); !near(v, want.DetectionAcc) {
			t.Errorf("seed %d: DetectionAccuracy = %v, brute %v", c.seed, v, want.DetectionAcc)
		}

		// ROC curve: points recounted at each distinct threshold, and its trapezoidal area is AUROC.
		fpr, tpr, err := ROCCurve(in, out)
		if err != nil {
			t.Fatal(err)
		}
		cand := candidates(in, out)
		wantFPR, wantTPR := []float64{0}, []float64{0}
		for _, d := range cand {
			wantFPR = append(wantFPR, float64(countGE(out, d))/float64(len(out)))
			wantTPR = append(wantTPR, float64(countGE(in, d))/float64(len(in)))
		}
		checkSlice(t, "fpr", fpr, wantFPR)
		checkSlice(t, "tpr", tpr, wantTPR)
		var area float64
		for k := 1; k < len(fpr); k++ {
			area += (fpr[k] - fpr[k-1]) * (tpr[k] + tpr[k-1]) / 2
		}
		if !near(100*area, want.AUROC) {
			t.Errorf("seed %d: trapezoid area of ROCCurve = %v, AUROC %v", c.seed, 100*area, want.AUROC)
		}

		// PR curve: step sum over its points is AUPR.
		rec, prec, err := PRCurve(in, out)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec) != len(cand)+1 || rec[0] != 0 || prec[0] != 1 || rec[len(rec)-1] != 1 {
			t.Errorf("seed %d: PR curve endpoints wrong: len %d, first (%v,%v), last recall %v",
				c.seed, len(rec), rec[0], prec[0], rec[len(rec)-1])
		}
		var ap float64
		for k := 1; k < len(rec); k++ {
			ap += (rec[k] - rec[k-1]) * prec[k]
		}
		if !near(100*ap, want.AUPRIn) {
			t.Errorf("seed %d: step sum of PRCurve = %v, AUPR-in %v", c.seed, 100*ap, want.AUPRIn)
		}
	}
}

// TestInvariances checks properties that must hold for any data: a monotone transform of the
// scores changes nothing, swapping the roles flips AUROC, and the metrics stay in range.
func TestInvariances(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 43))
	in := randomScores(r, 300, 1, 0.2)
	out := randomScores(r, 400, 0, 0.2)
	a, err := Compute(in, out)
	if err != nil {
		t.Fatal(err)
	}
	// Strictly increasing transform: x ↦ exp(x)·3 + 1.
	tr := func(s []float64) []float64 {
		o := make([]float64, len(s))
		for i, v := range s {
			o[i] = 3*math.Exp(v) + 1
		}
		return o
	}
	b, err := Compute(tr(in), tr(out))
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, b, a)

	// Swapping the classes and negating the scores: AUROC unchanged, AUPR-in ↔ AUPR-out.
	c, err := Compute(negate(out), negate(in))
	if err != nil {
		t.Fatal(err)
	}
	if !near(c.AUROC, a.AUROC) || !near(c.AUPRIn, a.AUPROut) || !near(c.AUPROut, a.AUPRIn) {
		t.Errorf("swap: AUROC %v/%v AUPRIn %v/%v AUPROut %v/%v", c.AUROC, a.AUROC, c.AUPRIn, a.AUPROut,
			c.AUPROut, a.AUPRIn)
	}
	if !near(c.FPRAtTPR95, a.FPRAtTPR95OODPositive) {
		t.Errorf("swap: FPRAtTPR95 %v, want original OOD-positive FPR %v", c.FPRAtTPR95,
			a.FPRAtTPR95OODPositive)
	}
	// Swapping without negating: AUROC → 100 − AUROC.
	d, err := AUROC(out, in)
	if err != nil {
		t.Fatal(err)
	}
	if !near(d, 100-a.AUROC) {
		t.Errorf("AUROC(out,in) = %v, want %v", d, 100-a.AUROC)
	}
	for _, v := range []float64{a.TNRAtTPR95, a.FPRAtTPR95, a.FPRAtTPR95OODPositive, a.AUROC, a.AUPRIn,
		a.AUPROut} {
		if v < 0 || v > 100 {
			t.Errorf("metric %v outside [0, 100]", v)
		}
	}
	if a.DetectionAcc < 50 || a.DetectionAcc > 100 {
		t.Errorf("DetectionAcc %v outside [50, 100]", a.DetectionAcc)
	}
}

// BenchmarkCompute measures Compute on 20,000 in-distribution and 20,000 OOD scores.
func BenchmarkCompute(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	in := randomScores(r, 20000, 1, 0)
	out := randomScores(r, 20000, 0, 0)
	for b.Loop() {
		if _, err := Compute(in, out); err != nil {
			b.Fatal(err)
		}
	}
}
