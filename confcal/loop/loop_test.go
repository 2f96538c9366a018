package loop_test

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/loop"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/train"
)

// newLoop returns a loop training a small MLP with cross entropy on two Gaussian blobs, 3 epochs of 4
// steps, each epoch's batches from loop.EpochRNG; lr sets Adam's learning rate.
func newLoop(t *testing.T, ckPath string, lr float64) loop.Loop {
	t.Helper()
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(3); err != nil {
		t.Fatal(err)
	}
	net := models.Net{Scope: models.ClassifierScope, Fn: models.MLP([]int{8}, 2)}
	step, err := train.Classifier(backend.Must(), ctx, train.ClassifierConfig{Net: net, Opt: optim.Adam{Scope: net.Scope, LearningRate: lr}})
	if err != nil {
		t.Fatal(err)
	}
	return loop.Loop{Name: "blobs", Ctx: ctx, Step: step, Epochs: 3, Checkpoint: ckPath, Key: "blobs-key",
		Epoch: func(e int) (loop.Epoch, error) {
			r := loop.EpochRNG(7, loop.Stream("blobs"), e)
			return loop.Epoch{Steps: 4, Inputs: func(int) ([]any, error) {
				x := make([]float32, 16*2)
				y := make([]int32, 16)
				for i := range y {
					y[i] = int32(r.IntN(2))
					x[2*i] = float32(r.NormFloat64() + 3*float64(2*y[i]-1))
					x[2*i+1] = float32(r.NormFloat64())
				}
				return []any{tensors.FromFlatDataAndDimensions(x, 16, 2), tensors.FromFlatDataAndDimensions(y, 16)}, nil
			}}, nil
		}}
}

