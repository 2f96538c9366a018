package toy2d

import (
	"image/color"
	"path/filepath"
	"strconv"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
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

// Fig1PNG renders Figure 1: (a) data and OOD points from the wide box, (b) the confidence map of the
// classifier trained on them, (c) and (d) the same with the near box.
func Fig1PNG(r *Fig1Result) ([]byte, error) {
	if r == nil {
		return nil, errors.New("no figure 1 results")
	}
	grid := func(vals []float64) plots.Grid {
		h := r.GridHalf
		return plots.Grid{XMin: -h, XMax: h, YMin: -h, YMax: h, NX: r.GridN, NY: r.GridN, Values: vals}
	}
	var ps []*plot.Plot
	for _, panel := range []struct {
		p      Fig1Panel
		letter string
	}{{r.Wide, "(a)"}, {r.Near, "(c)"}} {
		layers := append(classLayers(r.Train, r.TrainY),
			plots.Points{Label: "OOD training points", XY: panel.p.OOD, Color: green, Radius: 2.5, Shape: "triangle"})
		sc, err := plots.Scatter(panel.letter+" OOD from [-"+ftoa(panel.p.Box)+","+ftoa(panel.p.Box)+"]²", nil, layers...)
		if err != nil {
			return nil, err
		}
		setSquare(sc, r.GridHalf)
		hm, err := plots.Heatmap(nextLetter(panel.letter)+" max-softmax confidence", "max p(y|x)", grid(panel.p.Confidence), 0.5, 1,
			plots.Points{Label: "OOD training points", XY: panel.p.OOD, Color: green, Radius: 2, Shape: "triangle"})
		if err != nil {
			return nil, err
		}
		ps = append(ps, sc, hm)
	}
	return plots.Row(5*vg.Inch, 4.5*vg.Inch, ps...)
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
