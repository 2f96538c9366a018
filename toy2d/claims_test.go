package toy2d

import (
	"bytes"
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/params"
)

func fig1Result(seed int, wideNear, nearNear, accW, accN float64) *Fig1Result {
	r := &Fig1Result{Wide: Fig1Panel{Box: 50, NearConfidentShare: wideNear, TestAccuracy: accW, FarConfidentShare: 0.02},
		Near: Fig1Panel{Box: 20, NearConfidentShare: nearNear, TestAccuracy: accN, FarConfidentShare: 0.15}}
	r.Config.Seed = seed
	r.Config.Fig1.FarSigma, r.Config.Fig1.BoxWide.Half, r.Config.Fig1.BoxNear.Half = 4, 50, 20
	return r
}

func fig3Result(seed int, confO, confP, densO, densP, nearO, nearP, inside, acc float64) *Fig3Result {
	r := &Fig3Result{ClassifierAccuracy: acc,
		OriginalStats: SampleStats{MeanMaxSoftmax: confO, MeanLogDensity: densO, HighDensityShare: nearO, InsideBoxShare: 1},
		ProposedStats: SampleStats{MeanMaxSoftmax: confP, MeanLogDensity: densP, HighDensityShare: nearP, InsideBoxShare: inside}}
	r.Config.Seed = seed
	r.Config.Fig3.Box.Half = 10
	return r
}

// The claim rules at and around their thresholds (values by hand).
func TestClaimRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *Fig1Result
		want bool
	}{
		{"paper-like", fig1Result(1, 0.087, 0.011, 0.99, 0.99), true},
		{"exactly half", fig1Result(1, 0.08, 0.04, 0.99, 0.99), true},
		{"just over half", fig1Result(1, 0.08, 0.0401, 0.99, 0.99), false},
		{"reversed", fig1Result(1, 0.02, 0.09, 0.99, 0.99), false},
		{"both zero", fig1Result(1, 0, 0, 0.99, 0.99), false},
		{"bad classifier", fig1Result(1, 0.087, 0.011, 0.9, 0.99), false},
	} {
		if got := tc.r.Claim(); got.Holds != tc.want {
			t.Errorf("figure 1 %s: holds = %v, want %v (%s)", tc.name, got.Holds, tc.want, got.Why)
		}
	}
	for _, tc := range []struct {
		name string
		r    *Fig3Result
		want bool
	}{
		{"paper-like", fig3Result(1, 0.98, 0.916, -3.64, -6.22, 0.85, 0.017, 0.99, 0.99), true},
		{"gap 0.051", fig3Result(1, 0.976, 0.925, -3.6, -6.2, 0.85, 0.02, 0.99, 0.99), true},
		{"gap 0.049", fig3Result(1, 0.979, 0.930, -3.6, -6.2, 0.85, 0.02, 0.99, 0.99), false},
		{"quick preset's seed 42", fig3Result(1, 0.979, 0.970, -3.47, -4.15, 0.88, 0.74, 0.99, 0.99), false},
		{"higher density", fig3Result(1, 0.98, 0.90, -3.6, -3.5, 0.85, 0.5, 0.99, 0.99), false},
		{"same share near a mode", fig3Result(1, 0.98, 0.90, -3.6, -6, 0.5, 0.5, 0.99, 0.99), false},
		{"thrown out of the box", fig3Result(1, 0.98, 0.90, -3.6, -6, 0.85, 0.02, 0.89, 0.99), false},
		{"bad classifier", fig3Result(1, 0.98, 0.90, -3.6, -6, 0.85, 0.02, 0.99, 0.95), false},
	} {
		if got := tc.r.Claim(); got.Holds != tc.want {
			t.Errorf("figure 3 %s: holds = %v, want %v (%s)", tc.name, got.Holds, tc.want, got.Why)
		}
	}
}

