package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// contourFractions are the background contour levels, as fractions of the way from the grid's smallest to its
// largest value.
var contourFractions = []float64{0.1, 0.3, 0.5, 0.7, 0.9}

// greyPalette runs from white to a light grey, for background densities under coloured points.
type greyPalette int

func (n greyPalette) Colors() []color.Color {
	cs := make([]color.Color, n)
	for i := range cs {
		y := uint8(math.Round(255 - 85*float64(i)/float64(n-1)))
		cs[i] = color.Gray{Y: y}
	}
	return cs
}

// Scatter draws the point layers, optionally (background != nil) over a background density grid shown as grey
// shading (white at its minimum, grey at its maximum, like the grey area of the paper's Figure 3(a)(b)) with
// contour lines at 10%, 30%, 50%, 70% and 90% of its range. The legend of the labelled layers is placed in the
// corner (or top/bottom middle) hiding the fewest points. Used for Figure 3(a)(b): GAN samples over the target
// mixture's density, and Figure 1(a)(c): training data and OOD samples.
func Scatter(title string, background *Grid, layers ...Points) (*plot.Plot, error) {
	if background == nil && len(layers) == 0 {
		return nil, errors.New("plots: scatter has neither a background grid nor point layers")
	}
	p := newPlot(title, "", "")
	if background != nil {
		g := *background
		if err := g.Validate(); err != nil {
			return nil, err
		}
		lo, hi := g.valueRange()
		if hi > lo {
			shade := plotter.NewHeatMap(gridXYZ{g: g}, greyPalette(256))
			shade.Min, shade.Max = lo, hi
			shade.Rasterized = true
			p.Add(shade)
			levels := make([]float64, len(contourFractions))
			for i, f := range contourFractions {
				levels[i] = lo + f*(hi-lo)
			}
			ct := plotter.NewContour(gridXYZ{g: g}, levels, nil)
			ct.Min, ct.Max = lo, hi
			ct.LineStyles = []draw.LineStyle{{Color: color.Gray{Y: 0x60}, Width: vg.Points(0.6)}}
			p.Add(ct)
		}
		p.X.Min, p.X.Max = math.Min(p.X.Min, g.XMin), math.Max(p.X.Max, g.XMax)
		p.Y.Min, p.Y.Max = math.Min(p.Y.Min, g.YMin), math.Max(p.Y.Max, g.YMax)
	}
	if err := addPointLayers(p, layers, false); err != nil {
		return nil, err
	}
	return p, nil
}

// Histograms draws the series overlaid, each as semi-transparent bars under a solid outline, with the x axis
// labelled xLabel and the y axis "fraction". Used for Figure 2(a)(b): the fraction of test images per bin of
// the maximum softmax value, in- and out-of-distribution.
func Histograms(title, xLabel string, series ...Series) (*plot.Plot, error) {
	if len(series) == 0 {
		return nil, errors.New("plots: histograms need at least one series")
	}
	p := newPlot(title, xLabel, "fraction")
	p.Add(plotter.NewGrid())
	var leg boxLegend
	var top float64
	for i, s := range series {
		if err := s.validate(i); err != nil {
			return nil, err
		}
		n := len(s.Fractions)
		w := (s.Hi - s.Lo) / float64(n)
		ring := make(plotter.XYs, 0, 2*n+2)
		ring = append(ring, plotter.XY{X: s.Lo, Y: 0})
		for j, f := range s.Fractions {
			x0, x1 := s.Lo+float64(j)*w, s.Lo+float64(j+1)*w
			if j == n-1 {
				x1 = s.Hi
			}
			ring = append(ring, plotter.XY{X: x0, Y: f}, plotter.XY{X: x1, Y: f})
			top = math.Max(top, f)
		}
		ring = append(ring, plotter.XY{X: s.Hi, Y: 0})
		poly, err := plotter.NewPolygon(ring)
		if err != nil {
			return nil, fmt.Errorf("plots: series %d (%q): %w", i, s.Label, err)
		}
		c := colorOr(s.Color, i)
		poly.Color = withAlpha(c, 0.25)
		poly.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.2)}
		p.Add(poly)
		if s.Label != "" {
			leg.entries = append(leg.entries, legendEntry{s.Label, poly})
		}
		leg.obstacles = append(leg.obstacles, barObstacle{s.Lo, s.Hi, s.Fractions})
	}
	p.Y.Min = 0
	if top == 0 {
		p.Y.Max = 1
	}
	p.Add(&leg)
	return p, nil
}

// Lines draws the curves with the given axis labels; a curve of a single point is drawn as a dot. Used for
// Figure 2(c), the ROC curves of the baseline detector, and for training-loss curves.
func Lines(title, xLabel, yLabel string, curves ...Curve) (*plot.Plot, error) {
	if len(curves) == 0 {
		return nil, errors.New("plots: lines need at least one curve")
	}
	p := newPlot(title, xLabel, yLabel)
	p.Add(plotter.NewGrid())
	var leg boxLegend
	for i, cv := range curves {
		if err := cv.validate(i); err != nil {
			return nil, err
		}
		xys := make(plotter.XYs, len(cv.X))
		for j := range cv.X {
			xys[j] = plotter.XY{X: cv.X[j], Y: cv.Y[j]}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("plots: curve %d (%q): %w", i, cv.Label, err)
		}
		l.LineStyle = draw.LineStyle{Color: colorOr(cv.Color, i), Width: vg.Points(1.5)}
		if cv.Dashes {
			l.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		if len(cv.X) == 1 {
			s, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("plots: curve %d (%q): %w", i, cv.Label, err)
			}
			s.GlyphStyle = draw.GlyphStyle{Color: l.LineStyle.Color, Radius: DefaultRadius, Shape: draw.CircleGlyph{}}
			p.Add(s)
		}
		if cv.Label != "" {
			leg.entries = append(leg.entries, legendEntry{cv.Label, l})
		}
		leg.obstacles = append(leg.obstacles, lineObstacle{cv.X, cv.Y})
	}
	p.Add(&leg)
	return p, nil
}
