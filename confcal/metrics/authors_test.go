package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// u is the grid step of the hand-worked cases: with the scores' minimum 0 and maximum 200000·u,
// (max − min)/200000 = u = 2⁻¹⁷ exactly, so the authors' increasing grid is exactly k·u for
// k = 0…199999 and the decreasing one exactly (200000 − j)·u for j = 0…199999. A score m·u then
// satisfies "score >= δ_k" iff m >= k, which makes every count a count of integers.
const u = 1.0 / (1 << 17)

// us returns m·u for each m, count[i] times each (count nil: once each).
func us(ms []int, count []int) []float64 {
	var s []float64
	for i, m := range ms {
		c := 1
		if count != nil {
			c = count[i]
		}
		for range c {
			s = append(s, float64(m)*u)
		}
	}
	return s
}

// authorsCase is a hand-worked case: the authors' values, and the exact (this package's, scikit-learn
// compatible) values of the same metrics, which differ.
type authorsCase struct {
	name           string
	in, out        []float64
	authors, exact AuthorsReport
}

// authorsCases are worked out by hand in the comments (TPR counts in >= δ; FPR counts out > δ for
// TNR, AUROC and detection, out >= δ for AUPR-in; AUPR-out flags q < δ). In/out sizes differ.
var authorsCases = []authorsCase{
	{
		// TNR averaged over a TPR window. in: 19 at 160000u, 1 at 40000u; out: 0, 80000u, 120000u,
		// 200000u.
		// TPR(k) = 1 for k <= 40000, 0.95 for 40000 < k <= 160000, 0 above: the window [.94, .96]
		// holds k = 40001…160000, 120000 thresholds, with FPR 3/4 (k < 80000: 39999 of them),
		// 2/4 (80000 <= k < 120000: 40000), 1/4 (120000 <= k <= 160000: 40001): mean FPR
		// 59999.5/120000, TNR 100·60000.5/120000. Exact: δ = 160000u (TPR .95) accepts 1 of 4 → 75.
		// AUROC: FPR drops 1 → 3/4 at k = 0 (TPR 1), → 2/4 at k = 80000 and → 1/4 at
		// k = 120000 (TPR .95 both): .25 + .2375 + .2375 = .725. Exact: 58 of 80 pairs, the same.
		// Detection: ½(P_in(q < δ) + P_out(q > δ)) is least for 120000 <= k <= 160000:
		// ½(1/20 + 1/4) = .15 → 85; the exact sweep finds the same at δ = 160000u.
		// AUPR-in: recall falls 1 → .95 at k = 40001 (TPR .95, FPR(>=) 3/4, P = .95/1.7), then
		// .95 → 0 at k = 160001 where TPR = 0 so P = 0, and the closing recall·P is 0:
		// .05·.95/1.7. Exact: 19 in with 1 out above → .95·19/20, then 1/20·20/23.
		// AUPR-out, δ from 200000u down: at δ = 200000u recall(out < δ) 3/4, in < δ 20/20: P = 3/7,
		// weight 1/4; at 120000u recall 1/2, in < δ 1/20: P = 10/11; at 80000u recall 1/4,
		// P = .25/.3 = 5/6; the out score 0 never drops (δ >= u): closing term 1/4 at P = 1.
		// 3/28 + 5/22 + 5/24 + 1/4 = 1465/1848. Exact: 1/4 + 1/4·2/3 + 1/4·3/4 + 1/4·4/24 = 31/48.
		name: "TPR window",
		in:   us([]int{160000, 40000}, []int{19, 1}),
		out:  us([]int{0, 80000, 120000, 200000}, nil),
		authors: AuthorsReport{TNRAtTPR95: 100 * 60000.5 / 120000, AUROC: 72.5, DetectionAcc: 85,
			AUPRIn: 100 * .05 * .95 / 1.7, AUPROut: 100 * 1465.0 / 1848},
		exact: AuthorsReport{TNRAtTPR95: 75, AUROC: 72.5, DetectionAcc: 85,
			AUPRIn: 100 * (.95*19/20 + 1.0/23), AUPROut: 100 * 31.0 / 48},
	},
	{
		// Precision from rates. in: 100000u, 200000u; out: 0, 25000u, 50000u, 75000u, 125000u,
		// 150000u (2 vs 6).
		// TNR: TPR is 1 or 1/2, never in [.94, .96]: the code's corner case, FPR 1 → 0. Exact:
		// δ = 100000u accepts 2 of 6 → 200/3.
		// AUROC: FPR 5/6, 4/6, 3/6, 2/6 at k = 0, 25000, 50000, 75000 (TPR 1), 1/6 and 0 at
		// 125000, 150000 (TPR 1/2): 4/6 + 2/12 = 5/6, as the 10 of 12 pairs of the exact AUROC.
		// Detection: best for 75000 < k <= 100000: ½(0 + 2/6) → 500/6, the same as exact.
		// AUPR-in: recall 1 → 1/2 at k = 100001 with TPR 1/2, FPR(>=) 2/6: P = .5/(5/6) = .6;
		// closing term 1/2 at P = 1 (no out >= 199999u): .3 + .5 = .8. Exact: .5·1 + .5·2/4 = .75.
		// AUPR-out: each out score m >= u drops at δ = m·u; P = recall/(recall + in < δ):
		// 150000u 5/6 over 5/6 + 1/2 → 5/8; 125000u 4/6 → 4/7; 75000u, 50000u, 25000u → 1;
		// closing 1/6 at P = 1: 1/6·(5/8 + 4/7 + 4) = 97/112. Exact: 4/6 + 1/6·5/6 + 1/6·6/7 = 239/252.
		name: "precision from rates",
		in:   us([]int{100000, 200000}, nil),
		out:  us([]int{0, 25000, 50000, 75000, 125000, 150000}, nil),
		authors: AuthorsReport{TNRAtTPR95: 0, AUROC: 500.0 / 6, DetectionAcc: 500.0 / 6,
			AUPRIn: 80, AUPROut: 100 * 97.0 / 112},
		exact: AuthorsReport{TNRAtTPR95: 200.0 / 3, AUROC: 500.0 / 6, DetectionAcc: 500.0 / 6,
			AUPRIn: 75, AUPROut: 100 * 239.0 / 252},
	},
	{
		// Ties at the maximum (saturated scores). in: 200000u twice, 100000u; out: 0, 200000u.
		// TNR: TPR 1 or 2/3 → corner case, 0. Exact: δ = 100000u accepts 1 of 2 → 50.
		// AUROC: the grid stops below the maximum, so the tied out sample stays "> δ": FPR falls
		// 1 → 1/2 at k = 0 (TPR 1) and no further, and no closing term: 50. Exact: 4 of 6 pairs
		// (the two ties count ½) → 200/3.
		// Detection: ½(0 + 1/2) for k <= 100000 → 75, as exact (δ = 100000u).
		// AUPR-in: recall 1 → 2/3 at k = 100001 with FPR(>=) 1/2: P = (2/3)/(7/6) = 4/7; closing
		// 2/3 at the same P: 1/3·4/7 + 2/3·4/7 = 4/7. Exact: 2/3·2/3 + 1/3·3/4 = 25/36.
		// AUPR-out: at δ = 200000u recall 1/2 with in < δ 1/3: P = 3/5, weight 1/2; closing 1/2 at
		// P = 1: .3 + .5 = .8. Exact: 1/2·1 + 1/2·2/5 = .7.
		name: "ties at the maximum",
		in:   us([]int{200000, 100000}, []int{2, 1}),
		out:  us([]int{0, 200000}, nil),
		authors: AuthorsReport{TNRAtTPR95: 0, AUROC: 50, DetectionAcc: 75,
			AUPRIn: 400.0 / 7, AUPROut: 80},
		exact: AuthorsReport{TNRAtTPR95: 50, AUROC: 200.0 / 3, DetectionAcc: 75,
			AUPRIn: 2500.0 / 36, AUPROut: 70},
	},
	{
		// Ties at the minimum, which is the first threshold δ_0. in: 0, 200000u; out: 0, 0.
		// TNR: TPR 1 at k = 0, 1/2 above → corner case 0. Exact: only δ = 0 reaches TPR 1 and
		// accepts both out → 0.
		// AUROC: FPR(out > 0) is 0 at k = 0, with TPR 1: area 1 → 100. Exact: the in sample at 0
		// ties both out samples → 3 of 4 pairs → 75.
		// Detection: at k = 0, in < 0 and out > 0 are both empty: error 0 → 100, although no
		// threshold separates the tied samples. Exact: best is δ = 200000u, ½(1/2 + 0) → 75.
		// AUPR-in: k = 0 adds nothing (recall stays 1); at k = 1 recall 1/2 with FPR(>=) 0: P = 1;
		// closing 1/2 at P = 1 → 100. Exact: 1/2·1 + 1/2·2/4 → 75.
		// AUPR-out: recall(out < δ) is 1 for every δ >= u, in < δ is 1/2: P = 2/3, weight only in
		// the closing term: 1·2/3. Exact: one step to recall 1 at P = 2/3, the same.
		name: "ties at the minimum",
		in:   us([]int{0, 200000}, nil),
		out:  us([]int{0, 0}, nil),
		authors: AuthorsReport{TNRAtTPR95: 0, AUROC: 100, DetectionAcc: 100,
			AUPRIn: 100, AUPROut: 200.0 / 3},
		exact: AuthorsReport{TNRAtTPR95: 0, AUROC: 75, DetectionAcc: 75,
			AUPRIn: 75, AUPROut: 200.0 / 3},
	},
	{
		// An OOD score on the threshold where recall drops: AUPR-in counts out >= δ there.
		// in: 100000u, 200000u; out: 0, 50000u, 100001u.
		// TNR: TPR 1 or 1/2 → corner case 0. Exact: δ = 100000u accepts 100001u → 200/3.
		// AUROC: FPR(out > δ) 2/3, 1/3 at k = 0, 50000 (TPR 1), 0 at k = 100001 (TPR 1/2):
		// 1/3 + 1/3 + 1/6 = 5/6, as exact (5 of 6 pairs).
		// Detection: ½(0 + 1/3) for 50000 < k <= 100000 → 500/6, as exact (δ = 100000u).
		// AUPR-in: recall 1 → 1/2 at k = 100001, where out >= δ is 1/3 (the out score at
		// 100001u itself): P = .5/(.5 + 1/3) = .6; closing 1/2 at P = 1: .3 + .5 = .8 (counting
		// out > δ would give 1). Exact: 1/2·1 + 1/2·2/3 = 5/6.
		// AUPR-out: at δ = 100001u recall 2/3, in < δ 1/2: P = 4/7, weight 1/3; at 50000u recall
		// 1/3, P = 1, weight 1/3; closing 1/3 at P = 1: 4/21 + 2/3 = 6/7. Exact: 1/3 + 1/3 + 1/3·3/4
		// = 11/12.
		name: "OOD score where recall drops",
		in:   us([]int{100000, 200000}, nil),
		out:  us([]int{0, 50000, 100001}, nil),
		authors: AuthorsReport{TNRAtTPR95: 0, AUROC: 500.0 / 6, DetectionAcc: 500.0 / 6,
			AUPRIn: 80, AUPROut: 600.0 / 7},
		exact: AuthorsReport{TNRAtTPR95: 200.0 / 3, AUROC: 500.0 / 6, DetectionAcc: 500.0 / 6,
			AUPRIn: 500.0 / 6, AUPROut: 1100.0 / 12},
	},
}

