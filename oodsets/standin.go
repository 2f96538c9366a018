package oodsets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/confcal/confcal/dataset"
)

// standInQuality is the JPEG quality of the archives WriteStandIn writes.
const standInQuality = 90

// standInKind is how the stand-in of a source is drawn.
type standInKind struct {
	stream uint64
	desc   string
	draw   func(r *rand.Rand, dst []float32)
}

// standInOf returns the generator of src's stand-in, by src.Name.
func standInOf(src Source) (standInKind, error) {
	switch src.Name {
	case TinyImageNet.Name:
		return standInKind{0x7141, "synthetic object-centric images (1–3 shaded coloured blobs on oriented textures)", drawObjects}, nil
	case LSUN.Name:
		return standInKind{0x15a7, "synthetic scene-like images (rooms: wall, floor, windows, furniture; outdoors: sky gradient, ground, buildings)", drawScene}, nil
	}
	return standInKind{}, fmt.Errorf("oodsets: no stand-in for source %q (want %q or %q)", src.Name, TinyImageNet.Name, LSUN.Name)
}

// StandIn returns n synthetic 3×32×32 images standing in for src (TinyImageNet or LSUN, by
// src.Name) where the real data cannot be had, labels −1, deterministic in seed (image i depends on
// seed and i only, so a smaller n gives a prefix; bit for bit on one architecture). The TinyImageNet stand-in shows 1–3 shaded
// coloured blobs ("objects") on textured backgrounds; the LSUN stand-in shows scenes with horizontal
// structure (rooms with wall, floor, windows and furniture; outdoor views with a sky gradient,
// ground and buildings). They are named src.Name + "-standin", and their Source starts with
// "generated stand-in, NOT". They only exercise the pipeline: no result on them is one on the real
// sets. It panics if n < 0 or src is neither source.
func StandIn(src Source, n int, seed uint64) *dataset.Set {
	kind, err := standInOf(src)
	if err != nil {
		panic(err.Error())
	}
	if n < 0 {
		panic(fmt.Sprintf("oodsets: StandIn(%s, n=%d): n must be ≥ 0", src.Name, n))
	}
	const sz = 3 * Size * Size
	images := make([]float32, n*sz)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), n/64)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				r := rand.New(rand.NewPCG(seed, kind.stream<<32+uint64(i)))
				kind.draw(r, images[i*sz:(i+1)*sz])
			}
		})
	}
	wg.Wait()
	labels := make([]int, n)
	for i := range labels {
		labels[i] = -1
	}
	return &dataset.Set{
		Images: images, Labels: labels, N: n, C: 3, H: Size, W: Size,
		Name:   src.Name + "-standin",
		Source: fmt.Sprintf("%s%s: %s, seed %d", standInPrefix, src.Title, kind.desc, seed),
	}
}

// WriteStandIn writes n stand-in images of src (see StandIn) into dir as an archive in the real
// format: dir/<src.Remote.Name>, a tar.gz of JPEGs (quality 90) in src.Folder/src.Folder/, plus a
// file src.Folder/STAND-IN.txt saying what they are, by which Load names the set
// src.Name + "-standin" when it reads the archive back (Load(src, Options{Dir: dir})). It returns
// the archive's path. Keep stand-ins out of the cache directory of the real archives.
func WriteStandIn(dir string, src Source, n int, seed uint64) (string, error) {
	if err := src.check(); err != nil {
		return "", err
	}
	if _, err := standInOf(src); err != nil {
		return "", err
	}
	if n < 1 {
		return "", fmt.Errorf("oodsets: WriteStandIn(%s): n is %d, want ≥ 1", src.Name, n)
	}
	s := StandIn(src, n, seed)
	p := filepath.Join(dir, src.Remote.Name)
	marker := extraFile{name: src.Folder + "/" + markerName, data: []byte(s.Source + "\n")}
	if err := writeArchive(p, src.Folder+"/"+src.Folder, s, standInQuality, []extraFile{marker}); err != nil {
		return "", err
	}
	return p, nil
}

// rgb is a colour with channels in [0,1] (values outside are clipped at the end).
type rgb [3]float64

