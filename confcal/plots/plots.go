// Package plots draws the PNG figures of the reproduction of Lee et al., "Training Confidence-Calibrated
// Classifiers for Detecting Out-of-Distribution Samples" (ICLR 2018), with gonum/plot:
//
//   - Figure 1(b)(d): the classifier's maximum softmax confidence over the 2-D box [-50,50]^2 as a colour map
//     with the training data and out-of-distribution points on top ([Heatmap]); Figure 1(a)(c) are plain
//     point layers ([Scatter]).
//   - Figure 2(a)(b): histograms of the maximum prediction value for in- and out-of-distribution test sets
//     ([Histograms]); Figure 2(c): ROC curves of the baseline detector ([Lines], also used for training-loss
//     curves).
//   - Figure 3(a)(b): GAN samples over the density of the target mixture of two Gaussians ([Scatter] with a
//     background grid); Figure 3(c)(d): grids of generated images ([ImageGrid]).
//
// Figures made of several panels side by side are rendered by [Row]; single plots by [PNG]. [SavePNG] writes a
// file atomically; confcal/nbutil shows them inline in a notebook.
//
// All text uses the Liberation fonts embedded in gonum/plot, so rendering needs no network and no system fonts.
// Inputs are validated up front and any panic from gonum/plot during rendering is turned into an error.
package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/vg"
)

// Grid is a scalar field sampled on a regular grid over [XMin,XMax]x[YMin,YMax]; Values[iy*NX+ix] is the value
// at x = XMin + ix*(XMax-XMin)/(NX-1), y = YMin + iy*(YMax-YMin)/(NY-1).
type Grid struct {
	XMin, XMax, YMin, YMax float64
	NX, NY                 int
	Values                 []float64
}

// At returns the coordinates and the value of the grid node (ix, iy). It panics if the node is outside the
// grid, like an out-of-range slice index.
func (g Grid) At(ix, iy int) (x, y, v float64) {
	if ix < 0 || ix >= g.NX || iy < 0 || iy >= g.NY {
		panic(fmt.Sprintf("plots: grid node (%d, %d) outside a %dx%d grid", ix, iy, g.NX, g.NY))
	}
	return g.x(ix), g.y(iy), g.Values[iy*g.NX+ix]
}

func (g Grid) x(ix int) float64 {
	if ix == g.NX-1 {
		return g.XMax
	}
	return g.XMin + float64(ix)*(g.XMax-g.XMin)/float64(g.NX-1)
}

func (g Grid) y(iy int) float64 {
	if iy == g.NY-1 {
		return g.YMax
	}
	return g.YMin + float64(iy)*(g.YMax-g.YMin)/float64(g.NY-1)
}

// Validate reports the first problem with g: fewer than 2 nodes along an axis, an empty or non-finite range,
// a Values slice whose length is not NX*NY, or a non-finite (NaN or infinite) value.
func (g Grid) Validate() error {
	if g.NX < 2 || g.NY < 2 {
		return fmt.Errorf("plots: grid must have at least 2x2 nodes, got NX=%d, NY=%d", g.NX, g.NY)
	}
	if !finite(g.XMin) || !finite(g.XMax) || g.XMin >= g.XMax {
		return fmt.Errorf("plots: grid x range must be finite with XMin < XMax, got XMin=%g, XMax=%g", g.XMin, g.XMax)
	}
	if !finite(g.YMin) || !finite(g.YMax) || g.YMin >= g.YMax {
		return fmt.Errorf("plots: grid y range must be finite with YMin < YMax, got YMin=%g, YMax=%g", g.YMin, g.YMax)
	}
	if len(g.Values)%g.NX != 0 || len(g.Values)/g.NX != g.NY {
		return fmt.Errorf("plots: grid has len(Values)=%d, want NX*NY=%d*%d", len(g.Values), g.NX, g.NY)
	}
	for i, v := range g.Values {
		if !finite(v) {
			return fmt.Errorf("plots: grid value %d (ix=%d, iy=%d) is %g", i, i%g.NX, i/g.NX, v)
		}
	}
	return nil
}

// valueRange returns the smallest and largest value of a valid grid.
func (g Grid) valueRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range g.Values {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}

// gridXYZ adapts a valid Grid to plotter.GridXYZ, optionally clipping values to [lo, hi].
type gridXYZ struct {
	g      Grid
	clip   bool
	lo, hi float64
}

