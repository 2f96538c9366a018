package mnist

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/confcal/confcal/internal/gofonts"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/vector"
)

// Letters' geometry: glyphs are drawn on a 28×28 canvas, like MNIST's digits, with their bounding
// box's longer side LetterBox·scale pixels (MNIST fits its digits in a 20×20 box), centred, then
// rotated, scaled and shifted at random within these ranges.
const (
	letterCanvas   = 28
	letterBox      = 20.0
	letterMinScale = 0.8
	letterMaxScale = 1.1
	letterMaxRot   = 10.0 // degrees, either way
	letterMaxShift = 2.0  // pixels, either way, in x and in y
)

// outline is a glyph's path with its bounding box centred on the origin and its longer side 1.
type outline struct {
	ops []sfnt.SegmentOp
	pts [][3][2]float32
}

var (
	outlinesOnce sync.Once
	outlines     [][10]outline // [face][letter]
	outlinesErr  error
)

// loadOutlines extracts the normalised outlines of A–J in each Go font face.
func loadOutlines() ([][10]outline, error) {
	outlinesOnce.Do(func() {
		faces, err := gofonts.Load([]rune("ABCDEFGHIJ"))
		if err != nil {
			outlinesErr = fmt.Errorf("mnist: %w", err)
			return
		}
		for _, gs := range faces {
			var glyphs [10]outline
			for k, g := range gs {
				b := g.Bounds
				w, h := float32(b.Max.X-b.Min.X)/64, float32(b.Max.Y-b.Min.Y)/64
				cx, cy := float32(b.Min.X+b.Max.X)/128, float32(b.Min.Y+b.Max.Y)/128
				side := max(w, h)
				o := outline{ops: make([]sfnt.SegmentOp, len(g.Segments)), pts: make([][3][2]float32, len(g.Segments))}
				for j, s := range g.Segments {
					o.ops[j] = s.Op
					for a := range 3 {
						o.pts[j][a] = [2]float32{(float32(s.Args[a].X)/64 - cx) / side, (float32(s.Args[a].Y)/64 - cy) / side}
					}
				}
				glyphs[k] = o
			}
			outlines = append(outlines, glyphs)
		}
	})
	return outlines, outlinesErr
}

// letterParams are one letter image's random choices.
type letterParams struct {
	face, letter   int
	scale, rot     float64 // rot in radians
	shiftX, shiftY float64
}

// render rasterises the letter white on black into dst (28×28, values in [0,1]).
func (p letterParams) render(dst []float32, glyphs [][10]outline) {
	o := glyphs[p.face][p.letter]
	k := letterBox * p.scale
	cos, sin := math.Cos(p.rot)*k, math.Sin(p.rot)*k
	ox, oy := letterCanvas/2+p.shiftX, letterCanvas/2+p.shiftY
	tr := func(q [2]float32) (float32, float32) {
		x, y := float64(q[0]), float64(q[1])
		return float32(cos*x - sin*y + ox), float32(sin*x + cos*y + oy)
	}
	z := vector.NewRasterizer(letterCanvas, letterCanvas)
	started := false
	for j, op := range o.ops {
		q := o.pts[j]
		switch op {
		case sfnt.SegmentOpMoveTo:
			if started {
				z.ClosePath()
			}
			started = true
			z.MoveTo(tr(q[0]))
		case sfnt.SegmentOpLineTo:
			z.LineTo(tr(q[0]))
		case sfnt.SegmentOpQuadTo:
			bx, by := tr(q[0])
			cx, cy := tr(q[1])
			z.QuadTo(bx, by, cx, cy)
		case sfnt.SegmentOpCubeTo:
			bx, by := tr(q[0])
			cx, cy := tr(q[1])
			dx, dy := tr(q[2])
			z.CubeTo(bx, by, cx, cy, dx, dy)
		}
	}
	if started {
		z.ClosePath()
	}
	a := image.NewAlpha(image.Rect(0, 0, letterCanvas, letterCanvas))
	z.Draw(a, a.Bounds(), image.Opaque, image.Point{})
	for i, v := range a.Pix {
		dst[i] = float32(v) / 255
	}
}

// Letters renders a notMNIST-like out-of-distribution set of n images: the letters A–J (label 0–9
// = A–J, image i has label i mod 10) drawn white on black with the twelve faces of the Go font family
// (golang.org/x/image/font/gofont), anti-aliased, on a 28×28 canvas like MNIST's: each glyph's
// longer side is 20 pixels times a random scale in [0.8, 1.1], centred, rotated by up to ±10° and
// shifted by up to ±2 pixels in x and y (face and jitter drawn uniformly). The images are then
// expanded like Load's: bilinear resize to 32×32 and channels (1 or 3) copies of the grey plane.
// The result is deterministic in seed.
func Letters(n int, channels int, seed uint64) (*Set, error) {
	if n < 0 {
		return nil, fmt.Errorf("mnist: Letters: n is %d", n)
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("mnist: Letters: channels is %d, want 1 or 3", channels)
	}
	glyphs, err := loadOutlines()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x1e77e45))
	params := make([]letterParams, n)
	labels := make([]int, n)
	uniform := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	for i := range params {
		params[i] = letterParams{
			face:   rng.IntN(len(glyphs)),
			letter: i % 10,
			scale:  uniform(letterMinScale, letterMaxScale),
			rot:    uniform(-letterMaxRot, letterMaxRot) * math.Pi / 180,
			shiftX: uniform(-letterMaxShift, letterMaxShift),
			shiftY: uniform(-letterMaxShift, letterMaxShift),
		}
		labels[i] = i % 10
	}
	images := expand(n, letterCanvas, letterCanvas, channels, func(i int, dst []float32) {
		params[i].render(dst, glyphs)
	})
	return &Set{
		Images: images,
		Labels: labels,
		N:      n, C: channels, H: Size, W: Size,
		Name:   "letters",
		Source: fmt.Sprintf("letters A–J rendered from the Go fonts, seed %d", seed),
	}, nil
}
