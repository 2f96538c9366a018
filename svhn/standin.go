package svhn

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/vector"

	"github.com/confcal/confcal/dataset"
	"github.com/confcal/confcal/internal/gofonts"
)

// The stand-in's geometry and colours, in pixels of the 32×32 image (see StandIn).
const (
	standInMinHeight = 18.0 // the central digit's height
	standInMaxHeight = 24.0
	standInMaxRot    = 5.0 // degrees, either way
	standInMaxShift  = 2.0 // pixels, either way, in x and in y
	standInMinAspect = 0.85
	standInMaxAspect = 1.2
	standInNeighbour = 0.3  // probability of a neighbouring digit on each side
	standInContrast  = 0.45 // least luminance difference between digits and background
	standInMaxNoise  = 0.04 // largest standard deviation of the pixel noise
)

// glyph is a digit's outline, scaled to height 1 and centred on the origin (y down), and its width.
type glyph struct {
	ops   []sfnt.SegmentOp
	pts   [][3][2]float64
	width float64
}

var (
	glyphsOnce sync.Once
	glyphs     [][10]glyph // [face][digit]
	glyphsErr  error
)

// loadGlyphs extracts the normalised outlines of the digits in each Go font face.
func loadGlyphs() ([][10]glyph, error) {
	glyphsOnce.Do(func() {
		faces, err := gofonts.Load([]rune("0123456789"))
		if err != nil {
			glyphsErr = fmt.Errorf("svhn: %w", err)
			return
		}
		for _, fg := range faces {
			var gs [10]glyph
			for d, fgl := range fg {
				b := fgl.Bounds
				w, h := float64(b.Max.X-b.Min.X)/64, float64(b.Max.Y-b.Min.Y)/64
				cx, cy := float64(b.Min.X+b.Max.X)/128, float64(b.Min.Y+b.Max.Y)/128
				g := glyph{ops: make([]sfnt.SegmentOp, len(fgl.Segments)), pts: make([][3][2]float64, len(fgl.Segments)), width: w / h}
				for j, s := range fgl.Segments {
					g.ops[j] = s.Op
					for a := range 3 {
						g.pts[j][a] = [2]float64{(float64(s.Args[a].X)/64 - cx) / h, (float64(s.Args[a].Y)/64 - cy) / h}
					}
				}
				gs[d] = g
			}
			glyphs = append(glyphs, gs)
		}
	})
	return glyphs, glyphsErr
}

// houseNumber is one stand-in image's random choices.
type houseNumber struct {
	face, digit       int
	left, right       int     // neighbouring digits, −1 for none
	height, aspect    float64 // the digits' height in pixels, and their width's stretch
	rot               float64 // radians
	shiftX, shiftY    float64
	gapLeft, gapRight float64 // pixels between the central digit and its neighbours
	bg, fg            [3]float64
	gradX, gradY      float64 // lighting: a brightness change per pixel
	waves             [2]struct{ kx, ky, phase, amp float64 }
	blur              bool
	noise             float64 // standard deviation
	noiseSeed         uint64
}

// luminance is the Rec. 601 luma of an RGB colour.
func luminance(c [3]float64) float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }

// draw chooses an image's parameters.
func drawHouseNumber(rng *rand.Rand, digit int) houseNumber {
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	h := houseNumber{
		face:   rng.IntN(len(gofonts.Faces)),
		digit:  digit,
		left:   -1,
		right:  -1,
		height: u(standInMinHeight, standInMaxHeight),
		aspect: u(standInMinAspect, standInMaxAspect),
		rot:    u(-standInMaxRot, standInMaxRot) * math.Pi / 180,
		shiftX: u(-standInMaxShift, standInMaxShift),
		shiftY: u(-standInMaxShift, standInMaxShift),
		gradX:  u(-0.008, 0.008),
		gradY:  u(-0.008, 0.008),
		blur:   rng.IntN(2) == 0,
		noise:  u(0.005, standInMaxNoise),
	}
	if rng.Float64() < standInNeighbour {
		h.left = rng.IntN(10)
	}
	if rng.Float64() < standInNeighbour {
		h.right = rng.IntN(10)
	}
	h.gapLeft, h.gapRight = u(1, 4), u(1, 4)
	for i := range h.waves {
		a := u(0, 2*math.Pi)
		f := u(0.1, 0.6)
		h.waves[i].kx, h.waves[i].ky = f*math.Cos(a), f*math.Sin(a)
		h.waves[i].phase = u(0, 2*math.Pi)
		h.waves[i].amp = u(0, 0.05)
	}
	for i := range h.bg {
		h.bg[i] = u(0.05, 0.95)
	}
	for range 32 {
		for i := range h.fg {
			h.fg[i] = u(0, 1)
		}
		if math.Abs(luminance(h.fg)-luminance(h.bg)) >= standInContrast {
			break
		}
	}
	if math.Abs(luminance(h.fg)-luminance(h.bg)) < standInContrast {
		// Rarely reached: plain white on a dark background, black on a light one.
		v := 1.0
		if luminance(h.bg) >= 0.5 {
			v = 0
		}
		h.fg = [3]float64{v, v, v}
	}
	h.noiseSeed = rng.Uint64()
	return h
}

