// Package loop is the one training loop of the project, used by every experiment (the 2D toy of
// Section 2, MNIST and the CIFAR-10/SVHN experiments of Section 3 of Lee et al., ICLR 2018): epochs
// of compiled training steps (package train: eq. 1, eq. 3, Algorithm 1 …) fed from a seeded stream
// of batches and latent codes, with
//
//   - progress events (Event) for a callback, so that the command line (TextProgress) and the
//     notebooks render the same progress;
//   - per-epoch checkpoints (Checkpoint: every variable, optimizer state and the random state),
//     written atomically, and resumption from them (Resume): a killed run restarted with the same
//     settings goes on from its last epoch and ends with the same weights as an uninterrupted one,
//     provided its inputs come from EpochRNG;
//   - a stop at the first NaN or infinite loss, naming the run, the epoch and the step (the
//     checkpoint of the last whole epoch stays in place).
package loop

import (
	"fmt"
	"time"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/train"
)

// Epoch is what one epoch feeds its steps: Steps steps, the i-th (0-based) with the inputs
// Inputs(i) returns (in the order the step's Run takes them).
type Epoch struct {
	Steps  int
	Inputs func(i int) ([]any, error)
}

// Loop trains Step for Epochs epochs.
type Loop struct {
	// Name names the run in progress events and errors (e.g. a run key, "figure 1 (b)").
	Name string
	// Ctx holds the variables; it is what Checkpoint saves.
	Ctx  *context.Context
	Step *train.Step
	// Epochs is the number of epochs of the whole run (a resumed run does the rest).
	Epochs int
	// Epoch prepares epoch e (0-based): its number of steps and their inputs. It is called before the
	// epoch's first step; for a resumable run its draws must depend on e only (EpochRNG).
	Epoch func(e int) (Epoch, error)
	// BeforeEpoch, if set, runs before epoch e (0-based), e.g. to set a learning rate.
	BeforeEpoch func(e int) error
	// Checkpoint, if not empty, is the file written (atomically) after every epoch, under Key.
	Checkpoint string
	Key        string
	// AfterEpoch, if set, runs after epoch e's checkpoint is written (e counts the epochs done).
	AfterEpoch func(e int)
	// Progress, if set, receives an event after every step.
	Progress Progress
}

// State is where a run stands: the epochs done and their wall times, and the last losses.
type State struct {
	Epoch        int
	EpochSeconds []float64
	// Losses are the losses of the last step run, in the order of Step.Names (nil before any).
	Losses []float64
	// restored are the variables taken from a checkpoint: after the first step every variable of
	// the step must be among them.
	restored restoredVars
}

// Done reports whether the run has trained all its epochs.
func (s State) Done(epochs int) bool { return s.Epoch >= epochs }

// CheckRestored returns an error naming a variable of ctx that the checkpoint the state was restored
// from did not hold (nil when nothing was restored): the run would go on, or be evaluated, with it
// freshly initialised. Call it once the graphs using the model have been built.
func (s State) CheckRestored(ctx *context.Context) error { return s.restored.check(ctx) }

// Run trains from state s (State{} for a fresh run, or what Resume returned) to the last epoch and
// returns the final state.
func (l Loop) Run(s State) (State, error) {
	if l.Step == nil || l.Epoch == nil || l.Ctx == nil {
		return s, errors.Errorf("%s: a loop needs a context, a step and its epochs' inputs", l.Name)
	}
	start := s.Epoch
	total, doneBefore := 0, 0 // steps of this call and before it, known once the first epoch is prepared
	began := time.Now()
	for e := s.Epoch; e < l.Epochs; e++ {
		if l.BeforeEpoch != nil {
			if err := l.BeforeEpoch(e); err != nil {
				return s, errors.WithMessagef(err, "%s, epoch %d", l.Name, e+1)
			}
		}
		ep, err := l.Epoch(e)
		if err != nil {
			return s, errors.WithMessagef(err, "%s, epoch %d", l.Name, e+1)
		}
		if ep.Steps < 1 {
			return s, errors.Errorf("%s, epoch %d: no steps (too few examples for one batch?)", l.Name, e+1)
		}
		if total == 0 { // every epoch is assumed to have as many steps as the first one run
			total = ep.Steps * (l.Epochs - start)
			doneBefore = ep.Steps * start
		}
		epochBegan := time.Now()
		for i := range ep.Steps {
			in, err := ep.Inputs(i)
			if err != nil {
				return s, errors.WithMessagef(err, "%s, epoch %d step %d", l.Name, e+1, i+1)
			}
			if s.Losses, err = l.Step.Run(in...); err != nil {
				return s, errors.WithMessagef(err, "%s, epoch %d step %d", l.Name, e+1, i+1)
			}
			if e == start && i == 0 {
				// The step's graph exists now: its variables must all have been restored.
				if err := s.restored.check(l.Ctx); err != nil {
					return s, err
				}
			}
			if l.Progress != nil {
				done := (e-start)*ep.Steps + i + 1
				l.Progress(Event{Run: l.Name, Epoch: e + 1, Epochs: l.Epochs, Step: i + 1, Steps: ep.Steps,
					Done: doneBefore + done, Total: doneBefore + total, DoneNow: done, TotalNow: total,
					Elapsed: time.Since(began), Names: l.Step.Names(), Losses: s.Losses})
			}
		}
		s.EpochSeconds = append(s.EpochSeconds, time.Since(epochBegan).Seconds())
		s.Epoch = e + 1
		if l.Checkpoint != "" {
			if err := SaveCheckpoint(l.Checkpoint, l.Ctx, Checkpoint{Epoch: s.Epoch, Key: l.Key, EpochSeconds: s.EpochSeconds, Losses: s.Losses}); err != nil {
				return s, err
			}
		}
		if l.AfterEpoch != nil {
			l.AfterEpoch(s.Epoch)
		}
	}
	return s, nil
}

// Resume reads the checkpoint of run key (which trains epochs epochs) at path and restores it into
// ctx. Without a checkpoint it returns State{} (a fresh run) and no error. A corrupt checkpoint, one
// of another run, or one whose epoch count is outside 1…epochs is an error naming the file.
func Resume(ctx *context.Context, path, key string, epochs int) (State, error) {
	ck, err := readRunCheckpoint(path, key, epochs)
	if err != nil || ck == nil {
		return State{}, err
	}
	if err := ck.Restore(ctx); err != nil {
		return State{}, fmt.Errorf("%s: %v", path, err)
	}
	return State{Epoch: ck.Epoch, EpochSeconds: ck.EpochSeconds, Losses: ck.Losses, restored: newRestored(path, ck, "")}, nil
}

// StartFrom restores into ctx the variables under scope (e.g. "/generator": a pre-trained network's
// weights, without its optimizer state or random state) of the finished checkpoint at path, and
// returns a fresh run's state that checks, after the first step, that the step's variables under
// scope all came from it.
func StartFrom(ctx *context.Context, path, scope string) (State, error) {
	ck, err := ReadCheckpoint(path)
	if err != nil {
		return State{}, err
	}
	if err := ck.restoreScope(ctx, scope); err != nil {
		return State{}, fmt.Errorf("%s: %v", path, err)
	}
	return State{restored: newRestored(path, ck, scope)}, nil
}

// NewContext returns an empty context whose random state (initialisation, dropout) follows seed:
// the context a run starts from.
func NewContext(seed int64) (*context.Context, error) {
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(seed); err != nil {
		return nil, err
	}
	return ctx, nil
}