func checkAuthors(t *testing.T, what string, got, want AuthorsReport) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"TNRAtTPR95", got.TNRAtTPR95, want.TNRAtTPR95},
		{"AUROC", got.AUROC, want.AUROC},
		{"DetectionAcc", got.DetectionAcc, want.DetectionAcc},
		{"AUPRIn", got.AUPRIn, want.AUPRIn},
		{"AUPROut", got.AUPROut, want.AUPROut},
	} {
		if !near(f.got, f.want) {
			t.Errorf("%s %s = %.12g, want %.12g", what, f.name, f.got, f.want)
		}
	}
}

// TestAuthorsHandWorked checks the authors' convention on cases worked out by hand where it
// differs from this package's exact metrics, and that Compute carries both.
func TestAuthorsHandWorked(t *testing.T) {
	for _, c := range authorsCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ComputeAuthors(c.in, c.out)
			if err != nil {
				t.Fatal(err)
			}
			checkAuthors(t, "ComputeAuthors", got, c.authors)
			rep, err := Compute(c.in, c.out)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Authors == nil {
				t.Fatal("Compute left Authors nil")
			}
			checkAuthors(t, "Compute().Authors", *rep.Authors, c.authors)
			checkAuthors(t, "Compute() (exact)", AuthorsReport{TNRAtTPR95: rep.TNRAtTPR95, AUROC: rep.AUROC,
				DetectionAcc: rep.DetectionAcc, AUPRIn: rep.AUPRIn, AUPROut: rep.AUPROut}, c.exact)
			tnr, err := AuthorsTNRAtTPR(c.in, c.out, AuthorsTPRLow, AuthorsTPRHigh)
			if err != nil || !near(tnr, c.authors.TNRAtTPR95) {
				t.Errorf("AuthorsTNRAtTPR = %v, %v; want %v", tnr, err, c.authors.TNRAtTPR95)
			}
		})
	}
}

