package experiment

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/confcal/confcal/confcal/store"
	"github.com/gomlx/gomlx/backends"
)

// RunOne trains (or resumes) and evaluates the classifier of one regime with the config's
// hyperparameters, writing outDir/runs/<key>/result.json. A run whose result exists is not redone.
func RunOne(b backends.Backend, cfg Config, d *Data, regime Regime, outDir string, log io.Writer) (*RunResult, error) {
	runsDir := filepath.Join(outDir, "runs")
	key := cfg.RunKey(d, regime)
	resPath := filepath.Join(runsDir, key, ResultFile)
	if r, err := store.Read[RunResult](resPath); err == nil {
		logf(log, "%s: done before, result in %s", key, resPath)
		return r, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%v (delete it to evaluate again)", err)
	}
	t, err := Train(b, cfg, d, regime, runsDir, log)
	if err != nil {
		return nil, err
	}
	r, err := Evaluate(b, cfg, d, t, log)
	if err != nil {
		return nil, fmt.Errorf("%s: evaluating: %w", key, err)
	}
	if err := t.CheckRestored(); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if err := store.Write(resPath, r); err != nil {
		return nil, err
	}
	logf(log, "%s: accuracy %.2f%%, result in %s", key, r.Accuracy, resPath)
	return r, nil
}

// Run runs every regime of the config (RunOne each) and returns their results in order.
func Run(b backends.Backend, cfg Config, d *Data, outDir string, log io.Writer) ([]*RunResult, error) {
	var out []*RunResult
	for _, regime := range cfg.Regimes {
		r, err := RunOne(b, cfg, d, regime, outDir, log)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Trial is one point of the hyperparameter grid: a regime with β, batch size and learning rate.
type Trial struct {
	Regime Regime
	Beta   float64
	Batch  int
	LR     float64
}

// Grid lists the trials of the App. B sweep for the config's regimes, in a fixed order: β over
// cfg.SweepBetas (regimes without a KL term are not swept in β), batch over cfg.SweepBatches, lr
// over cfg.SweepLRs.
func Grid(cfg Config) []Trial {
	var out []Trial
	for _, regime := range cfg.Regimes {
		betas := cfg.SweepBetas
		if !regime.Spec().KL {
			betas = []float64{cfg.Beta}
		}
		for _, beta := range betas {
			for _, batch := range cfg.SweepBatches {
				for _, lr := range cfg.SweepLRs {
					out = append(out, Trial{Regime: regime, Beta: beta, Batch: batch, LR: lr})
				}
			}
		}
	}
	return out
}

// Shard is a part i (0-based) of n of a sweep.
type Shard struct{ I, N int }

// ParseShard parses "i/n" with 0 <= i < n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return Shard{I: i, N: n}, nil
}

// Sweep runs the trials of the grid that belong to the shard (trial k goes to shard k mod n), each
// as RunOne (so a stopped sweep resumes: finished trials are skipped, an interrupted one goes on from
// its checkpoint). Shards share nothing but outDir's runs folder (each trial writes only its own
// directory), so they can run on different machines and their runs folders be merged.
func Sweep(b backends.Backend, cfg Config, d *Data, outDir string, shard Shard, log io.Writer) ([]*RunResult, error) {
	grid := Grid(cfg)
	var out []*RunResult
	for k, tr := range grid {
		if k%shard.N != shard.I {
			continue
		}
		c := cfg
		c.Beta, c.Batch, c.LR = tr.Beta, tr.Batch, tr.LR
		logf(log, "sweep shard %d/%d: trial %d of %d: %s β=%g batch=%d lr=%g", shard.I, shard.N, k+1, len(grid), tr.Regime, tr.Beta, tr.Batch, tr.LR)
		r, err := RunOne(b, c, d, tr.Regime, outDir, log)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}
