package softmax_test

import (
	"math"
	"testing"

	"github.com/confcal/confcal/confcal/softmax"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Each case's probabilities are worked out by hand; conf and arg follow from them. ln 3 is rounded
// to float32, hence the 1e-7 tolerance of the cases that use it.
func TestProbsMaxRows(t *testing.T) {
	ln3 := float32(math.Log(3))
	e := math.E
	cases := []struct {
		name string
		row  []float32
		T    float64
		want []float64
		arg  int
		tol  float64
	}{
		{"(0, ln 3): exp → (1, 3)", []float32{0, ln3}, 1, []float64{0.25, 0.75}, 1, 1e-7},
		{"tie: first arg max", []float32{ln3, 0, ln3}, 1, []float64{3.0 / 7, 1.0 / 7, 3.0 / 7}, 0, 1e-7},
		{"one class", []float32{5}, 1, []float64{1}, 0, 0},
		{"T = 2 halves the logits", []float32{0, 2 * ln3}, 2, []float64{0.25, 0.75}, 1, 1e-7},
		{"T = 0.5 doubles them: (4, 0)", []float32{2, 0}, 0.5, []float64{e * e * e * e / (1 + e*e*e*e), 1 / (1 + e*e*e*e)}, 0, 1e-15},
		{"T = 1000 on (0, 1000): (0, 1)", []float32{0, 1000}, 1000, []float64{1 / (1 + e), e / (1 + e)}, 1, 1e-15},
		{"huge equal logits do not overflow", []float32{1000, 1000, 1000}, 1, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, 0, 1e-15},
		{"far apart: exp underflows to 0", []float32{-1000, 0, 1000}, 1, []float64{0, 0, 1}, 2, 0},
		{"empty", nil, 1, []float64{}, -1, 0},
	}
	var rows [][]float32
	for _, c := range cases {
		p := softmax.Probs(c.row, c.T)
		if len(p) != len(c.want) {
			t.Fatalf("%s: %d probabilities, want %d", c.name, len(p), len(c.want))
		}
		wantConf := math.NaN()
		for j := range p {
			if !near(p[j], c.want[j], c.tol) {
				t.Errorf("%s: Probs = %v, want %v", c.name, p, c.want)
			}
			if j == 0 || c.want[j] > wantConf {
				wantConf = c.want[j]
			}
		}
		conf, arg := softmax.Max(c.row, c.T)
		if arg != c.arg || !(near(conf, wantConf, c.tol) || math.IsNaN(conf) && math.IsNaN(wantConf)) {
			t.Errorf("%s: Max = (%v, %d), want (%v, %d)", c.name, conf, arg, wantConf, c.arg)
		}
		if got := softmax.ArgMax(c.row); got != c.arg {
			t.Errorf("%s: ArgMax = %d, want %d", c.name, got, c.arg)
		}
		if c.T == 1 {
			rows = append(rows, c.row)
		}
	}
	// Rows is Max row by row, on ragged rows (those at T = 1), empty ones included.
	conf, pred := softmax.Rows(rows, 1)
	if len(conf) != len(rows) || len(pred) != len(rows) {
		t.Fatalf("Rows gave %d confidences and %d predictions for %d rows", len(conf), len(pred), len(rows))
	}
	for i, row := range rows {
		c, a := softmax.Max(row, 1)
		if pred[i] != a || !(conf[i] == c || math.IsNaN(conf[i]) && math.IsNaN(c)) {
			t.Errorf("Rows row %d = (%v, %d), Max = (%v, %d)", i, conf[i], pred[i], c, a)
		}
	}
	if p := softmax.Probs([]float32{float32(math.NaN()), 0}, 1); !math.IsNaN(p[0]) || !math.IsNaN(p[1]) {
		t.Errorf("Probs(NaN, 0) = %v, want NaNs", p)
	}
}

// A temperature that is not finite and > 0 is a programming error: every function panics.
func TestBadTemperaturePanics(t *testing.T) {
	row := []float32{1, 2}
	for _, T := range []float64{0, -1, math.Inf(1), math.NaN()} {
		for name, f := range map[string]func(){
			"Probs": func() { softmax.Probs(row, T) },
			"Max":   func() { softmax.Max(row, T) },
			"Rows":  func() { softmax.Rows([][]float32{row}, T) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s with T = %v did not panic", name, T)
					}
				}()
				f()
			}()
		}
	}
}
