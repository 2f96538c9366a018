package loop

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Event reports one training step of a run.
type Event struct {
	// Run names the run (Loop.Name).
	Run string
	// Epoch (1-based) of Epochs, and Step (1-based) of the epoch's Steps.
	Epoch, Epochs int
	Step, Steps   int
	// Done of Total steps of the whole run, counting the epochs a resumed run had done before.
	Done, Total int
	// DoneNow of TotalNow steps run by this call (the basis of the ETA).
	DoneNow, TotalNow int
	// Elapsed is the wall time since this call began.
	Elapsed time.Duration
	// Names and Losses are the step's losses (train.Step.Names).
	Names  []string
	Losses []float64
}

// ETA estimates the time left from the pace of the steps run so far.
func (e Event) ETA() time.Duration {
	if e.DoneNow <= 0 {
		return 0
	}
	return time.Duration(float64(e.Elapsed) * float64(e.TotalNow-e.DoneNow) / float64(e.DoneNow))
}

// Last reports whether this is the last step of the run.
func (e Event) Last() bool { return e.Done >= e.Total }

// LossText formats the losses as " name=value …".
func (e Event) LossText() string {
	var sb strings.Builder
	for i, n := range e.Names {
		if i < len(e.Losses) {
			fmt.Fprintf(&sb, " %s=%.4f", n, e.Losses[i])
		}
	}
	return sb.String()
}

// String is the event as one line of text: run, epoch, step, times and losses.
func (e Event) String() string {
	return fmt.Sprintf("%s: epoch %d/%d step %d/%d (%s elapsed, ETA %s)%s", e.Run, e.Epoch, e.Epochs, e.Step, e.Steps,
		RoundDuration(e.Elapsed), RoundDuration(e.ETA()), e.LossText())
}

// RoundDuration rounds a duration for display: to 0.1 s under a minute, to the second above.
func RoundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// Progress receives progress events.
type Progress func(Event)

// Observer is a writer that also renders progress events (a notebook's progress display): functions
// that take a log writer hand their loops' events to it (ProgressFor).
type Observer interface {
	io.Writer
	Progress(Event)
}

// ProgressFor returns where a loop whose messages go to w sends its events: w's own Progress when w
// is an Observer, text lines on w otherwise (TextProgress), nothing when w is nil.
func ProgressFor(w io.Writer) Progress {
	switch o := w.(type) {
	case nil:
		return nil
	case Observer:
		return o.Progress
	}
	return TextProgress(w)
}

// TextEvery is the interval of TextProgress's lines when its output is not a terminal.
var TextEvery = 10 * time.Second

// TextProgress renders events as text on w. On a terminal it rewrites one line in place (at most
// every 0.2 s, and ends it with a newline at the last step of an epoch); otherwise (a log, CI) it
// writes a plain line at most every TextEvery and at the end of every epoch.
func TextProgress(w io.Writer) Progress {
	tty := isTerminal(w)
	every := TextEvery
	if tty {
		every = 200 * time.Millisecond
	}
	var mu sync.Mutex
	var last time.Time
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		end := e.Step == e.Steps
		if !end && time.Since(last) < every {
			return
		}
		last = time.Now()
		if tty {
			nl := ""
			if end {
				nl = "\n"
			}
			fmt.Fprintf(w, "\r\033[K%s%s", e, nl)
			return
		}
		fmt.Fprintln(w, e)
	}
}

// isTerminal reports whether w is a character device (an interactive terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
