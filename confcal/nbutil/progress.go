package nbutil

import (
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"gonum.org/v1/plot/vg"

	"github.com/confcal/confcal/confcal/loop"
	"github.com/confcal/confcal/confcal/plots"
)

// Training is the log writer to give the training functions (toy2d.RunFig1, experiment.Run,
// mnist.RunFigure3, …) in a notebook: messages go to the cell's output, and every training run
// gets a block that shows, while it runs, a progress bar (step/total, elapsed time, ETA, the
// current losses) and a live loss curve, updated in place. The final state stays in the saved
// notebook, headless runs included. Outside a notebook its runs print text progress
// (loop.TextProgress) on standard output.
type Training struct {
	out  io.Writer
	mu   sync.Mutex
	runs map[string]*runView
	text loop.Progress
}

// NewTraining returns a Training writer on standard output.
func NewTraining() *Training {
	return &Training{out: os.Stdout, runs: map[string]*runView{}, text: loop.TextProgress(os.Stdout)}
}

// Write passes messages through.
func (t *Training) Write(p []byte) (int, error) { return t.out.Write(p) }

// Intervals between re-renders of a run's block: its text and bar, and its loss curve (a PNG).
var (
	barEvery   = 500 * time.Millisecond
	curveEvery = 3 * time.Second
)

// maxCurvePoints bounds the points of a loss curve kept per run (older ones are thinned).
const maxCurvePoints = 400

// runView is the state of one run's block.
type runView struct {
	id               string
	names            []string
	steps            []float64   // global step of each kept point
	losses           [][]float64 // per loss, the kept values
	stride, count    int         // keep every stride-th step
	lastBar, lastPNG time.Time
	png              string // the last rendered curve, as a data URI
}

// Progress renders an event (loop.Observer).
func (t *Training) Progress(e loop.Event) {
	if !gonbui.IsNotebook {
		t.text(e)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.runs[e.Run]
	if v == nil {
		v = &runView{id: "training_" + gonbui.UniqueID(), stride: 1}
		t.runs[e.Run] = v
	}
	v.add(e)
	end := e.Last() || e.Step == e.Steps
	now := time.Now()
	if !end && now.Sub(v.lastBar) < barEvery {
		return
	}
	v.lastBar = now
	if end || now.Sub(v.lastPNG) >= curveEvery {
		v.lastPNG = now
		if uri, err := v.curve(e.Run); err == nil {
			v.png = uri
		}
	}
	gonbui.UpdateHTML(v.id, ProgressHTML(e, v.png))
}

// add records the event's losses, thinning the curve to at most maxCurvePoints points.
func (v *runView) add(e loop.Event) {
	if v.names == nil {
		v.names = e.Names
		v.losses = make([][]float64, len(e.Names))
	}
	v.count++
	if (v.count-1)%v.stride != 0 && !e.Last() {
		return
	}
	v.steps = append(v.steps, float64(e.Done))
	for i := range v.losses {
		x := 0.0
		if i < len(e.Losses) {
			x = e.Losses[i]
		}
		v.losses[i] = append(v.losses[i], x)
	}
	if len(v.steps) >= maxCurvePoints {
		v.stride *= 2
		v.steps = thin(v.steps)
		for i := range v.losses {
			v.losses[i] = thin(v.losses[i])
		}
	}
}

// thin keeps every other value.
func thin(x []float64) []float64 {
	out := x[:0:0]
	for i := 0; i < len(x); i += 2 {
		out = append(out, x[i])
	}
	return out
}

// curve renders the run's loss curves as a PNG data URI.
func (v *runView) curve(run string) (string, error) {
	var cs []plots.Curve
	for i, n := range v.names {
		cs = append(cs, plots.Curve{Label: n, X: v.steps, Y: v.losses[i]})
	}
	p, err := plots.Lines("", "step", "loss", cs...)
	if err != nil {
		return "", err
	}
	png, err := plots.PNG(p, 5*vg.Inch, 2*vg.Inch)
	if err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png), nil
}

// ProgressHTML is a run's progress block: its name, a progress bar with step/total, elapsed time,
// ETA and the current losses, and the loss curve (a PNG data URI; none when empty). It loads
// nothing from the network.
func ProgressHTML(e loop.Event, curvePNG string) string {
	var sb strings.Builder
	state := fmt.Sprintf("ETA %s", loop.RoundDuration(e.ETA()))
	if e.Last() {
		state = "done"
	}
	fmt.Fprintf(&sb, `<div class="confcal-progress" style="font-family:monospace;font-size:90%%">`+
		`<b>%s</b><br><progress value="%d" max="%d" style="width:24em"></progress> `+
		`step %d/%d (epoch %d/%d) · %s elapsed · %s<br>losses:%s`,
		html.EscapeString(e.Run), e.Done, e.Total, e.Done, e.Total, e.Epoch, e.Epochs, loop.RoundDuration(e.Elapsed), state, html.EscapeString(e.LossText()))
	if curvePNG != "" {
		fmt.Fprintf(&sb, `<br><img class="confcal-loss-curve" alt="loss curve of %s" src="%s">`, html.EscapeString(e.Run), curvePNG)
	}
	sb.WriteString("</div>")
	return sb.String()
}