func TestProgressEvents(t *testing.T) {
	l := newLoop(t, "", 0.01)
	var events []loop.Event
	l.Progress = func(e loop.Event) { events = append(events, e) }
	st, err := l.Run(loop.State{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 12 || st.Epoch != 3 || len(st.EpochSeconds) != 3 || len(st.Losses) != 1 {
		t.Fatalf("%d events, state %+v; want 12 events and 3 epochs", len(events), st)
	}
	for k, e := range events {
		if e.Done != k+1 || e.Total != 12 || e.Epoch != k/4+1 || e.Step != k%4+1 || e.Steps != 4 || e.Epochs != 3 ||
			e.Names[0] != "classifier" || e.Run != "blobs" {
			t.Errorf("event %d: %+v", k, e)
		}
		if e.Last() != (k == 11) {
			t.Errorf("event %d: Last() = %v", k, e.Last())
		}
	}
	// The ETA is the pace so far times the steps left.
	e := loop.Event{DoneNow: 3, TotalNow: 12, Elapsed: 6 * time.Second}
	if got := e.ETA(); got != 18*time.Second {
		t.Errorf("ETA after 3 of 12 steps in 6 s: %v, want 18s", got)
	}
}

// A run stopped after its first epoch and resumed from the checkpoint ends with the weights of an
// uninterrupted run; the events of the resumed call count the epoch done before.
func TestResumeMatchesUninterrupted(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "run", "checkpoint.bin")
	l := newLoop(t, ck, 0.01)
	l.Epochs = 1
	if _, err := l.Run(loop.State{}); err != nil {
		t.Fatal(err)
	}
	resumed := newLoop(t, ck, 0.01)
	st, err := loop.Resume(resumed.Ctx, ck, "blobs-key", 3)
	if err != nil || st.Epoch != 1 || len(st.Losses) != 1 {
		t.Fatalf("Resume: %+v, %v", st, err)
	}
	var first loop.Event
	resumed.Progress = func(e loop.Event) {
		if first.Run == "" {
			first = e
		}
	}
	if st, err = resumed.Run(st); err != nil {
		t.Fatal(err)
	}
	if first.Done != 5 || first.Total != 12 || first.DoneNow != 1 || first.TotalNow != 8 || first.Epoch != 2 {
		t.Errorf("first event of the resumed run: %+v", first)
	}
	whole := newLoop(t, filepath.Join(dir, "whole", "checkpoint.bin"), 0.01)
	if _, err := whole.Run(loop.State{}); err != nil {
		t.Fatal(err)
	}
	a, _ := loop.ReadCheckpoint(ck)
	b, _ := loop.ReadCheckpoint(filepath.Join(dir, "whole", "checkpoint.bin"))
	if a.Epoch != 3 || b.Epoch != 3 || len(a.Vars) != len(b.Vars) {
		t.Fatalf("epochs %d and %d, %d and %d variables", a.Epoch, b.Epoch, len(a.Vars), len(b.Vars))
	}
	for i := range a.Vars {
		if !bytes.Equal(a.Vars[i].Data, b.Vars[i].Data) {
			t.Errorf("variable %s/%s differs between the resumed and the uninterrupted run", a.Vars[i].Scope, a.Vars[i].Name)
		}
	}
	if _, err := loop.Resume(context.New(), ck, "other-key", 3); err == nil || !strings.Contains(err.Error(), ck) {
		t.Errorf("a checkpoint of another run: %v, want an error naming %s", err, ck)
	}
	if st, err := loop.Resume(context.New(), filepath.Join(dir, "none.bin"), "k", 3); err != nil || st.Epoch != 0 {
		t.Errorf("no checkpoint: %+v, %v; want a fresh state", st, err)
	}
}

// A diverging run stops at the first infinite or NaN loss, naming the run, the epoch and the step; the
// checkpoint of the last whole epoch stays.
func TestNaNStops(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "checkpoint.bin")
	l := newLoop(t, ck, 0.01)
	inputs := l.Epoch
	l.Epoch = func(e int) (loop.Epoch, error) {
		ep, err := inputs(e)
		if e < 1 {
			return ep, err
		}
		return loop.Epoch{Steps: ep.Steps, Inputs: func(i int) ([]any, error) {
			in, err := ep.Inputs(i)
			if i == 2 {
				x := in[0].(*tensors.Tensor)
				v := tensors.MustCopyFlatData[float32](x)
				v[0] = float32(math.Inf(1))
				in[0] = tensors.FromFlatDataAndDimensions(v, x.Shape().Dimensions...)
			}
			return in, err
		}}, nil
	}
	_, err := l.Run(loop.State{})
	if err == nil || !strings.Contains(err.Error(), "blobs, epoch 2 step 3") || !strings.Contains(err.Error(), "diverged") {
		t.Fatalf("%v, want a divergence error naming epoch 2 step 3", err)
	}
	c, err := loop.ReadCheckpoint(ck)
	if err != nil || c.Epoch != 1 {
		t.Fatalf("checkpoint after the stop: %v, %v; want epoch 1's", c, err)
	}
}

func TestTextProgress(t *testing.T) {
	var buf bytes.Buffer
	p := loop.TextProgress(&buf)
	for k := range 8 {
		p(loop.Event{Run: "r", Epoch: k/4 + 1, Epochs: 2, Step: k%4 + 1, Steps: 4, Done: k + 1, Total: 8, DoneNow: k + 1, TotalNow: 8,
			Elapsed: time.Duration(k+1) * time.Second, Names: []string{"d", "g"}, Losses: []float64{0.5, 1.25}})
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// Not a terminal: the first step, then each epoch's end (the others are within TextEvery).
	want := []string{
		"r: epoch 1/2 step 1/4 (1s elapsed, ETA 7s) d=0.5000 g=1.2500",
		"r: epoch 1/2 step 4/4 (4s elapsed, ETA 4s) d=0.5000 g=1.2500",
		"r: epoch 2/2 step 4/4 (8s elapsed, ETA 0s) d=0.5000 g=1.2500",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") || strings.Contains(buf.String(), "\r") {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), strings.Join(want, "\n"))
	}
	if loop.ProgressFor(nil) != nil {
		t.Error("no writer, no progress")
	}
	o := &observer{}
	loop.ProgressFor(o)(loop.Event{Run: "x"})
	if len(o.events) != 1 || o.Len() != 0 {
		t.Errorf("an Observer gets the events, not text: %d events, %q", len(o.events), o.String())
	}
}

// observer is a writer that records progress events (as a notebook display does).
type observer struct {
	bytes.Buffer
	events []loop.Event
}

func (o *observer) Progress(e loop.Event) { o.events = append(o.events, e) }
