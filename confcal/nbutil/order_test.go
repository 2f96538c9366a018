package nbutil_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confcal/confcal/internal/nbrun"
)

// TestOutputOrder executes testdata/order.ipynb with the GoNB kernel: one cell prints a line and
// then shows markdown or a PNG through this package, many times over. GoNB forwards a program's
// stdout and its display data through two pipes read by two goroutines, so without Markdown's and
// PNG's flush a display can overtake the line printed just before it. Every line must come out
// before the display that follows it.
func TestOutputOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("executes a notebook")
	}
	if err := nbrun.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and notebooks cannot run: %v", err)
		}
		t.Skip(err)
	}
	const n = 60
	res, err := nbrun.Run(context.Background(), filepath.Join("testdata", "order.ipynb"), nbrun.Options{
		Timeout:    5 * time.Minute,
		Env:        []string{fmt.Sprintf("NBUTIL_ORDER_N=%d", n)},
		OutputPath: filepath.Join(t.TempDir(), "order.ipynb"),
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(res.ExecutedPath)
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Cells []struct {
			Outputs []struct {
				OutputType string                     `json:"output_type"`
				Name       string                     `json:"name"`
				Text       any                        `json:"text"`
				Data       map[string]json.RawMessage `json:"data"`
			} `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(data, &nb); err != nil {
		t.Fatal(err)
	}
	// The sequence of events, in output order: "line i" for each printed line, "display" for each
	// markdown or image.
	var events []string
	for _, o := range nb.Cells[len(nb.Cells)-1].Outputs {
		switch {
		case o.OutputType == "stream" && o.Name == "stdout":
			for _, l := range strings.Split(strings.TrimRight(joinText(o.Text), "\n"), "\n") {
				events = append(events, l)
			}
		case o.OutputType == "display_data":
			if _, ok := o.Data["text/markdown"]; ok {
				events = append(events, "display")
			} else if _, ok := o.Data["image/png"]; ok {
				events = append(events, "display")
			}
		}
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("line %d", i), "display")
	}
	if strings.Join(events, "|") != strings.Join(want, "|") {
		t.Errorf("outputs out of order (executed notebook %s):\n got %q\nwant %q", res.ExecutedPath, events, want)
	}
}

func joinText(t any) string {
	switch v := t.(type) {
	case string:
		return v
	case []any:
		var b strings.Builder
		for _, s := range v {
			b.WriteString(fmt.Sprint(s))
		}
		return b.String()
	}
	return ""
}
