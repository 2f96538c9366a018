package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// glyph draws the point shapes of Points. Filled shapes (circle, triangle, square) are filled; line shapes
// (ring, cross, plus) are stroked with a width that grows with the radius, so that they stay visible. With halo
// the shape is first drawn slightly larger in translucent white, so that it stands out on a colour map.
type glyph struct {
	shape string
	halo  bool
}

// shapes lists the accepted values of Points.Shape.
var shapes = map[string]bool{"": true, "circle": true, "ring": true, "cross": true, "plus": true, "triangle": true, "square": true}

var haloColor = color.NRGBA{R: 255, G: 255, B: 255, A: 190}

func (g glyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	lw := vg.Length(math.Max(0.8, 0.35*float64(r)))
	switch g.shape {
	case "ring", "cross", "plus":
		p := g.linePath(pt, r)
		if g.halo {
			c.SetLineStyle(draw.LineStyle{Color: haloColor, Width: lw + 1.2})
			c.Stroke(p)
		}
		c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: lw})
		c.Stroke(p)
	default:
		if g.halo {
			c.SetColor(haloColor)
			c.Fill(g.fillPath(pt, r+0.6))
		}
		c.SetColor(sty.Color)
		c.Fill(g.fillPath(pt, r))
	}
}

func (g glyph) linePath(pt vg.Point, r vg.Length) vg.Path {
	var p vg.Path
	switch g.shape {
	case "ring":
		p.Move(vg.Point{X: pt.X + r, Y: pt.Y})
		p.Arc(pt, r, 0, 2*math.Pi)
		p.Close()
	case "cross":
		d := r * math.Sqrt2 / 2
		p.Move(vg.Point{X: pt.X - d, Y: pt.Y - d})
		p.Line(vg.Point{X: pt.X + d, Y: pt.Y + d})
		p.Move(vg.Point{X: pt.X - d, Y: pt.Y + d})
		p.Line(vg.Point{X: pt.X + d, Y: pt.Y - d})
	default: // plus
		p.Move(vg.Point{X: pt.X, Y: pt.Y + r})
		p.Line(vg.Point{X: pt.X, Y: pt.Y - r})
		p.Move(vg.Point{X: pt.X - r, Y: pt.Y})
		p.Line(vg.Point{X: pt.X + r, Y: pt.Y})
	}
	return p
}

func (g glyph) fillPath(pt vg.Point, r vg.Length) vg.Path {
	var p vg.Path
	switch g.shape {
	case "triangle": // equilateral, centred on pt, a little larger than the circle of radius r
		t := r * 1.25
		p.Move(vg.Point{X: pt.X, Y: pt.Y + t})
		p.Line(vg.Point{X: pt.X - t*vg.Length(math.Sqrt(3))/2, Y: pt.Y - t/2})
		p.Line(vg.Point{X: pt.X + t*vg.Length(math.Sqrt(3))/2, Y: pt.Y - t/2})
		p.Close()
	case "square":
		s := r * 0.85
		p.Move(vg.Point{X: pt.X - s, Y: pt.Y - s})
		p.Line(vg.Point{X: pt.X + s, Y: pt.Y - s})
		p.Line(vg.Point{X: pt.X + s, Y: pt.Y + s})
		p.Line(vg.Point{X: pt.X - s, Y: pt.Y + s})
		p.Close()
	default: // circle
		p.Move(vg.Point{X: pt.X + r, Y: pt.Y})
		p.Arc(pt, r, 0, 2*math.Pi)
		p.Close()
	}
	return p
}
