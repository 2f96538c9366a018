package toy2d

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/params"
)

// claimSeeds are the seeds of the claim tests: the first three of the documented 10-seed table
// (docs/toy2d-results.md), whatever their outcome there.
var claimSeeds = []int{42, 43, 44}

// The default preset's runs are shared by the claim tests (Figures 1 and 3 for three seeds: about
// 15 minutes on 2 cores).
var (
	defaultOnce sync.Once
	defaultRs   []*Results
	defaultErr  error
	defaultDir  string
)

// defaultConfig returns the default preset's configuration.
func defaultConfig(t *testing.T) Config {
	t.Helper()
	ctx, err := NewContext(DefaultPreset)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// defaultRuns trains both figures with the default preset for each of claimSeeds, through RunSeeds
// (as `confcal toy2d -seeds` does), and returns what the results files hold.
func defaultRuns(t *testing.T) []*Results {
	t.Helper()
	if testing.Short() {
		t.Skip("trains the default preset for three seeds (about 15 minutes on 2 cores); skipped with -short")
	}
	cfg := defaultConfig(t)
	defaultOnce.Do(func() {
		if defaultDir, defaultErr = os.MkdirTemp("", "toy2d-test-"); defaultErr != nil {
			return
		}
		if _, defaultErr = RunSeeds(backend.Must(), cfg, claimSeeds, true, true, defaultDir, nil); defaultErr != nil {
			return
		}
		// The claims are checked on what the results files hold, as the notebook and the table read them.
		for _, seed := range claimSeeds {
			r, err := Load(filepath.Join(SeedDir(defaultDir, seed), ResultsFile))
			if err != nil {
				defaultErr = err
				return
			}
			defaultRs = append(defaultRs, r)
		}
	})
	if defaultErr != nil {
		t.Fatal(defaultErr)
	}
	return defaultRs
}

func TestMain(m *testing.M) {
	code := m.Run()
	if defaultDir != "" {
		_ = os.RemoveAll(defaultDir)
	}
	os.Exit(code)
}

// Figure 1's claim on each seed of the default preset: with OOD points near the data ([-20,20]²) the
// classifier is confident only on the labelled region; with OOD points spread over [-50,50]² it stays
// overconfident around it (Fig1Result.Claim). The table of docs/toy2d-results.md has ten seeds.
func TestFigure1ClaimPerSeed(t *testing.T) {
	for _, r := range defaultRuns(t) {
		f := r.Fig1
		c := f.Claim()
		t.Logf("seed %d: %s; whole plane %.1f%% (b) vs %.1f%% (d)", f.Config.Seed, c.Why, 100*f.Wide.FarConfidentShare, 100*f.Near.FarConfidentShare)
		if !c.Holds {
			t.Errorf("seed %d: Figure 1's claim does not hold: %s", f.Config.Seed, c.Why)
		}
		if n := f.GridN * f.GridN; len(f.Wide.Confidence) != n || len(f.Near.Class0Prob) != n {
			t.Errorf("seed %d: confidence maps have %d/%d values, want %d", f.Config.Seed, len(f.Wide.Confidence), len(f.Near.Class0Prob), n)
		}
	}
}

// Figure 3(a)(b)'s claim on each seed of the default preset: the classifier is clearly less confident
// on the proposed GAN's samples than on the original GAN's, which lie in lower density yet near the
// target (Fig3Result.Claim).
func TestFigure3ClaimPerSeed(t *testing.T) {
	for _, r := range defaultRuns(t) {
		f := r.Fig3
		c := f.Claim()
		t.Logf("seed %d: %s; within 2σ of a mode %.1f%% → %.1f%%, inside the box %.1f%%", f.Config.Seed, c.Why,
			100*f.OriginalStats.HighDensityShare, 100*f.ProposedStats.HighDensityShare, 100*f.ProposedStats.InsideBoxShare)
		if !c.Holds {
			t.Errorf("seed %d: Figure 3(b)'s claim does not hold: %s", f.Config.Seed, c.Why)
		}
	}
}

func TestFiguresRender(t *testing.T) {
	r := defaultRuns(t)[0]
	dir := t.TempDir()
	files, err := WriteFigures(r, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("wrote %v, want 2 figures", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil || len(data) < 10000 || string(data[1:4]) != "PNG" {
			t.Errorf("%s: %d bytes, err %v: not a real figure", f, len(data), err)
		}
	}
}

func TestBadSettingsAreClearErrors(t *testing.T) {
	cases := map[string]string{
		"fig1_box_near=-20": "fig1_box_near",
		"beta=-1":           "beta",
		"fig1_ood_n=0":      "fig1_ood_n",
		"fig3_batch=1":      "fig3_batch",
		"fig1_sigma=0":      "sigma",
		"fig3_box=4":        "fig3_box",
		"fig3_adam_beta1=1": "fig3_adam_beta1",
	}
	for set, want := range cases {
		ctx, err := NewContext("quick")
		if err != nil {
			t.Fatal(err)
		}
		if err := params.Apply(ctx, set, Presets); err != nil {
			t.Fatalf("%s: %v", set, err)
		}
		_, err = ConfigFromContext(ctx)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error naming %q", set, err, want)
		}
	}
	ctx, _ := NewContext("quick")
	for _, set := range []string{"no_such_param=1", "beta=abc", "preset=huge"} {
		if err := params.Apply(ctx, set, Presets); err == nil {
			t.Errorf("%s should be rejected", set)
		}
	}
	if _, err := NewContext("huge"); err == nil || !strings.Contains(err.Error(), "huge") {
		t.Errorf("unknown preset: got %v", err)
	}
}

func TestPresetsAndOverrides(t *testing.T) {
	ctx, err := NewContext("paper")
	if err != nil {
		t.Fatal(err)
	}
	if err := params.Apply(ctx, "fig3_lr=0.001", Presets); err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The paper's values (App. B) and the override.
	if cfg.Hidden != 500 || cfg.Layers != 2 || cfg.Fig3.Z != 100 || cfg.Fig3.Batch != 400 || cfg.Fig3.Epochs != 100 ||
		cfg.Beta != 1 || cfg.Fig1.OODN != 100 || cfg.Fig1.BoxWide.Half != 50 || cfg.Fig1.BoxNear.Half != 20 || cfg.Fig3.Box.Half != 10 {
		t.Errorf("paper preset differs from the paper: %+v", cfg)
	}
	if cfg.Fig3.LR != 0.001 {
		t.Errorf("override ignored: fig3_lr = %v", cfg.Fig3.LR)
	}
	// preset= inside the settings applies first, whatever its position.
	if err := params.Apply(ctx, "hidden=7;preset=quick", Presets); err != nil {
		t.Fatal(err)
	}
	if cfg, _ := ConfigFromContext(ctx); cfg.Hidden != 7 || cfg.Preset != "quick" || cfg.Fig1.Steps != 1000 {
		t.Errorf("preset then override: hidden=%d preset=%s steps=%d", cfg.Hidden, cfg.Preset, cfg.Fig1.Steps)
	}
}

func TestRejectionSample(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m := Mixture{{Mean: [2]float64{-3, 0}, Sigma: 1}, {Mean: [2]float64{3, 0}, Sigma: 1}}
	pts, err := RejectionSample(r, m, Box{10}, 3, 2000)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		if m.MinDistance(p) <= 3 || math.Abs(p[0]) > 10 || math.Abs(p[1]) > 10 {
			t.Fatalf("point %v is inside the margin or outside the box", p)
		}
	}
	for _, tc := range []struct {
		box    float64
		margin float64
		n      int
		want   string
	}{{-1, 3, 10, "box"}, {10, -1, 10, "margin"}, {10, 3, 0, "number"}, {1, 10, 10, "in-distribution"}} {
		_, err := RejectionSample(r, m, Box{tc.box}, tc.margin, tc.n)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("box %v margin %v n %d: got %v, want an error about %q", tc.box, tc.margin, tc.n, err, tc.want)
		}
	}
}

func TestLogDensity(t *testing.T) {
	m := Mixture{{Mean: [2]float64{-3, 0}, Sigma: 1}, {Mean: [2]float64{3, 0}, Sigma: 2}}
	for _, p := range [][2]float64{{0, 0}, {-3, 0}, {5, 5}, {1, -2}} {
		if got, want := m.LogDensity(p), math.Log(m.Density(p)); math.Abs(got-want) > 1e-9 {
			t.Errorf("LogDensity(%v) = %v, want %v", p, got, want)
		}
	}
	// Far away the density underflows to 0 but the log stays finite: at (1000, 0) the second
	// component dominates: -(997²)/(2·4) - log(2π·4) - log 2.
	want := -997.0*997/8 - math.Log(8*math.Pi) - math.Log(2)
	if got := m.LogDensity([2]float64{1000, 0}); math.Abs(got-want) > 1e-6 {
		t.Errorf("far LogDensity = %v, want %v", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"fig1": [1,2`), 0o644)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("truncated file: %v", err)
	}
	empty := filepath.Join(dir, "empty.json")
	_ = os.WriteFile(empty, []byte(`{}`), 0o644)
	if _, err := Load(empty); err == nil {
		t.Error("a results file with neither figure should be rejected")
	}
}