func (a gridXYZ) Dims() (c, r int) { return a.g.NX, a.g.NY }
func (a gridXYZ) X(c int) float64  { return a.g.x(c) }
func (a gridXYZ) Y(r int) float64  { return a.g.y(r) }
func (a gridXYZ) Z(c, r int) float64 {
	v := a.g.Values[r*a.g.NX+c]
	if a.clip {
		v = math.Min(math.Max(v, a.lo), a.hi)
	}
	return v
}

// DefaultRadius is the glyph radius used for Points with Radius 0.
const DefaultRadius = vg.Length(2)

// Points is a labelled set of 2-D points drawn as a scatter layer.
type Points struct {
	// Label names the layer in the legend; layers with an empty label get no legend entry.
	Label string
	XY    [][2]float64
	// Color of the glyphs; nil picks the next colour of the default palette (red, blue, green, orange, ...).
	Color color.Color
	// Radius of the glyphs; 0 means DefaultRadius.
	Radius vg.Length
	// Shape is one of "circle", "cross", "ring", "triangle", "square" or "plus"; "" means "circle".
	Shape string
}

func (pts Points) validate(i int) error {
	if _, ok := shapes[pts.Shape]; !ok {
		return fmt.Errorf("plots: point layer %d (%q) has unknown shape %q (want circle, cross, ring, triangle, square or plus)", i, pts.Label, pts.Shape)
	}
	if pts.Radius < 0 || !finite(float64(pts.Radius)) {
		return fmt.Errorf("plots: point layer %d (%q) has radius %g, want >= 0", i, pts.Label, float64(pts.Radius))
	}
	for j, p := range pts.XY {
		if !finite(p[0]) || !finite(p[1]) {
			return fmt.Errorf("plots: point layer %d (%q) point %d is (%g, %g), want finite coordinates", i, pts.Label, j, p[0], p[1])
		}
	}
	return nil
}

// Series is a labelled histogram: Fractions[i] is the fraction of samples in the i-th of len(Fractions) equal
// bins over [Lo,Hi].
type Series struct {
	Label     string
	Lo, Hi    float64
	Fractions []float64
	// Color of the outline; the bars are filled with it semi-transparently. nil picks a default colour.
	Color color.Color
}

func (s Series) validate(i int) error {
	if !finite(s.Lo) || !finite(s.Hi) || s.Lo >= s.Hi {
		return fmt.Errorf("plots: series %d (%q) has range Lo=%g, Hi=%g, want finite Lo < Hi", i, s.Label, s.Lo, s.Hi)
	}
	if len(s.Fractions) == 0 {
		return fmt.Errorf("plots: series %d (%q) has no bins", i, s.Label)
	}
	for j, f := range s.Fractions {
		if !finite(f) || f < 0 {
			return fmt.Errorf("plots: series %d (%q) bin %d has fraction %g, want finite and >= 0", i, s.Label, j, f)
		}
	}
	return nil
}

// Curve is a labelled line, e.g. an ROC curve.
type Curve struct {
	Label string
	X, Y  []float64
	// Color of the line; nil picks a default colour.
	Color color.Color
	// Dashes draws the line dashed.
	Dashes bool
}

func (c Curve) validate(i int) error {
	if len(c.X) != len(c.Y) {
		return fmt.Errorf("plots: curve %d (%q) has len(X)=%d but len(Y)=%d", i, c.Label, len(c.X), len(c.Y))
	}
	if len(c.X) == 0 {
		return fmt.Errorf("plots: curve %d (%q) has no points", i, c.Label)
	}
	for j := range c.X {
		if !finite(c.X[j]) || !finite(c.Y[j]) {
			return fmt.Errorf("plots: curve %d (%q) point %d is (%g, %g), want finite coordinates", i, c.Label, j, c.X[j], c.Y[j])
		}
	}
	return nil
}

// defaultColors is a qualitative palette (Tableau 10, reordered so that the first two are red and blue as in
// the paper's figures).
var defaultColors = []color.Color{
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // red
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // blue
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // green
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // orange
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // purple
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, // cyan
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, // brown
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, // pink
	color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, // grey
	color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, // olive
}

func colorOr(c color.Color, i int) color.Color {
	if c != nil {
		return c
	}
	return defaultColors[i%len(defaultColors)]
}

// withAlpha returns c with its opacity multiplied by a.
func withAlpha(c color.Color, a float64) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = uint8(math.Round(float64(n.A) * a))
	return n
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// PaletteColor returns the i-th colour of the default palette (cycling), for matching colours
// across plots.
func PaletteColor(i int) color.Color { return defaultColors[i%len(defaultColors)] }
