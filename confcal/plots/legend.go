package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// newPlot returns a plot with the package's common settings.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	return p
}

// legendEntry is one line of a boxLegend.
type legendEntry struct {
	label string
	thumb plot.Thumbnailer
}

// obstacle is something in the data area the legend should not cover; cost measures how much of it lies in
// box (canvas coordinates) given the data-to-canvas transforms.
type obstacle interface {
	cost(box vg.Rectangle, tx, ty func(float64) vg.Length) float64
}

// boxLegend is a plotter drawing a legend with a translucent white background inside the data
// area. Of the four corners and the middles of the top and bottom edges it takes the place whose box covers
// the fewest obstacles (ties: top-right, top-left, bottom-right, bottom-left, top-centre, bottom-centre). It is
// added last so that it is drawn over the data.
type boxLegend struct {
	entries   []legendEntry
	obstacles []obstacle
}

const (
	legendFontSize = vg.Length(9)
	legendPad      = vg.Length(3)
	legendInset    = vg.Length(4)
	legendThumbW   = vg.Length(14)
)

func (l *boxLegend) Plot(c draw.Canvas, p *plot.Plot) {
	if len(l.entries) == 0 {
		return
	}
	sty := text.Style{
		Color:   color.Black,
		Font:    font.From(plot.DefaultFont, legendFontSize),
		XAlign:  draw.XLeft,
		YAlign:  draw.YCenter,
		Handler: p.TextHandler,
	}
	ext := sty.FontExtents()
	entryH := vg.Length(math.Max(float64(ext.Height), float64(legendThumbW*0.7)))
	var textW vg.Length
	for _, e := range l.entries {
		textW = vg.Length(math.Max(float64(textW), float64(sty.Width(e.label))))
	}
	w := legendPad + legendThumbW + legendPad + textW + legendPad
	h := 2*legendPad + vg.Length(len(l.entries))*entryH

	tx, ty := p.Transforms(&c)
	corners := []vg.Point{
		{X: c.Max.X - legendInset - w, Y: c.Max.Y - legendInset - h},   // top-right
		{X: c.Min.X + legendInset, Y: c.Max.Y - legendInset - h},       // top-left
		{X: c.Max.X - legendInset - w, Y: c.Min.Y + legendInset},       // bottom-right
		{X: c.Min.X + legendInset, Y: c.Min.Y + legendInset},           // bottom-left
		{X: (c.Min.X + c.Max.X - w) / 2, Y: c.Max.Y - legendInset - h}, // top-centre
		{X: (c.Min.X + c.Max.X - w) / 2, Y: c.Min.Y + legendInset},     // bottom-centre
	}
	var box vg.Rectangle
	best := math.Inf(1)
	for _, min := range corners {
		r := vg.Rectangle{Min: min, Max: vg.Point{X: min.X + w, Y: min.Y + h}}
		var cost float64
		for _, o := range l.obstacles {
			cost += o.cost(r, tx, ty)
		}
		if cost < best-1e-9 {
			best, box = cost, r
		}
	}

	c.FillPolygon(color.NRGBA{R: 255, G: 255, B: 255, A: 215}, closedRect(box)[:4])
	c.StrokeLines(draw.LineStyle{Color: color.Gray{Y: 0x99}, Width: vg.Points(0.5)}, closedRect(box))
	y := box.Max.Y - legendPad - entryH/2
	for _, e := range l.entries {
		icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: box.Min.X + legendPad, Y: y - entryH/2},
			Max: vg.Point{X: box.Min.X + legendPad + legendThumbW, Y: y + entryH/2},
		}}
		e.thumb.Thumbnail(&icon)
		c.FillText(sty, vg.Point{X: icon.Max.X + legendPad, Y: y}, e.label)
		y -= entryH
	}
}

func closedRect(r vg.Rectangle) []vg.Point {
	return []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min}
}

// pointObstacle counts the points inside the box.
type pointObstacle [][2]float64

func (o pointObstacle) cost(box vg.Rectangle, tx, ty func(float64) vg.Length) float64 {
	var n float64
	for _, p := range o {
		x, y := tx(p[0]), ty(p[1])
		if x >= box.Min.X && x <= box.Max.X && y >= box.Min.Y && y <= box.Max.Y {
			n++
		}
	}
	return n
}