// hsv returns the colour of hue h (turns), saturation s and value v.
func hsv(h, s, v float64) rgb {
	h = (h - math.Floor(h)) * 6
	i := int(h)
	f := h - float64(i)
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch i {
	case 0:
		return rgb{v, t, p}
	case 1:
		return rgb{q, v, p}
	case 2:
		return rgb{p, v, t}
	case 3:
		return rgb{p, q, v}
	case 4:
		return rgb{t, p, v}
	}
	return rgb{v, p, q}
}

// canvas is a 32×32 RGB image being drawn.
type canvas [Size][Size]rgb

// blend paints colour c over pixel (x, y) with opacity a.
func (cv *canvas) blend(x, y int, c rgb, a float64) {
	if x < 0 || y < 0 || x >= Size || y >= Size || a <= 0 {
		return
	}
	a = min(a, 1)
	p := &cv[y][x]
	for k := range 3 {
		p[k] += a * (c[k] - p[k])
	}
}

// rect fills the rectangle [x0,x1)×[y0,y1) with c.
func (cv *canvas) rect(x0, y0, x1, y1 int, c rgb) {
	for y := max(0, y0); y < min(Size, y1); y++ {
		for x := max(0, x0); x < min(Size, x1); x++ {
			cv[y][x] = c
		}
	}
}

// store adds Gaussian noise of standard deviation sigma and writes the canvas into dst (3×32×32),
// clipped to [0,1].
func (cv *canvas) store(r *rand.Rand, sigma float64, dst []float32) {
	const plane = Size * Size
	for y := range Size {
		for x := range Size {
			for k := range 3 {
				v := cv[y][x][k] + sigma*r.NormFloat64()
				dst[k*plane+y*Size+x] = float32(min(1, max(0, v)))
			}
		}
	}
}

// scale returns c with every channel multiplied by f.
func (c rgb) scale(f float64) rgb { return rgb{c[0] * f, c[1] * f, c[2] * f} }

