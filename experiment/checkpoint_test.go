package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/loop"
	"github.com/confcal/confcal/dataset"
)

// rewriteCheckpoint writes the variables vars of a checkpoint as a valid checkpoint file of the given
// epoch (as a user who knows the format could).
func rewriteCheckpoint(t *testing.T, path, key string, epoch int, vars []loop.SavedVar) {
	t.Helper()
	ctx := context.New()
	if err := (&loop.Checkpoint{Vars: vars}).Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if err := loop.SaveCheckpoint(path, ctx, loop.Checkpoint{Epoch: epoch, Key: key, EpochSeconds: make([]float64, max(epoch, 0))}); err != nil {
		t.Fatal(err)
	}
}

// TestCheckpointOfTheRun: a run refuses a checkpoint (with a valid checksum) whose epoch is outside
// 1…epochs, or that lacks variables the run has, whether it would resume or only evaluate.
func TestCheckpointOfTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small classifier")
	}
	cfg := tinyConfig(t, "regimes=ce;epochs=2")
	d := tinyData(t, cfg)
	b := backend.Must()
	runs := filepath.Join(t.TempDir(), "runs")
	key := cfg.RunKey(d, CrossEntropy)
	p := filepath.Join(runs, key, CheckpointFile)
	if _, err := Train(b, cfg, d, CrossEntropy, runs, nil); err != nil {
		t.Fatal(err)
	}
	full, err := loop.ReadCheckpoint(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, epoch := range []int{-3, 0, 3} {
		rewriteCheckpoint(t, p, key, epoch, full.Vars)
		if _, err := Train(b, cfg, d, CrossEntropy, runs, nil); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("epoch %d: %v, want an error naming %s", epoch, err, p)
		}
	}
	var half []loop.SavedVar
	for i, v := range full.Vars {
		if i%2 == 0 {
			half = append(half, v)
		}
	}
	for _, epoch := range []int{1, 2} { // resuming, and a finished run being evaluated
		t.Run(fmt.Sprintf("half-the-variables-epoch-%d", epoch), func(t *testing.T) {
			rewriteCheckpoint(t, p, key, epoch, half)
			os.Remove(filepath.Join(runs, key, ResultFile))
			_, err := RunOne(b, cfg, d, CrossEntropy, filepath.Dir(runs), nil)
			if err == nil || !strings.Contains(err.Error(), p+" lacks variables the run has") {
				t.Errorf("%v, want an error saying %s lacks variables", err, p)
			}
		})
	}
}

// TestEmptySets: NewData refuses empty training, test and seen-OOD sets (they would panic later).
func TestEmptySets(t *testing.T) {
	cfg := tinyConfig(t, "regimes=ce")
	empty := func(name string) *dataset.Set { return &dataset.Set{C: 3, H: 32, W: 32, Name: name} }
	ood := map[string]*dataset.Set{"noise": must(dataset.GaussianNoise(50, 3, 32, 32, 5))}
	for _, tc := range []struct {
		name              string
		train, test, seen *dataset.Set
		want              string
	}{
		{"train", empty("e-train"), blobs(60, 4, 2, "t"), blobs(64, 0, 3, "s"), `"e-train" has no images`},
		{"test", blobs(96, 4, 1, "tr"), empty("e-test"), blobs(64, 0, 3, "s"), `"e-test" has no images`},
		{"seen", blobs(96, 4, 1, "tr"), blobs(60, 4, 2, "t"), empty("e-seen"), `seen OOD set "e-seen" has no images`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewData(cfg, "blobs", 4, tc.train, tc.test, tc.seen, "noise", ood, []string{"noise"}, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}
}
