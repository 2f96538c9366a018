package notebooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/confcal/confcal/confcal/nbutil"
	"github.com/confcal/confcal/confcal/store"
	"github.com/confcal/confcal/experiment"
	"github.com/confcal/confcal/internal/nbrun"
	"github.com/confcal/confcal/mnist"
	"github.com/confcal/confcal/toy2d"
)

// outputChecks verify, per notebook, the files its cells wrote to $CONFCAL_OUT.
var outputChecks = map[string]func(dir string) error{
	"toy2d": func(dir string) error {
		r, err := toy2d.Load(dir)
		if err != nil {
			return err
		}
		if r.Fig1 == nil || r.Fig3 == nil {
			return fmt.Errorf("%s/results.json lacks figure 1 or figure 3", dir)
		}
		// The notebook's default run shows both claims of Section 2 (as the README's figures do).
		for fig, c := range map[string]toy2d.Claim{"1": r.Fig1.Claim(), "3(b)": r.Fig3.Claim()} {
			if !c.Holds {
				return fmt.Errorf("the notebook's Figure %s does not show the paper's claim: %s", fig, c.Why)
			}
		}
		for _, f := range []string{toy2d.Fig1File, toy2d.Fig3File} {
			if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 10000 {
				return fmt.Errorf("figure %s missing or too small: %v", f, err)
			}
		}
		return nil
	},
	"mnist_gan": func(dir string) error {
		g, err := store.Read[mnist.Fig3Result](filepath.Join(dir, mnist.Fig3File))
		if err != nil {
			return err
		}
		if !(g.Proposed.MeanMaxSoftmax < g.Original.MeanMaxSoftmax) {
			return fmt.Errorf("Figure 3(c)(d): the classifier is not less confident on the proposed GAN's samples (%.3f) than on the original's (%.3f)",
				g.Proposed.MeanMaxSoftmax, g.Original.MeanMaxSoftmax)
		}
		if st, err := os.Stat(filepath.Join(dir, mnist.Fig3PNGFile)); err != nil || st.Size() < 10000 {
			return fmt.Errorf("figure %s missing or too small: %v", mnist.Fig3PNGFile, err)
		}
		rs, err := experiment.LoadResults(dir)
		if err != nil {
			return err
		}
		got := map[experiment.Regime]bool{}
		for _, r := range rs {
			got[r.Regime] = r.Data == mnist.Name && len(r.Baseline) == 3 && len(r.ODIN) == 3
		}
		for _, g := range []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.Joint} {
			if !got[g] {
				return fmt.Errorf("no MNIST %s run with the 3 OOD sets' baseline and ODIN results in %s", g, dir)
			}
		}
		return nil
	},
	"cifar10": imageChecks("cifar10"),
	"svhn":    imageChecks("svhn"),
}

// imageChecks verifies the runs of a Section 3 notebook: the four regimes of its cells, each with
// every OOD set's baseline and ODIN metrics and its guided-backprop panel, on labelled stand-in data
// (the real data sets cannot be reached where the tests run) unless the real files are present.
func imageChecks(data string) func(dir string) error {
	return func(dir string) error {
		rs, err := experiment.LoadResults(dir)
		if err != nil {
			return err
		}
		got := map[experiment.Regime]bool{}
		for _, r := range rs {
			if r.Data != data {
				return fmt.Errorf("run %s is of %q, want %q", r.Key, r.Data, data)
			}
			got[r.Regime] = true
			if len(r.OODNames) != 4 || len(r.Baseline) != 4 || len(r.ODIN) != 4 {
				return fmt.Errorf("run %s: %d OOD sets, %d baseline and %d ODIN results, want 4 each", r.Key, len(r.OODNames), len(r.Baseline), len(r.ODIN))
			}
			if st, err := os.Stat(filepath.Join(dir, "runs", r.Key, r.Guided)); r.Guided == "" || err != nil || st.Size() < 1000 {
				return fmt.Errorf("run %s: guided-backprop panel %q missing: %v", r.Key, r.Guided, err)
			}
		}
		for _, g := range []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.ConfGAN, experiment.Joint} {
			if !got[g] {
				return fmt.Errorf("no %s run in %s", g, dir)
			}
		}
		return nil
	}
}

// cellTimeout is the limit for each notebook cell.
const cellTimeout = 30 * time.Minute