// drawObjects draws a TinyImageNet stand-in: a muted background with a gradient and oriented
// sinusoidal textures, and 1–3 shaded, saturated elliptic blobs near the centre, some striped or
// spotted.
func drawObjects(r *rand.Rand, dst []float32) {
	var cv canvas
	base := hsv(r.Float64(), 0.1+0.4*r.Float64(), 0.25+0.6*r.Float64())
	gAngle, gAmp := 2*math.Pi*r.Float64(), 0.2*r.Float64()
	type wave struct {
		fx, fy, phase, amp float64
		tint               rgb
	}
	waves := make([]wave, 2+r.IntN(3))
	for i := range waves {
		f, a := 0.3+1.3*r.Float64(), 2*math.Pi*r.Float64()
		waves[i] = wave{f * math.Cos(a), f * math.Sin(a), 2 * math.Pi * r.Float64(), 0.02 + 0.07*r.Float64(),
			rgb{0.6 + 0.8*r.Float64(), 0.6 + 0.8*r.Float64(), 0.6 + 0.8*r.Float64()}}
	}
	// sin(fx·x + fy·y + φ) = sin(fx·x)·cos(fy·y + φ) + cos(fx·x)·sin(fy·y + φ), from tables.
	var sx, cx, sy, cy [4][Size]float64
	for i, w := range waves {
		for t := range Size {
			sx[i][t], cx[i][t] = math.Sincos(w.fx * float64(t))
			sy[i][t], cy[i][t] = math.Sincos(w.fy*float64(t) + w.phase)
		}
	}
	gx, gy := gAmp*math.Cos(gAngle)/16, gAmp*math.Sin(gAngle)/16
	var ws [4]float64
	for y := range Size {
		for x := range Size {
			for i, w := range waves {
				ws[i] = w.amp * (sx[i][x]*cy[i][y] + cx[i][x]*sy[i][y])
			}
			g := gx*(float64(x)-15.5) + gy*(float64(y)-15.5)
			for k := range 3 {
				v := base[k] + g
				for i, w := range waves {
					v += w.tint[k] * ws[i]
				}
				cv[y][x][k] = v
			}
		}
	}
	for range 1 + r.IntN(3) {
		ox, oy := 15.5+5*r.NormFloat64(), 15.5+5*r.NormFloat64()
		a, b := 4+8*r.Float64(), 4+8*r.Float64()
		th := math.Pi * r.Float64()
		cth, sth := math.Cos(th), math.Sin(th)
		col := hsv(r.Float64(), 0.5+0.5*r.Float64(), 0.45+0.55*r.Float64())
		la := 2 * math.Pi * r.Float64()
		lx, ly := math.Cos(la), math.Sin(la)
		pattern, pFreq, pAmp := r.IntN(4), 1+2*r.Float64(), 0.05+0.15*r.Float64()
		// ellipse returns the blob's coordinates of pixel (x, y) for a blob centred at (ox, oy),
		// and the pixel's elliptic radius (1 on the outline).
		ellipse := func(x, y int, ox, oy float64) (u, v, d float64) {
			px, py := float64(x)-ox, float64(y)-oy
			u, v = cth*px+sth*py, -sth*px+cth*py
			return u, v, math.Sqrt((u/a)*(u/a) + (v/b)*(v/b))
		}
		// A soft shadow below-right of the blob first, then the blob.
		for y := range Size {
			for x := range Size {
				if _, _, d := ellipse(x, y, ox+1.5, oy+1.5); d < 1.2 {
					cv.blend(x, y, rgb{}, 0.35*smooth(1.2, 0.8, d))
				}
			}
		}
		for y := range Size {
			for x := range Size {
				u, v, d := ellipse(x, y, ox, oy)
				if d >= 1.1 {
					continue
				}
				// Lit from direction (lx, ly), darker towards the rim.
				c := col.scale(0.8 - 0.35*(u/a*lx+v/b*ly) - 0.25*d*d)
				switch pattern {
				case 1: // stripes
					s := pAmp * math.Sin(pFreq*u)
					c = rgb{c[0] + s, c[1] + s, c[2] + s}
				case 2: // spots
					s := math.Abs(pAmp * math.Sin(pFreq*u) * math.Sin(pFreq*v))
					c = rgb{c[0] - s, c[1] - s, c[2] - s}
				}
				cv.blend(x, y, c, smooth(1.1, 0.9, d))
			}
		}
	}
	cv.store(r, 0.03, dst)
}

// smooth is 0 at d >= e0, 1 at d <= e1 (e1 < e0), and a smoothstep between.
func smooth(e0, e1, d float64) float64 {
	t := min(1, max(0, (e0-d)/(e0-e1)))
	return t * t * (3 - 2*t)
}

// drawScene draws an LSUN stand-in: a room (70%) or an outdoor view (30%), both organised in
// horizontal bands split at a horizon row.
func drawScene(r *rand.Rand, dst []float32) {
	var cv canvas
	horizon := 11 + r.IntN(12)
	if r.Float64() < 0.7 {
		drawRoom(r, &cv, horizon)
	} else {
		drawOutdoor(r, &cv, horizon)
	}
	cv.store(r, 0.02, dst)
}