// windowsCase has TPR 0.96, 0.95 and 0.94 over different ranges of the grid, so that the
// authors' window [.94, .96], ODIN's [.9495, .9505] and the exact rule give three values.
// in (100): 94 at 180000u, 1 at 120000u, 1 at 60000u, 4 at 10000u; out (4): 0, 90000u, 150000u,
// 200000u. TPR(k) is 1 for k <= 10000, .96 up to 60000, .95 up to 120000, .94 up to 180000.
func windowsCase() (in, out []float64) {
	return us([]int{180000, 120000, 60000, 10000}, []int{94, 1, 1, 4}), us([]int{0, 90000, 150000, 200000}, nil)
}

// TestAuthorsTNRWindows checks AuthorsTNRAtTPR with the authors' and ODIN's windows by hand.
func TestAuthorsTNRWindows(t *testing.T) {
	in, out := windowsCase()
	// Authors' window: k = 10001…180000 (170000 thresholds) with FPR(out > δ) 3/4 for k < 90000
	// (79999), 2/4 for 90000 <= k < 150000 (60000), 1/4 for 150000 <= k <= 180000 (30001):
	// mean 97499.5/170000 → TNR 100·72500.5/170000.
	// ODIN's window: TPR exactly .95, k = 60001…120000 (60000): FPR 3/4 for k < 90000 (29999),
	// 2/4 for 90000 <= k <= 120000 (30001): mean 37499.75/60000 → TNR 100·22500.25/60000.
	// Exact: the first threshold from the top with TPR >= .95 is 120000u, which accepts 150000u
	// and 200000u → 50.
	for _, c := range []struct {
		lo, hi, want float64
	}{
		{AuthorsTPRLow, AuthorsTPRHigh, 100 * 72500.5 / 170000},
		{ODINTPRLow, ODINTPRHigh, 100 * 22500.25 / 60000},
		{0.97, 0.99, 0}, // no threshold has TPR in the window: the code's corner case
	} {
		got, err := AuthorsTNRAtTPR(in, out, c.lo, c.hi)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got, c.want) {
			t.Errorf("AuthorsTNRAtTPR(%v, %v) = %.12g, want %.12g", c.lo, c.hi, got, c.want)
		}
	}
	if got, _ := TNRAtTPR(in, out, 0.95); got != 50 {
		t.Errorf("TNRAtTPR = %v, want 50", got)
	}
	for _, w := range [][2]float64{{0.96, 0.94}, {-0.1, 0.5}, {0.5, 1.1}, {math.NaN(), 1}} {
		if _, err := AuthorsTNRAtTPR(in, out, w[0], w[1]); err == nil {
			t.Errorf("AuthorsTNRAtTPR window %v: no error", w)
		}
	}
}

