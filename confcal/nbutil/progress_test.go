package nbutil

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/confcal/confcal/confcal/loop"
)

func TestProgressHTML(t *testing.T) {
	e := loop.Event{Run: "joint <run>", Epoch: 2, Epochs: 4, Step: 5, Steps: 10, Done: 15, Total: 40, DoneNow: 15, TotalNow: 40,
		Elapsed: 30 * time.Second, Names: []string{"classifier"}, Losses: []float64{0.25}}
	h := ProgressHTML(e, "data:image/png;base64,AAAA")
	for _, want := range []string{`<progress value="15" max="40"`, "step 15/40 (epoch 2/4)", "30s elapsed", "ETA 50s",
		"classifier=0.2500", "joint &lt;run&gt;", `src="data:image/png;base64,AAAA"`, `class="confcal-loss-curve"`} {
		if !strings.Contains(h, want) {
			t.Errorf("progress HTML lacks %q:\n%s", want, h)
		}
	}
	e.Done, e.DoneNow = 40, 40
	if h := ProgressHTML(e, ""); !strings.Contains(h, "done") || strings.Contains(h, "<img") || strings.Contains(h, "http") {
		t.Errorf("final block: %s", h)
	}
}

// The curve keeps at most maxCurvePoints points however long the run, always the last step, and
// renders to a PNG.
func TestLossCurve(t *testing.T) {
	v := &runView{stride: 1}
	const n = 5000
	for i := range n {
		v.add(loop.Event{Done: i + 1, Total: n, Names: []string{"d", "g"}, Losses: []float64{1 / float64(i+1), 2}})
	}
	if len(v.steps) >= maxCurvePoints || len(v.steps) < maxCurvePoints/4 || v.steps[len(v.steps)-1] != n || v.steps[0] != 1 {
		t.Fatalf("%d points from %v to %v", len(v.steps), v.steps[0], v.steps[len(v.steps)-1])
	}
	for i := 1; i < len(v.steps); i++ {
		if !(v.steps[i] > v.steps[i-1]) || v.losses[0][i] != 1/v.steps[i] {
			t.Fatalf("point %d: step %v loss %v", i, v.steps[i], v.losses[0][i])
		}
	}
	uri, err := v.curve("r")
	if err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(uri, "data:image/png;base64,"))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("curve is not a PNG data URI: %v", err)
	}
	if len(png) > 60_000 {
		t.Errorf("curve PNG of %d bytes: keep saved notebooks small", len(png))
	}
}