// drawRoom draws a ceiling band, a lit wall with windows and a planked floor, and furniture
// standing on the floor.
func drawRoom(r *rand.Rand, cv *canvas, horizon int) {
	wall := hsv(0.03+0.15*r.Float64(), 0.05+0.3*r.Float64(), 0.55+0.4*r.Float64())
	if r.Float64() < 0.3 { // a coloured wall
		wall = hsv(r.Float64(), 0.2+0.3*r.Float64(), 0.5+0.4*r.Float64())
	}
	floor := hsv(0.05+0.06*r.Float64(), 0.3+0.4*r.Float64(), 0.2+0.35*r.Float64())
	ceiling := r.IntN(6)
	corner, cornerShade := r.IntN(Size), 0.8+0.15*r.Float64()
	for y := range Size {
		for x := range Size {
			switch {
			case y < ceiling:
				cv[y][x] = wall.scale(1.1)
			case y < horizon:
				f := 1 - 0.2*float64(y-ceiling)/float64(max(1, horizon-ceiling))
				if x >= corner {
					f *= cornerShade
				}
				cv[y][x] = wall.scale(f)
			default:
				plank := 1.0
				if (y-horizon)/(2+(y-horizon)/4)%2 == 1 {
					plank = 0.88
				}
				cv[y][x] = floor.scale(plank * (0.8 + 0.4*float64(y-horizon)/float64(Size-horizon)))
			}
		}
	}
	if ceiling > 0 {
		for x := range Size {
			cv[ceiling][x] = wall.scale(0.7)
		}
	}
	for range r.IntN(3) {
		w, h := 5+r.IntN(6), 5+r.IntN(6)
		x0 := r.IntN(Size - w + 1)
		y0 := ceiling + 1 + r.IntN(max(1, horizon-ceiling-h-1))
		frame := hsv(0.08, 0.2, 0.3+0.5*r.Float64())
		glass := hsv(0.55+0.1*r.Float64(), 0.1+0.3*r.Float64(), 0.8+0.2*r.Float64())
		cv.rect(x0, y0, x0+w, y0+h, frame)
		for y := y0 + 1; y < y0+h-1; y++ {
			for x := x0 + 1; x < x0+w-1; x++ {
				// Brighter towards the top: sky seen through the window.
				cv.blend(x, y, glass.scale(1.05-0.15*float64(y-y0)/float64(h)), 1)
			}
		}
		cv.rect(x0, y0+h/2, x0+w, y0+h/2+1, frame) // a transom bar
	}
	for range 1 + r.IntN(2) {
		w, h := 8+r.IntN(17), 3+r.IntN(7)
		x0 := r.IntN(Size-w+1) - 2 + r.IntN(5)
		y0 := horizon - h/2 - r.IntN(3)
		c := hsv(r.Float64(), 0.15+0.5*r.Float64(), 0.2+0.6*r.Float64())
		cv.rect(x0, y0, x0+w, y0+h, c)
		cv.rect(x0, y0, x0+w, y0+1, c.scale(1.3)) // lit top edge
		cv.rect(x0, y0+h, x0+w, y0+h+1, c.scale(0.4))
	}
}

// drawOutdoor draws a sky gradient (clear or overcast), banded ground and 1–3 buildings or towers
// with rows of windows.
func drawOutdoor(r *rand.Rand, cv *canvas, horizon int) {
	top := hsv(0.56+0.06*r.Float64(), 0.45+0.35*r.Float64(), 0.55+0.35*r.Float64())
	low := hsv(0.56+0.06*r.Float64(), 0.05+0.2*r.Float64(), 0.85+0.15*r.Float64())
	if r.Float64() < 0.35 { // overcast
		g := 0.55 + 0.35*r.Float64()
		top, low = rgb{g, g, g * 1.03}, rgb{g + 0.1, g + 0.1, g + 0.1}
	}
	ground := hsv(0.1+0.25*r.Float64(), 0.2+0.4*r.Float64(), 0.2+0.35*r.Float64())
	for y := range Size {
		for x := range Size {
			if y < horizon {
				t := float64(y) / float64(horizon)
				for k := range 3 {
					cv[y][x][k] = top[k] + t*(low[k]-top[k])
				}
			} else {
				band := 0.85 + 0.15*math.Sin(float64(y-horizon)*1.3)
				cv[y][x] = ground.scale(band)
			}
		}
	}
	for range 1 + r.IntN(3) {
		w := 4 + r.IntN(12)
		h := 4 + r.IntN(horizon+2)
		x0 := r.IntN(Size - w + 1)
		y1 := horizon + 1 + r.IntN(3)
		c := hsv(0.02+0.1*r.Float64(), 0.05+0.4*r.Float64(), 0.3+0.5*r.Float64())
		cv.rect(x0, y1-h, x0+w, y1, c)
		cv.rect(x0, y1-h, x0+w, y1-h+1, c.scale(0.7)) // roof line
		win := c.scale(0.5)
		if r.Float64() < 0.4 {
			win = rgb{0.9, 0.85, 0.6} // lit windows
		}
		for y := y1 - h + 2; y < y1-1; y += 3 {
			for x := x0 + 1; x < x0+w-1; x += 2 {
				cv.rect(x, y, x+1, y+1, win)
			}
		}
	}
}
