package experiment

import (
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/params"
)

func TestGridAndShards(t *testing.T) {
	cfg := tinyConfig(t, "regimes=ce,joint;sweep_beta=0:2:0.1;sweep_batch=64,128;sweep_lr=0.001,0.0005,0.0002")
	if len(cfg.SweepBetas) != 21 || cfg.SweepBetas[20] != 2 || cfg.SweepBetas[3] != 0.3 {
		t.Fatalf("betas %v", cfg.SweepBetas)
	}
	grid := Grid(cfg)
	// CE is not swept in β: 2×3 trials; joint: 21×2×3.
	if want := 6 + 21*6; len(grid) != want {
		t.Fatalf("%d trials, want %d", len(grid), want)
	}
	seen := map[Trial]int{}
	for i := range 4 {
		for k, tr := range grid {
			if k%4 == i {
				seen[tr]++
			}
		}
	}
	for tr, n := range seen {
		if n != 1 {
			t.Errorf("trial %+v in %d shards", tr, n)
		}
	}
	if len(seen) != len(grid) {
		t.Errorf("trials not distinct: %d of %d", len(seen), len(grid))
	}
	for _, tc := range []struct {
		in   string
		want Shard
		ok   bool
	}{{"0/1", Shard{0, 1}, true}, {"3/4", Shard{3, 4}, true}, {"4/4", Shard{}, false}, {"-1/2", Shard{}, false}, {"1", Shard{}, false}, {"a/b", Shard{}, false}, {"0/0", Shard{}, false}} {
		got, err := ParseShard(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"model=resnet", "model must be vgg13, alexnet or simplecnn"},
		{"beta=-1", "beta"},
		{"lr=0", "lr must be"},
		{"batch=1", "batch must be"},
		{"regimes=ce,foo", `unknown regime "foo"`},
		{"sweep_beta=2:0:0.1", "sweep_beta: bad range"},
		{"sweep_batch=64.5", "sweep_batch"},
		{"ood_n=10;val_n=20", "ood_n (10) must exceed val_n (20)"},
		{"gan_beta1=1", "gan_beta1"},
	} {
		ctx, err := NewContext(nil, params.Presets{"x": {}}, "x")
		if err != nil {
			t.Fatal(err)
		}
		if err := params.Apply(ctx, tc.set, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := ConfigFromContext(ctx); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.set, err, tc.want)
		}
	}
}

// TestSweepShards runs a 2-trial sweep as two shards, then reruns one shard: the rerun finds its
// trial done; the results of both shards are loaded together and Best picks per OOD set.
func TestSweepShards(t *testing.T) {
	cfg := tinyConfig(t, "regimes=ce;sweep_batch=16;sweep_lr=0.002,0.001;epochs=1")
	d := tinyData(t, cfg)
	out := t.TempDir()
	b := backend.Must()
	for i := range 2 {
		rs, err := Sweep(b, cfg, d, out, Shard{I: i, N: 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || rs[0].Config.LR != []float64{0.002, 0.001}[i] {
			t.Fatalf("shard %d ran %d trials", i, len(rs))
		}
		// After shard 0 the trial of shard 1 (lr 0.001) is missing; after both, none is.
		done, err := LoadResults(out)
		if err != nil {
			t.Fatal(err)
		}
		missing := MissingTrials(cfg, done, d.Name)
		if want := 1 - i; len(missing) != want || (want == 1 && (missing[0].LR != 0.001 || missing[0].Regime != CrossEntropy)) {
			t.Errorf("after shard %d: missing %+v, want %d trial(s) (lr 0.001)", i, missing, want)
		}
		if other := MissingTrials(cfg, done, "svhn"); len(other) != 2 {
			t.Errorf("results of cifar10 counted for svhn: missing %+v", other)
		}
	}
	var log strings.Builder
	if _, err := Sweep(b, cfg, d, out, Shard{I: 1, N: 2}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "done before") {
		t.Errorf("rerun did not skip the finished trial:\n%s", log.String())
	}
	all, err := LoadResults(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("%d results", len(all))
	}
	best, err := Best(all, d.OODNames)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range d.OODNames {
		other := all[0]
		if best[n] == all[0] {
			other = all[1]
		}
		if best[n].ValError[n] > other.ValError[n] {
			t.Errorf("%s: best has validation error %v > %v", n, best[n].ValError[n], other.ValError[n])
		}
	}
	if _, err := LoadResults(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no results") {
		t.Errorf("empty dir: %v", err)
	}
}