func TestSeedTable(t *testing.T) {
	runs := []*Results{
		{Fig1: fig1Result(42, 0.087, 0.011, 0.99, 0.99), Fig3: fig3Result(42, 0.98, 0.916, -3.64, -6.22, 0.85, 0.017, 0.99, 0.99)},
		{Fig1: fig1Result(43, 0.02, 0.09, 0.99, 0.99), Fig3: fig3Result(43, 0.979, 0.970, -3.47, -4.15, 0.88, 0.74, 0.99, 0.99)},
		{Fig1: fig1Result(44, 0.3, 0.02, 0.99, 0.99)},
	}
	table := SeedTable(runs)
	for _, want := range []string{
		"| 42 | 8.7% | 1.1% | 2.0% | 15.0% | 99.0% / 99.0% | yes |",
		"| 43 | 2.0% | 9.0% |", "| 44 | 30.0% | 2.0% |",
		"Figure 1's claim holds on 2 of 3 seeds", "(d) is confident on less than (b) on 0 of 3 seeds",
		"| 42 | 99.0% | 0.980 | 0.916 | 0.064 | -3.64 | -6.22 | 85.0% | 1.7% | yes |",
		"| 43 | 99.0% | 0.979 | 0.970 | 0.009 |", "**no**",
		"Figure 3(b)'s claim holds on 1 of 2 seeds",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

// RunSeeds writes each seed's results and reads back, instead of training again, the seeds already
// done with the same configuration; another configuration trains again.
func TestRunSeedsResumes(t *testing.T) {
	ctx, err := NewContext("quick")
	if err != nil {
		t.Fatal(err)
	}
	if err := params.Apply(ctx, "hidden=8;fig1_steps=3;fig1_n=20;fig3_n=50;fig3_epochs=1;fig3_pretrain_epochs=1;fig3_samples=20;grid=11;fig3_z=4;fig3_batch=20", Presets); err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b := backend.Must()
	first, err := RunSeeds(b, cfg, []int{5, 6}, true, true, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	again, err := RunSeeds(b, cfg, []int{5, 6}, true, false, dir, &log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(log.String(), "read back") != 2 {
		t.Errorf("second run should read both seeds back, log:\n%s", log.String())
	}
	for i := range first {
		if again[i].Fig3 != nil || again[i].Fig1.Config.Seed != first[i].Fig1.Config.Seed ||
			again[i].Fig1.Wide.NearConfidentShare != first[i].Fig1.Wide.NearConfidentShare {
			t.Errorf("seed %d read back differs", first[i].Fig1.Config.Seed)
		}
	}
	log.Reset()
	cfg.Beta = 0.5
	if _, err := RunSeeds(b, cfg, []int{5}, true, false, dir, &log); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "read back") {
		t.Errorf("a changed configuration must train again, log:\n%s", log.String())
	}
	if _, err := RunSeeds(b, cfg, nil, true, false, dir, nil); err == nil {
		t.Error("no seeds should be an error")
	}
}

// zoomGrid keeps exactly the nodes inside the square: on a 5×5 grid over [-2,2]² (step 1) the
// square [-1,1]² is the 3×3 block of nodes 6..8, 11..13, 16..18.
func TestZoomGrid(t *testing.T) {
	r := &Fig1Result{GridN: 5, GridHalf: 2}
	vals := make([]float64, 25)
	for i := range vals {
		vals[i] = float64(i)
	}
	g, err := zoomGrid(r, vals, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{6, 7, 8, 11, 12, 13, 16, 17, 18}
	if g.NX != 3 || g.NY != 3 || g.XMin != -1 || g.XMax != 1 || g.YMin != -1 || g.YMax != 1 {
		t.Fatalf("grid %+v", g)
	}
	for i, v := range want {
		if g.Values[i] != v {
			t.Fatalf("values %v, want %v", g.Values, want)
		}
	}
	if _, err := zoomGrid(r, vals[:24], 1); err == nil {
		t.Error("wrong number of values should be an error")
	}
	if _, err := zoomGrid(r, vals, 0.1); err == nil {
		t.Error("a square with fewer than 2 nodes per axis should be an error")
	}
}

// A preset gives the same configuration whatever preset it is applied over.
func TestPresetsAreComplete(t *testing.T) {
	if err := params.Complete(Presets, NewContext, ConfigFromContext); err != nil {
		t.Error(err)
	}
}
