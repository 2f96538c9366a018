package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// viridisStops are the colours of matplotlib's viridis map at 0, 0.1, ..., 1; viridis interpolates linearly
// between them, which is visually indistinguishable from the full 256-entry table.
var viridisStops = [...][3]float64{
	{0x44, 0x01, 0x54}, {0x48, 0x24, 0x75}, {0x41, 0x44, 0x87}, {0x35, 0x5f, 0x8d},
	{0x2a, 0x78, 0x8e}, {0x21, 0x91, 0x8c}, {0x22, 0xa8, 0x84}, {0x44, 0xbf, 0x70},
	{0x7a, 0xd1, 0x51}, {0xbd, 0xdf, 0x26}, {0xfd, 0xe7, 0x25},
}

// viridis returns the colour of t in [0,1] (clipped) on the viridis map: dark purple at 0, yellow at 1.
func viridis(t float64) color.NRGBA {
	if !(t > 0) { // also NaN
		t = 0
	}
	t = math.Min(t, 1) * float64(len(viridisStops)-1)
	i := min(int(t), len(viridisStops)-2)
	f := t - float64(i)
	var c [3]uint8
	for k := range c {
		c[k] = uint8(math.Round(viridisStops[i][k]*(1-f) + viridisStops[i+1][k]*f))
	}
	return color.NRGBA{R: c[0], G: c[1], B: c[2], A: 0xff}
}

// viridisPalette returns n colours evenly spaced along viridis.
type viridisPalette int

func (n viridisPalette) Colors() []color.Color {
	cs := make([]color.Color, n)
	for i := range cs {
		cs[i] = viridis(float64(i) / float64(n-1))
	}
	return cs
}

var _ palette.Palette = viridisPalette(256)

// Heatmap draws g as a colour map (viridis: dark purple at min, yellow at max; values outside [min,max] are
// clipped to it), with a colour bar of the value range labelled valueLabel on the right, the point layers on
// top (each with a thin white halo), and a legend for the labelled point layers placed in the data-area corner
// (or top/bottom middle) that hides the fewest points. Used for Figure 1(b)(d): the max-softmax confidence
// over [-50,50]^2 with the training data and OOD points.
//
// The colour cells are centred on the grid nodes, so the coloured area extends half a cell beyond
// [XMin,XMax]x[YMin,YMax].
func Heatmap(title, valueLabel string, g Grid, min, max float64, layers ...Points) (*plot.Plot, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if !finite(min) || !finite(max) || min >= max {
		return nil, fmt.Errorf("plots: heatmap value range must be finite with min < max, got min=%g, max=%g", min, max)
	}
	p := newPlot(title, "", "")
	hm := plotter.NewHeatMap(gridXYZ{g: g, clip: true, lo: min, hi: max}, viridisPalette(256))
	hm.Min, hm.Max = min, max
	hm.Rasterized = true
	p.Add(hm)
	p.Add(&colorBar{min: min, max: max, label: valueLabel})
	// Keep the axes on the coloured area even when points fall outside it.
	xmin, xmax, ymin, ymax := hm.DataRange()
	if err := addPointLayers(p, layers, true); err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = math.Min(p.X.Min, xmin), math.Max(p.X.Max, xmax)
	p.Y.Min, p.Y.Max = math.Min(p.Y.Min, ymin), math.Max(p.Y.Max, ymax)
	return p, nil
}

// colorBar is a plotter drawing a vertical viridis bar for [min,max] to the right of the data area, with tick
// labels and a rotated value label. Its glyph box makes the plot reserve the room it needs.
type colorBar struct {
	min, max float64
	label    string
}

const (
	barGap     = vg.Length(8) // between the data area and the bar
	barWidth   = vg.Length(10)
	barTickLen = vg.Length(3)
	barTextGap = vg.Length(2)
	barLabGap  = vg.Length(5) // between tick labels and the value label
)

func (cb *colorBar) ticks() []plot.Tick {
	var ts []plot.Tick
	eps := 1e-9 * (cb.max - cb.min)
	for _, t := range (plot.DefaultTicks{}).Ticks(cb.min, cb.max) {
		if t.Label != "" && t.Value >= cb.min-eps && t.Value <= cb.max+eps {
			ts = append(ts, t)
		}
	}
	return ts
}

func (cb *colorBar) styles(p *plot.Plot) (tick, label text.Style) {
	tick = p.Y.Tick.Label
	tick.XAlign, tick.YAlign, tick.Rotation = draw.XLeft, draw.YCenter, 0
	label = p.Y.Label.TextStyle
	label.XAlign, label.YAlign, label.Rotation = draw.XCenter, draw.YCenter, math.Pi/2
	return tick, label
}

// width is the horizontal room the bar needs right of the data area.
func (cb *colorBar) width(p *plot.Plot) vg.Length {
	tickSty, labSty := cb.styles(p)
	var w vg.Length
	for _, t := range cb.ticks() {
		w = vg.Length(math.Max(float64(w), float64(tickSty.Width(t.Label))))
	}
	total := barGap + barWidth + barTickLen + barTextGap + w
	if cb.label != "" {
		total += barLabGap + labSty.Rectangle(cb.label).Size().X
	}
	return total + 2
}

func (cb *colorBar) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	return []plot.GlyphBox{{X: 1, Y: 0.5, Rectangle: vg.Rectangle{Max: vg.Point{X: cb.width(p)}}}}
}

func (cb *colorBar) Plot(c draw.Canvas, p *plot.Plot) {
	const n = 256
	img := image.NewNRGBA(image.Rect(0, 0, 1, n))
	for i := range n {
		img.SetNRGBA(0, n-1-i, viridis(float64(i)/(n-1)))
	}
	x0 := c.Max.X + barGap
	bar := vg.Rectangle{Min: vg.Point{X: x0, Y: c.Min.Y}, Max: vg.Point{X: x0 + barWidth, Y: c.Max.Y}}
	c.DrawImage(bar, img)
	frame := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	c.StrokeLines(frame, []vg.Point{bar.Min, {X: bar.Max.X, Y: bar.Min.Y}, bar.Max, {X: bar.Min.X, Y: bar.Max.Y}, bar.Min})

	tickSty, labSty := cb.styles(p)
	tickLine := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	var maxW vg.Length
	h := c.Max.Y - c.Min.Y
	for _, t := range cb.ticks() {
		y := c.Min.Y + vg.Length((t.Value-cb.min)/(cb.max-cb.min))*h
		c.StrokeLine2(tickLine, bar.Max.X, y, bar.Max.X+barTickLen, y)
		c.FillText(tickSty, vg.Point{X: bar.Max.X + barTickLen + barTextGap, Y: y}, t.Label)
		maxW = vg.Length(math.Max(float64(maxW), float64(tickSty.Width(t.Label))))
	}
	if cb.label != "" {
		lw := labSty.Rectangle(cb.label).Size().X
		x := bar.Max.X + barTickLen + barTextGap + maxW + barLabGap + lw/2
		c.FillText(labSty, vg.Point{X: x, Y: c.Min.Y + h/2}, cb.label)
	}
}
