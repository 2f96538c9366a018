package plots

import (
	"math"
	"strings"
	"testing"
)

func TestBars(t *testing.T) {
	p, err := Bars("TNR", "TNR (%)", []string{"a", "b", "c"},
		BarSeries{Label: "x", Values: []float64{10, 50, 100}}, BarSeries{Label: "y", Values: []float64{0, 20, 30}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Y.Min != 0 || p.Y.Max <= 100 {
		t.Errorf("y range [%v, %v], want from 0 to above the highest bar", p.Y.Min, p.Y.Max)
	}
	png, err := PNG(p, 300, 200)
	if err != nil || len(png) < 1000 {
		t.Fatalf("png %d bytes, %v", len(png), err)
	}
	for _, tc := range []struct {
		groups []string
		series []BarSeries
		want   string
	}{
		{nil, []BarSeries{{Values: nil}}, "at least one group"},
		{[]string{"a"}, nil, "at least one group"},
		{[]string{"a", "b"}, []BarSeries{{Label: "s", Values: []float64{1}}}, `("s") has 1 values for 2 groups`},
		{[]string{"a"}, []BarSeries{{Label: "s", Values: []float64{math.NaN()}}}, "want finite"},
	} {
		if _, err := Bars("t", "y", tc.groups, tc.series...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Bars(%v, %v): %v, want %q", tc.groups, tc.series, err, tc.want)
		}
	}
}
