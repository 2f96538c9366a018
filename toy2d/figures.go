package toy2d

import (
	"image/color"
	"path/filepath"
	"strconv"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/confcal/confcal/confcal/plots"
)

var (
	red    = color.RGBA{R: 215, G: 48, B: 39, A: 255}
	blue   = color.RGBA{R: 69, G: 117, B: 180, A: 255}
	green  = color.RGBA{R: 26, G: 152, B: 80, A: 255}
	orange = color.RGBA{R: 240, G: 120, B: 20, A: 255}
)

// Figure file names written by WriteFigures.
const (
	Fig1File = "figure1.png"
	Fig3File = "figure3ab.png"
)

func classLayers(x [][2]float64, y []int) []plots.Points {
	var c0, c1 [][2]float64
	for i, p := range x {
		if y[i] == 0 {
			c0 = append(c0, p)
		} else {
			c1 = append(c1, p)
		}
	}
	return []plots.Points{
		{Label: "class 0", XY: c0, Color: red, Radius: 1.2},
		{Label: "class 1", XY: c1, Color: blue, Radius: 1.2},
	}
}

// Fig1PNG renders Figure 1. Top row, over the whole plane [-fig1_box_wide, fig1_box_wide]²: (a) data
// and OOD points from the wide box, (b) the confidence map of the classifier trained on them, (c) and
// (d) the same with the near box; a dashed square marks [-fig1_box_near, fig1_box_near]², the region
// the paper's claim is about. Bottom row: the same four panels zoomed on that square.
func Fig1PNG(r *Fig1Result) ([]byte, error) {
	if r == nil {
		return nil, errors.New("no figure 1 results")
	}
	zoom := r.Config.Fig1.BoxNear.Half
	var whole, zoomed []*plot.Plot
	for _, panel := range []struct {
		p      Fig1Panel
		letter string
	}{{r.Wide, "(a)"}, {r.Near, "(c)"}} {
		for _, view := range []struct {
			half   float64
			suffix string
			out    *[]*plot.Plot
		}{{r.GridHalf, "", &whole}, {zoom, ", zoomed", &zoomed}} {
			layers := append(classLayers(r.Train, r.TrainY),
				plots.Points{Label: "OOD training points", XY: clip(panel.p.OOD, view.half), Color: green, Radius: 2.5, Shape: "triangle"})
			sc, err := plots.Scatter(panel.letter+" OOD from [-"+ftoa(panel.p.Box)+","+ftoa(panel.p.Box)+"]²"+view.suffix, nil, layers...)
			if err != nil {
				return nil, err
			}
			g, err := zoomGrid(r, panel.p.Confidence, view.half)
			if err != nil {
				return nil, err
			}
			hm, err := plots.Heatmap(nextLetter(panel.letter)+" max-softmax confidence"+view.suffix, "max p(y|x)", g, 0.5, 1,
				plots.Points{Label: "OOD training points", XY: clip(panel.p.OOD, view.half), Color: green, Radius: 2, Shape: "triangle"})
			if err != nil {
				return nil, err
			}
			for _, m := range []struct {
				p *plot.Plot
				c color.Color
			}{{sc, color.Gray{Y: 60}}, {hm, color.White}} {
				setSquare(m.p, view.half)
				if view.half > zoom {
					if err := markSquare(m.p, zoom, m.c); err != nil {
						return nil, err
					}
				}
			}
			*view.out = append(*view.out, sc, hm)
		}
	}
	return plots.Tiles(4.5*vg.Inch, 4*vg.Inch, whole, zoomed)
}

// zoomGrid returns the part of Figure 1's grid values inside [-half, half]² as a plots.Grid.
func zoomGrid(r *Fig1Result, vals []float64, half float64) (plots.Grid, error) {
	n, h := r.GridN, r.GridHalf
	if n < 2 || len(vals) != n*n {
		return plots.Grid{}, errors.Errorf("figure 1: %d grid values, want %d×%d", len(vals), n, n)
	}
	step := 2 * h / float64(n-1)
	lo := 0
	for lo < n && -h+float64(lo)*step < -half-1e-9 {
		lo++
	}
	hi := n - 1 - lo
	if hi-lo < 1 {
		return plots.Grid{}, errors.Errorf("figure 1: no grid points inside [-%g,%g]²", half, half)
	}
	m := hi - lo + 1
	out := make([]float64, 0, m*m)
	for iy := lo; iy <= hi; iy++ {
		out = append(out, vals[iy*n+lo:iy*n+hi+1]...)
	}
	x0, x1 := -h+float64(lo)*step, -h+float64(hi)*step
	return plots.Grid{XMin: x0, XMax: x1, YMin: x0, YMax: x1, NX: m, NY: m, Values: out}, nil
}

// markSquare draws the dashed outline of [-half, half]² on p in colour c.
func markSquare(p *plot.Plot, half float64, c color.Color) error {
	l, err := plotter.NewLine(plotter.XYs{{X: -half, Y: -half}, {X: half, Y: -half}, {X: half, Y: half}, {X: -half, Y: half}, {X: -half, Y: -half}})
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	p.Add(l)
	return nil
}

// Fig3PNG renders Figure 3(a)(b): samples of the original GAN and of the proposed GAN over the
// target mixture's density.
func Fig3PNG(r *Fig3Result) ([]byte, error) {
	if r == nil {
		return nil, errors.New("no figure 3 results")
	}
	half := r.Config.Fig3.Box.Half
	n := 121
	vals := make([]float64, 0, n*n)
	for _, p := range GridPoints(half, n) {
		vals = append(vals, r.Config.Fig3.Target.Density(p))
	}
	bg := plots.Grid{XMin: -half, XMax: half, YMin: -half, YMax: half, NX: n, NY: n, Values: vals}
	var ps []*plot.Plot
	for _, s := range []struct {
		title string
		pts   [][2]float64
		c     color.Color
	}{{"(a) original GAN samples", r.Original, blue}, {"(b) proposed GAN samples", r.Proposed, orange}} {
		p, err := plots.Scatter(s.title, &bg, plots.Points{Label: "generated", XY: clip(s.pts, half), Color: s.c, Radius: 1.5})
		if err != nil {
			return nil, err
		}
		setSquare(p, half)
		ps = append(ps, p)
	}
	return plots.Row(5*vg.Inch, 5*vg.Inch, ps...)
}

// WriteFigures renders whichever figures the results hold into dir and returns the files written.
func WriteFigures(r *Results, dir string) ([]string, error) {
	var files []string
	for _, f := range []struct {
		present bool
		file    string
		render  func() ([]byte, error)
	}{
		{r.Fig1 != nil, Fig1File, func() ([]byte, error) { return Fig1PNG(r.Fig1) }},
		{r.Fig3 != nil, Fig3File, func() ([]byte, error) { return Fig3PNG(r.Fig3) }},
	} {
		if !f.present {
			continue
		}
		png, err := f.render()
		if err != nil {
			return files, err
		}
		path := filepath.Join(dir, f.file)
		if err := plots.SavePNG(path, png); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

func setSquare(p *plot.Plot, half float64) {
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -half, half, -half, half
}

// clip drops points outside the plotted square (they are counted in the stats, not drawn).
func clip(pts [][2]float64, half float64) [][2]float64 {
	var out [][2]float64
	for _, p := range pts {
		if p[0] >= -half && p[0] <= half && p[1] >= -half && p[1] <= half {
			out = append(out, p)
		}
	}
	return out
}

func nextLetter(l string) string {
	if l == "(a)" {
		return "(b)"
	}
	return "(d)"
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
