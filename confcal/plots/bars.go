package plots

import (
	"errors"
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarSeries is one labelled series of a grouped bar chart: Values[i] is its bar in group i.
type BarSeries struct {
	Label  string
	Values []float64
}

// Bars draws a grouped bar chart: one group per name in groups (e.g. the OOD data sets), one bar
// per series inside each group (e.g. the training losses), y axis labelled yLabel. Used for Figure 4
// (detection metrics per OOD set and loss) and Figure 7 (ODIN vs the baseline detector).
func Bars(title, yLabel string, groups []string, series ...BarSeries) (*plot.Plot, error) {
	if len(series) == 0 || len(groups) == 0 {
		return nil, errors.New("plots: a bar chart needs at least one group and one series")
	}
	p := newPlot(title, "", yLabel)
	p.Add(plotter.NewGrid())
	w := vg.Points(min(14, 60/float64(len(series))))
	var top float64
	for i, s := range series {
		if len(s.Values) != len(groups) {
			return nil, fmt.Errorf("plots: bar series %d (%q) has %d values for %d groups", i, s.Label, len(s.Values), len(groups))
		}
		for j, v := range s.Values {
			if !finite(v) {
				return nil, fmt.Errorf("plots: bar series %d (%q) value %d is %g, want finite", i, s.Label, j, v)
			}
			top = max(top, v)
		}
		b, err := plotter.NewBarChart(plotter.Values(s.Values), w)
		if err != nil {
			return nil, fmt.Errorf("plots: bar series %d (%q): %w", i, s.Label, err)
		}
		c := colorOr(nil, i)
		b.Color = c
		b.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(0.5)}
		b.Offset = vg.Length(float64(i)-float64(len(series)-1)/2) * w
		p.Add(b)
		if s.Label != "" {
			p.Legend.Add(s.Label, b)
		}
	}
	p.Legend.Top = true
	p.Legend.Left = false
	p.NominalX(groups...)
	p.Y.Min = 0
	p.Y.Max = max(top, 1) * (1.1 + 0.13*float64(len(series))) // room for the legend above the bars
	return p, nil
}