// coverage rasterises the digits (central and neighbours) into a 32×32 mask of coverage in [0,1].
func (h *houseNumber) coverage(gs [][10]glyph) []float64 {
	face := gs[h.face]
	sx, sy := h.height*h.aspect, h.height
	cos, sin := math.Cos(h.rot), math.Sin(h.rot)
	ox, oy := Size/2+h.shiftX, Size/2+h.shiftY
	z := vector.NewRasterizer(Size, Size)
	place := func(g *glyph, dx float64) {
		tr := func(q [2]float64) (float32, float32) {
			x, y := q[0]*sx+dx, q[1]*sy
			return float32(cos*x - sin*y + ox), float32(sin*x + cos*y + oy)
		}
		started := false
		for j, op := range g.ops {
			q := g.pts[j]
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
	}
	main := &face[h.digit]
	place(main, 0)
	if h.left >= 0 {
		g := &face[h.left]
		place(g, -(main.width*sx/2 + h.gapLeft + g.width*sx/2))
	}
	if h.right >= 0 {
		g := &face[h.right]
		place(g, main.width*sx/2+h.gapRight+g.width*sx/2)
	}
	a := image.NewAlpha(image.Rect(0, 0, Size, Size))
	z.Draw(a, a.Bounds(), image.Opaque, image.Point{})
	out := make([]float64, Size*Size)
	for i, v := range a.Pix {
		out[i] = float64(v) / 255
	}
	return out
}

// render paints the image into dst (3×32×32, CHW), quantised to multiples of 1/255.
func (h *houseNumber) render(dst []float32, gs [][10]glyph) {
	const plane = Size * Size
	mask := h.coverage(gs)
	rng := rand.New(rand.NewPCG(h.noiseSeed, 0x5e0f))
	img := make([]float64, 3*plane)
	for y := range Size {
		for x := range Size {
			fx, fy := float64(x)-Size/2, float64(y)-Size/2
			light := h.gradX*fx + h.gradY*fy
			var tex float64
			for _, w := range h.waves {
				tex += w.amp * math.Sin(w.kx*fx+w.ky*fy+w.phase)
			}
			a := mask[y*Size+x]
			for c := range 3 {
				bg := h.bg[c] + light + tex
				fg := h.fg[c] + light
				img[c*plane+y*Size+x] = (1-a)*bg + a*fg
			}
		}
	}
	if h.blur {
		blur3(img)
	}
	for i, v := range img {
		v += h.noise * rng.NormFloat64()
		dst[i] = float32(math.Round(min(1, max(0, v))*255)) / 255
	}
}

// blur3 smooths each 32×32 plane of img with the 3×3 binomial kernel (edges replicated).
func blur3(img []float64) {
	const plane = Size * Size
	tmp := make([]float64, plane)
	at := func(p []float64, x, y int) float64 {
		return p[min(Size-1, max(0, y))*Size+min(Size-1, max(0, x))]
	}
	for c := range 3 {
		p := img[c*plane : (c+1)*plane]
		for y := range Size {
			for x := range Size {
				tmp[y*Size+x] = (at(p, x-1, y) + 2*at(p, x, y) + at(p, x+1, y)) / 4
			}
		}
		for y := range Size {
			for x := range Size {
				p[y*Size+x] = (at(tmp, x, y-1) + 2*at(tmp, x, y) + at(tmp, x, y+1)) / 4
			}
		}
	}
}

// StandIn generates n house-number-like images of 3×32×32 in [0,1] (multiples of 1/255, as read from
// a MAT-file), labels 0–9 drawn uniformly, for running the SVHN experiments where SVHN cannot be
// had. It is NOT SVHN: the set is named "svhn-standin-"+split and its Source says so.
//
// Each image shows a digit (its label) from one of the twelve Go fonts, 18–24 pixels high, its
// width stretched by 0.85–1.2, rotated by up to ±5° and shifted by up to ±2 pixels, in a colour
// whose luminance differs from the background's by at least 0.45; with probability 0.3 on each
// side a neighbouring digit 1–4 pixels away, usually cut by the image border as in SVHN's crops. The
// background is a colour with a lighting gradient and a faint wavy texture; half the images are
// blurred (3×3 binomial kernel), and all get Gaussian noise (standard deviation 0.005–0.04). The
// result is deterministic in seed and split (train and test differ for the same seed). n < 0 is
// taken as 0.
func StandIn(n int, split string, seed uint64) *dataset.Set {
	n = max(n, 0)
	gs, err := loadGlyphs()
	if err != nil {
		panic(err) // the fonts are compiled in: a broken font package, not a run-time condition
	}
	var stream uint64 = 0x5f4e
	for _, b := range []byte(split) {
		stream = stream*131 + uint64(b)
	}
	rng := rand.New(rand.NewPCG(seed, stream))
	params := make([]houseNumber, n)
	labels := make([]int, n)
	for i := range params {
		labels[i] = rng.IntN(10)
		params[i] = drawHouseNumber(rng, labels[i])
	}
	const sz = 3 * Size * Size
	images := make([]float32, n*sz)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				params[i].render(images[i*sz:(i+1)*sz], gs)
			}
		})
	}
	wg.Wait()
	return &dataset.Set{
		Images: images,
		Labels: labels,
		N:      n, C: 3, H: Size, W: Size,
		Name: "svhn-standin-" + split,
		Source: fmt.Sprintf("%s: %d synthetic house-number digits rendered from the Go fonts (split %q, seed %d)",
			StandInMarker, n, split, seed),
	}
}

// WriteStandIn writes StandIn(nTrain, "train", seed) and StandIn(nTest, "test", seed) to dir as
// train_32x32.mat and test_32x32.mat (compressed MAT-files like SVHN's, marked as a stand-in in
// their header), so that Load with Options.Dir = dir reads them, as "svhn-standin-train" and
// "svhn-standin-test".
func WriteStandIn(dir string, nTrain, nTest int, seed uint64) error {
	for _, sp := range []struct {
		split string
		n     int
	}{{"train", nTrain}, {"test", nTest}} {
		s := StandIn(sp.n, sp.split, seed)
		if err := WriteSetFile(filepath.Join(dir, sp.split+"_32x32.mat"), s, true); err != nil {
			return err
		}
	}
	return nil
}