// TestNotebooks executes every notebook in this directory with the GoNB kernel (sorted by
// name, one subtest each, one after the other) and fails on any error output: compile errors,
// panics, non-zero exits of cells or `!commands`. The cells see CONFCAL_NOTEBOOK_TEST=1.
//
// A failed notebook's executed copy is kept in $TMPDIR/confcal-nb-<name>.ipynb, and
// nbconvert's log (with the kernel's) in $TMPDIR/confcal-nb-<name>.log.
//
// Skipped with -short, and (outside CI) when Jupyter or GoNB are missing: scripts/setup.sh
// installs them. Run one notebook with: go test ./notebooks -run 'TestNotebooks/NAME'.
func TestNotebooks(t *testing.T) {
	notebooks := trackedNotebooks(t)
	if testing.Short() {
		t.Skip("notebooks are not run with -short")
	}
	if err := nbrun.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and notebooks cannot run: %v", err)
		}
		t.Skip(err)
	}

	for _, nb := range notebooks {
		name := strings.TrimSuffix(nb, ".ipynb")
		t.Run(name, func(t *testing.T) {
			// Stop (cleanly, killing the kernel) a minute before `go test -timeout` would panic
			// and leave the kernel running.
			ctx := t.Context()
			if deadline, ok := t.Deadline(); ok {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, deadline.Add(-time.Minute))
				defer cancel()
			}
			kept := filepath.Join(os.TempDir(), "confcal-nb-"+name+".ipynb")
			logPath := strings.TrimSuffix(kept, ".ipynb") + ".log"
			_ = os.Remove(logPath)

			start := time.Now()
			outDir := t.TempDir()
			res, err := nbrun.Run(ctx, nb, nbrun.Options{
				Timeout:    cellTimeout,
				Env:        []string{"CONFCAL_NOTEBOOK_TEST=1", nbutil.OutEnv + "=" + outDir},
				OutputPath: kept,
			})
			elapsed := time.Since(start).Round(time.Second)
			if res != nil && res.ExecutedPath != "" {
				t.Logf("%s: %s, %d code cells, %d images, %d HTML outputs", nb, elapsed, res.Cells, res.Images, res.HTML)
			}
			if err == nil && res.Images < 1 {
				err = fmt.Errorf("no image/png output: every notebook shows its figures inline")
			}
			if err == nil {
				err = checkProgress(res.ExecutedPath)
			}
			if err == nil {
				if check, ok := outputChecks[name]; ok {
					err = check(outDir)
				}
			}
			if err == nil {
				_ = os.Remove(kept)
				return
			}
			if res != nil {
				if werr := os.WriteFile(logPath, []byte(res.Stderr), 0o644); werr == nil {
					t.Logf("nbconvert and kernel log: %s", logPath)
				}
				if res.ExecutedPath != "" {
					t.Logf("executed notebook kept at %s", res.ExecutedPath)
				}
			}
			t.Errorf("notebook %s failed after %s:\n%v", nb, elapsed, err)
		})
	}
}

// checkProgress verifies that every training cell of an executed notebook (one that calls
// nbutil.NewTraining, directly or through the notebook's train helper) kept its progress display:
// an HTML block with a progress bar, the loss curve and the final state ("done").
func checkProgress(executed string) error {
	data, err := os.ReadFile(executed)
	if err != nil {
		return err
	}
	var nb struct {
		Cells []struct {
			Type    string          `json:"cell_type"`
			Source  json.RawMessage `json:"source"`
			Outputs []struct {
				Data map[string]json.RawMessage `json:"data"`
			} `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(data, &nb); err != nil {
		return fmt.Errorf("%s: %v", executed, err)
	}
	training := 0
	for i, c := range nb.Cells {
		src := text(c.Source)
		if c.Type != "code" || strings.Contains(src, "func ") || !(strings.Contains(src, "nbutil.NewTraining()") || strings.Contains(src, ":= train(")) {
			continue
		}
		training++
		ok := false
		for _, o := range c.Outputs {
			h := text(o.Data["text/html"])
			ok = ok || (strings.Contains(h, "<progress") && strings.Contains(h, "confcal-loss-curve") && strings.Contains(h, "data:image/png;base64,") && strings.Contains(h, "done"))
		}
		if !ok {
			return fmt.Errorf("training cell %d kept no progress bar with a loss curve in its outputs", i)
		}
	}
	if training == 0 {
		return fmt.Errorf("no training cell found (none calls nbutil.NewTraining or train)")
	}
	return nil
}

// text decodes a notebook string field, stored as a string or a list of lines.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var lines []string
	_ = json.Unmarshal(raw, &lines)
	return strings.Join(lines, "")
}

// trackedNotebooks returns the notebooks of this directory, sorted by name (the test is skipped when
// there are none).
func trackedNotebooks(t *testing.T) []string {
	t.Helper()
	notebooks, err := filepath.Glob("*.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(notebooks)
	if len(notebooks) == 0 {
		t.Skip("no notebooks (*.ipynb) in notebooks/")
	}
	return notebooks
}