// lineObstacle counts the segments of a polyline crossing the box, weighted so that one curve crossing costs
// more than a handful of points.
type lineObstacle struct{ xs, ys []float64 }

func (o lineObstacle) cost(box vg.Rectangle, tx, ty func(float64) vg.Length) float64 {
	var n float64
	for i := range o.xs {
		j := max(i-1, 0)
		if segmentHitsRect(float64(tx(o.xs[j])), float64(ty(o.ys[j])), float64(tx(o.xs[i])), float64(ty(o.ys[i])), box) {
			n += 10
		}
	}
	return n
}

// segmentHitsRect reports whether the segment (x0,y0)-(x1,y1) intersects r (Liang-Barsky clipping).
func segmentHitsRect(x0, y0, x1, y1 float64, r vg.Rectangle) bool {
	dx, dy := x1-x0, y1-y0
	t0, t1 := 0.0, 1.0
	for _, e := range [4][2]float64{
		{-dx, x0 - float64(r.Min.X)}, {dx, float64(r.Max.X) - x0},
		{-dy, y0 - float64(r.Min.Y)}, {dy, float64(r.Max.Y) - y0},
	} {
		p, q := e[0], e[1]
		if p == 0 {
			if q < 0 {
				return false
			}
			continue
		}
		t := q / p
		if p < 0 {
			t0 = math.Max(t0, t)
		} else {
			t1 = math.Min(t1, t)
		}
		if t0 > t1 {
			return false
		}
	}
	return true
}

// barObstacle is the filled area under histogram bars; its cost is the fraction of the box area it covers,
// weighted like a few crossing curves.
type barObstacle struct {
	lo, hi    float64
	fractions []float64
}

func (o barObstacle) cost(box vg.Rectangle, tx, ty func(float64) vg.Length) float64 {
	var area float64
	w := (o.hi - o.lo) / float64(len(o.fractions))
	y0 := ty(0)
	for i, f := range o.fractions {
		bx0, bx1 := tx(o.lo+float64(i)*w), tx(o.lo+float64(i+1)*w)
		by1 := ty(f)
		ox := math.Min(float64(bx1), float64(box.Max.X)) - math.Max(float64(bx0), float64(box.Min.X))
		oy := math.Min(float64(by1), float64(box.Max.Y)) - math.Max(float64(y0), float64(box.Min.Y))
		if ox > 0 && oy > 0 {
			area += ox * oy
		}
	}
	s := box.Size()
	return 50 * area / float64(s.X*s.Y)
}

// addPointLayers adds the layers as scatter plotters, and a boxLegend for the labelled ones. With halo, each
// glyph gets a thin white halo so that it stands out on a colour map.
func addPointLayers(p *plot.Plot, layers []Points, halo bool) error {
	var leg boxLegend
	for i, layer := range layers {
		if err := layer.validate(i); err != nil {
			return err
		}
		if len(layer.XY) == 0 {
			// An empty layer still gets its legend entry.
			s := &plotter.Scatter{GlyphStyle: glyphStyle(layer, i, halo)}
			if layer.Label != "" {
				leg.entries = append(leg.entries, legendEntry{layer.Label, s})
			}
			continue
		}
		xys := make(plotter.XYs, len(layer.XY))
		for j, pt := range layer.XY {
			xys[j] = plotter.XY{X: pt[0], Y: pt[1]}
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		s.GlyphStyle = glyphStyle(layer, i, halo)
		p.Add(s)
		if layer.Label != "" {
			leg.entries = append(leg.entries, legendEntry{layer.Label, s})
		}
		leg.obstacles = append(leg.obstacles, pointObstacle(layer.XY))
	}
	p.Add(&leg)
	return nil
}

func glyphStyle(layer Points, i int, halo bool) draw.GlyphStyle {
	r := layer.Radius
	if r == 0 {
		r = DefaultRadius
	}
	return draw.GlyphStyle{Color: colorOr(layer.Color, i), Radius: r, Shape: glyph{shape: layer.Shape, halo: halo}}
}