// TestAuthorsErrors checks the errors of the authors' functions, and that Compute leaves Authors
// nil where only they fail (every score equal).
func TestAuthorsErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		in, out []float64
		want    string
	}{
		{"empty in", nil, []float64{1}, "in is empty"},
		{"NaN out", []float64{1, 2}, []float64{math.NaN()}, "out[0] is NaN"},
		{"all equal", []float64{0.5, 0.5}, []float64{0.5}, "min < max"},
		{"range overflows", []float64{math.MaxFloat64}, []float64{-math.MaxFloat64}, "min < max"},
	} {
		_, err := ComputeAuthors(c.in, c.out)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: ComputeAuthors error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	rep, err := Compute([]float64{0.5, 0.5}, []float64{0.5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Authors != nil {
		t.Errorf("Compute on equal scores: Authors = %+v, want nil", *rep.Authors)
	}
	if rep.AUROC != 50 {
		t.Errorf("Compute on equal scores: AUROC = %v, want 50", rep.AUROC)
	}
}

// TestReportJSON checks that results saved before Report.Authors existed still load (Authors nil)
// and that a new report round-trips with it.
func TestReportJSON(t *testing.T) {
	old := `{"tnr_at_tpr95": 12.5, "fpr_at_tpr95": 87.5, "fpr_at_tpr95_ood_positive": 50, "auroc": 80,
		"aupr_in": 70, "aupr_out": 60, "detection_accuracy": 75, "num_in": 8, "num_out": 4}`
	var r Report
	if err := json.Unmarshal([]byte(old), &r); err != nil {
		t.Fatal(err)
	}
	if r.Authors != nil || r.TNRAtTPR95 != 12.5 || r.NumOut != 4 {
		t.Errorf("old JSON read as %+v", r)
	}
	c := authorsCases[1]
	rep, err := Compute(c.in, c.out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"authors":{"tnr_at_tpr95":0,"auroc":`) {
		t.Errorf("JSON lacks the authors' values: %s", b)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Authors == nil || *back.Authors != *rep.Authors {
		t.Errorf("round trip: %+v, want %+v", back.Authors, rep.Authors)
	}
}

// authorsPython finds a python3 with numpy: it must be there when CI is set (scripts/setup.sh
// installs Debian's python3-numpy); elsewhere the test skips without it.
func authorsPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set and no python3 can import numpy (scripts/setup.sh installs python3-numpy)")
	}
	t.Skip("no python3 with numpy (scripts/setup.sh installs python3-numpy)")
	return ""
}

// TestAuthorsAgainstPython compares ComputeAuthors and AuthorsTNRAtTPR with an independent numpy
// re-implementation of the authors' calculate_log.py (testdata/calculate_log.py) on the
// hand-worked cases and on random ones: unequal sizes, ties within and across the sets and at
// the extremes, softmax-like scores saturated at 1, and a grid whose length numpy rounds up.
func TestAuthorsAgainstPython(t *testing.T) {
	python := authorsPython(t)
	type pyCase struct {
		In      []float64    `json:"in"`
		Out     []float64    `json:"out"`
		Windows [][2]float64 `json:"windows"`
	}
	windows := [][2]float64{{AuthorsTPRLow, AuthorsTPRHigh}, {ODINTPRLow, ODINTPRHigh}}
	var cases []pyCase
	for _, c := range authorsCases {
		cases = append(cases, pyCase{c.in, c.out, windows})
	}
	in, out := windowsCase()
	cases = append(cases, pyCase{in, out, windows})
	r := rand.New(rand.NewPCG(7, 11))
	for _, c := range []struct {
		nIn, nOut   int
		shift, step float64
	}{
		{300, 1000, 1.5, 0}, {1000, 260, 1, 0.25}, {50, 50, 0.5, 0.5}, {400, 120, -0.5, 0.1}, {997, 2603, 2, 0},
	} {
		cases = append(cases, pyCase{randomScores(r, c.nIn, c.shift, c.step), randomScores(r, c.nOut, 0, c.step), windows})
	}
	// Softmax-like: max-softmax of 10 classes in [0.1, 1], many in-distribution and some OOD
	// scores exactly 1, some OOD exactly 0.1.
	soft := func(n int, sharp float64, nOne, nUniform int) []float64 {
		s := make([]float64, n)
		for i := range s {
			switch {
			case i < nOne:
				s[i] = 1
			case i < nOne+nUniform:
				s[i] = 0.1
			default:
				s[i] = float64(float32(0.1 + 0.9*math.Pow(r.Float64(), 1/sharp)))
			}
		}
		return s
	}
	cases = append(cases, pyCase{soft(1000, 6, 400, 0), soft(2603, 1.5, 200, 150), windows})
	// 0.9, 0.6, 0.4 / 0.6, 0.3, 0.1: (max − min)/gap rounds above 200000, so numpy makes 200001
	// thresholds.
	cases = append(cases, pyCase{[]float64{0.9, 0.6, 0.4}, []float64{0.6, 0.3, 0.1}, windows})

	input, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "testdata/calculate_log.py")
	cmd.Stdin = strings.NewReader(string(input))
	cmd.Stderr = os.Stderr
	output, err := cmd.Output()
	if err != nil {
		t.Fatalf("testdata/calculate_log.py: %v", err)
	}
	var want []struct {
		TNR       float64   `json:"tnr"`
		AUROC     float64   `json:"auroc"`
		Detection float64   `json:"detection"`
		AUPRIn    float64   `json:"aupr_in"`
		AUPROut   float64   `json:"aupr_out"`
		WindowTNR []float64 `json:"window_tnr"`
		Grid      [2]int    `json:"grid"`
	}
	if err := json.Unmarshal(output, &want); err != nil {
		t.Fatalf("%v: %s", err, output)
	}
	if len(want) != len(cases) {
		t.Fatalf("python gave %d results for %d cases", len(want), len(cases))
	}
	sawLongGrid := false
	for i, c := range cases {
		got, err := ComputeAuthors(c.In, c.Out)
		if err != nil {
			t.Fatal(err)
		}
		w := want[i]
		checkAuthors(t, "case "+string(rune('A'+i)), got, AuthorsReport{TNRAtTPR95: w.TNR, AUROC: w.AUROC,
			DetectionAcc: w.Detection, AUPRIn: w.AUPRIn, AUPROut: w.AUPROut})
		for j, win := range c.Windows {
			v, err := AuthorsTNRAtTPR(c.In, c.Out, win[0], win[1])
			if err != nil || !near(v, w.WindowTNR[j]) {
				t.Errorf("case %c: AuthorsTNRAtTPR%v = %v, %v; python %v", 'A'+i, win, v, err, w.WindowTNR[j])
			}
		}
		s, err := newAuthorsScores(c.In, c.Out)
		if err != nil {
			t.Fatal(err)
		}
		up, _ := newArange(s.start, s.end, s.gap)
		down, _ := newArange(s.end, s.start, -s.gap)
		if up.n != w.Grid[0] || down.n != w.Grid[1] {
			t.Errorf("case %c: grids of %d and %d thresholds, numpy %v", 'A'+i, up.n, down.n, w.Grid)
		}
		sawLongGrid = sawLongGrid || up.n != AuthorsGridSteps
	}
	if !sawLongGrid {
		t.Error("no case has a grid numpy rounds to more than AuthorsGridSteps thresholds")
	}
}

// BenchmarkComputeAuthors measures ComputeAuthors on 10,000 in-distribution and 26,032 OOD scores
// (CIFAR-10 test vs SVHN test).
func BenchmarkComputeAuthors(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	in := randomScores(r, 10000, 1, 0)
	out := randomScores(r, 26032, 0, 0)
	for b.Loop() {
		if _, err := ComputeAuthors(in, out); err != nil {
			b.Fatal(err)
		}
	}
}
