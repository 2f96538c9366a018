package plots

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// decode decodes a PNG and checks its pixel size and that it is not one flat colour.
func decode(t *testing.T, data []byte, wantW, wantH int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != wantW || b.Dy() != wantH {
		t.Fatalf("PNG is %dx%d, want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
	}
	colours := map[color.RGBA]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			colours[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	if len(colours) < 3 {
		t.Fatalf("PNG has only %d distinct colours", len(colours))
	}
	return img
}

// pixels converts a plot size in points to pixels at the package's resolution.
func pixels(l vg.Length) int { return int(float64(l)/72*dpi + 0.5) }

func gaussianBlob(rng *rand.Rand, n int, cx, cy, sd float64) [][2]float64 {
	xy := make([][2]float64, n)
	for i := range xy {
		xy[i] = [2]float64{cx + sd*rng.NormFloat64(), cy + sd*rng.NormFloat64()}
	}
	return xy
}

func uniformBox(rng *rand.Rand, n int, lo, hi float64) [][2]float64 {
	xy := make([][2]float64, n)
	for i := range xy {
		xy[i] = [2]float64{lo + (hi-lo)*rng.Float64(), lo + (hi-lo)*rng.Float64()}
	}
	return xy
}

// confidenceGrid is a made-up max-softmax map: confident near two class centres, 0.5 elsewhere.
func confidenceGrid(n int) Grid {
	g := Grid{XMin: -50, XMax: 50, YMin: -50, YMax: 50, NX: n, NY: n, Values: make([]float64, n*n)}
	for iy := range n {
		for ix := range n {
			x, y, _ := g.At(ix, iy)
			d1 := math.Hypot(x-10, y-10)
			d2 := math.Hypot(x+10, y+10)
			g.Values[iy*n+ix] = 0.5 + 0.5*math.Exp(-math.Min(d1, d2)*math.Min(d1, d2)/400)
		}
	}
	return g
}

func mixtureDensity(n int) Grid {
	g := Grid{XMin: -10, XMax: 10, YMin: -10, YMax: 10, NX: n, NY: n, Values: make([]float64, n*n)}
	for iy := range n {
		for ix := range n {
			x, y, _ := g.At(ix, iy)
			g.Values[iy*n+ix] = math.Exp(-((x-3)*(x-3)+(y-3)*(y-3))/4) + math.Exp(-((x+3)*(x+3)+(y+3)*(y+3))/4)
		}
	}
	return g
}

func TestGridAtAndValidate(t *testing.T) {
	g := Grid{XMin: -1, XMax: 1, YMin: 0, YMax: 10, NX: 3, NY: 2, Values: []float64{1, 2, 3, 4, 5, 6}}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ix, iy     int
		x, y, want float64
	}{{0, 0, -1, 0, 1}, {1, 0, 0, 0, 2}, {2, 1, 1, 10, 6}, {0, 1, -1, 10, 4}} {
		x, y, v := g.At(c.ix, c.iy)
		if x != c.x || y != c.y || v != c.want {
			t.Errorf("At(%d,%d) = (%g,%g,%g), want (%g,%g,%g)", c.ix, c.iy, x, y, v, c.x, c.y, c.want)
		}
	}
	bad := []struct {
		name    string
		mutate  func(*Grid)
		mention string
	}{
		{"short values", func(g *Grid) { g.Values = g.Values[:5] }, "len(Values)=5"},
		{"long values", func(g *Grid) { g.Values = append(g.Values, 7) }, "len(Values)=7"},
		{"NX<2", func(g *Grid) { g.NX, g.Values = 1, g.Values[:2] }, "NX=1"},
		{"NY<2", func(g *Grid) { g.NY = 0 }, "NY=0"},
		{"XMin>=XMax", func(g *Grid) { g.XMin = 1 }, "XMin=1"},
		{"YMin>YMax", func(g *Grid) { g.YMin = 11 }, "YMin=11"},
		{"NaN range", func(g *Grid) { g.XMax = math.NaN() }, "XMax=NaN"},
		{"NaN value", func(g *Grid) { g.Values = []float64{1, 2, 3, 4, math.NaN(), 6} }, "value 4 (ix=1, iy=1) is NaN"},
		{"Inf value", func(g *Grid) { g.Values = []float64{math.Inf(1), 2, 3, 4, 5, 6} }, "+Inf"},
	}
	for _, b := range bad {
		h := g
		h.Values = append([]float64(nil), g.Values...)
		b.mutate(&h)
		err := h.Validate()
		if err == nil {
			t.Errorf("%s: Validate accepted %+v", b.name, h)
			continue
		}
		if !strings.Contains(err.Error(), b.mention) {
			t.Errorf("%s: error %q does not mention %q", b.name, err, b.mention)
		}
		if _, err := Heatmap("t", "v", h, 0, 1); err == nil {
			t.Errorf("%s: Heatmap accepted the bad grid", b.name)
		}
		if _, err := Scatter("t", &h); err == nil {
			t.Errorf("%s: Scatter accepted the bad grid", b.name)
		}
	}
}

func TestHeatmapMapsValuesToColours(t *testing.T) {
	const n = 20
	g := Grid{XMin: -50, XMax: 50, YMin: -50, YMax: 50, NX: n, NY: n, Values: make([]float64, n*n)}
	for iy := range n {
		for ix := n / 2; ix < n; ix++ {
			g.Values[iy*n+ix] = 1
		}
	}
	p, err := Heatmap("halves", "confidence", g, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	w, h := 6*vg.Inch, 4.5*vg.Inch
	data, err := PNG(p, w, h)
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, data, pixels(w), pixels(h))

	// Locate the data area the same way Draw does.
	dc := p.DataCanvas(draw.New(vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))))
	px := func(x vg.Length) int { return int(float64(x) / 72 * dpi) }
	py := func(y vg.Length) int { return pixels(h) - int(float64(y)/72*dpi) }
	cy := py((dc.Min.Y + dc.Max.Y) / 2)
	left := color.RGBAModel.Convert(img.At(px(dc.Min.X+(dc.Max.X-dc.Min.X)/4), cy)).(color.RGBA)
	right := color.RGBAModel.Convert(img.At(px(dc.Min.X+3*(dc.Max.X-dc.Min.X)/4), cy)).(color.RGBA)
	near := func(a color.RGBA, b color.NRGBA) bool {
		d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
		return d(a.R, b.R) <= 3 && d(a.G, b.G) <= 3 && d(a.B, b.B) <= 3
	}
	if !near(left, viridis(0)) {
		t.Errorf("left-centre pixel %v, want viridis(0) = %v", left, viridis(0))
	}
	if !near(right, viridis(1)) {
		t.Errorf("right-centre pixel %v, want viridis(1) = %v", right, viridis(1))
	}
	if left == right {
		t.Errorf("left and right halves have the same colour %v", left)
	}
	// The colour bar lies right of the data area: yellow near its top, purple near its bottom.
	barX := px(dc.Max.X + barGap + barWidth/2)
	top := color.RGBAModel.Convert(img.At(barX, py(dc.Max.Y-3))).(color.RGBA)
	bottom := color.RGBAModel.Convert(img.At(barX, py(dc.Min.Y+3))).(color.RGBA)
	if !near(top, viridis(1)) && !(top.R > 200 && top.G > 200 && top.B < 100) {
		t.Errorf("colour bar top pixel %v, want yellowish %v", top, viridis(1))
	}
	if !(bottom.R < 100 && bottom.G < 60 && bottom.B > 60) {
		t.Errorf("colour bar bottom pixel %v, want purplish %v", bottom, viridis(0))
	}
}

func TestHeatmapClipsAndValidatesRange(t *testing.T) {
	g := confidenceGrid(11)
	for _, r := range [][2]float64{{1, 1}, {1, 0}, {math.NaN(), 1}, {0, math.Inf(1)}} {
		if _, err := Heatmap("t", "v", g, r[0], r[1]); err == nil {
			t.Errorf("Heatmap accepted range [%g, %g]", r[0], r[1])
		}
	}
	// Values outside [min,max] are clipped, not an error.
	p, err := Heatmap("clipped", "v", g, 0.6, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PNG(p, 300, 250); err != nil {
		t.Fatal(err)
	}
}

func TestConstructorsRender(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	layers := []Points{
		{Label: "class 0", XY: gaussianBlob(rng, 100, 10, 10, 3)},
		{Label: "class 1", XY: gaussianBlob(rng, 100, -10, -10, 3)},
		{Label: "OOD", XY: uniformBox(rng, 50, -50, 50), Shape: "cross", Radius: 3},
		{XY: [][2]float64{{0, 0}}, Shape: "ring"},
		{Label: "empty", Shape: "triangle"},
	}
	hm, err := Heatmap("confidence", "max softmax", confidenceGrid(41), 0.5, 1, layers...)
	if err != nil {
		t.Fatal(err)
	}
	dens := mixtureDensity(50)
	sc, err := Scatter("samples", &dens, Points{Label: "generated", XY: gaussianBlob(rng, 200, 0, 0, 4)})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Scatter("plain", nil, layers[:3]...)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := Histograms("max softmax", "maximum prediction value",
		Series{Label: "in", Lo: 0, Hi: 1, Fractions: []float64{0, 0.1, 0.2, 0.7}},
		Series{Label: "out", Lo: 0, Hi: 1, Fractions: []float64{0.5, 0.3, 0.1, 0.1}, Color: color.RGBA{B: 200, A: 255}})
	if err != nil {
		t.Fatal(err)
	}
	roc, err := Lines("ROC", "FPR", "TPR",
		Curve{Label: "cross entropy", X: []float64{0, 0.1, 0.5, 1}, Y: []float64{0, 0.5, 0.9, 1}},
		Curve{Label: "chance", X: []float64{0, 1}, Y: []float64{0, 1}, Dashes: true, Color: color.Gray{Y: 100}})
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*plot.Plot{"heatmap": hm, "scatter": sc, "plain": plain, "hist": hist, "roc": roc} {
		t.Run(name, func(t *testing.T) {
			data, err := PNG(p, 5*vg.Inch, 4*vg.Inch)
			if err != nil {
				t.Fatal(err)
			}
			decode(t, data, pixels(5*vg.Inch), pixels(4*vg.Inch))
			// Rendering twice must work too (Draw adjusts the axes in place).
			if _, err := PNG(p, 3*vg.Inch, 3*vg.Inch); err != nil {
				t.Fatal(err)
			}
		})
	}
	row, err := Row(4*vg.Inch, 3*vg.Inch, plain, hm, sc)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, row, pixels(12*vg.Inch), pixels(3*vg.Inch))
	tiles, err := Tiles(3*vg.Inch, 2*vg.Inch, []*plot.Plot{plain, hm}, []*plot.Plot{sc, hist})
	if err != nil {
		t.Fatal(err)
	}
	decode(t, tiles, pixels(6*vg.Inch), pixels(4*vg.Inch))
}

func TestDegenerateInputsDoNotPanic(t *testing.T) {
	flat := Grid{XMin: 0, XMax: 1, YMin: 0, YMax: 1, NX: 2, NY: 2, Values: []float64{3, 3, 3, 3}}
	cases := map[string]func() (*plot.Plot, error){
		"single point":      func() (*plot.Plot, error) { return Scatter("one", nil, Points{XY: [][2]float64{{5, 5}}}) },
		"same points":       func() (*plot.Plot, error) { return Scatter("same", nil, Points{XY: [][2]float64{{5, 5}, {5, 5}}}) },
		"empty layer":       func() (*plot.Plot, error) { return Scatter("empty", nil, Points{Label: "nothing"}) },
		"flat background":   func() (*plot.Plot, error) { return Scatter("flat", &flat) },
		"flat heatmap":      func() (*plot.Plot, error) { return Heatmap("flat", "", flat, 0, 1) },
		"single-point line": func() (*plot.Plot, error) { return Lines("dot", "x", "y", Curve{X: []float64{1}, Y: []float64{2}}) },
		"flat line": func() (*plot.Plot, error) {
			return Lines("flat", "x", "y", Curve{X: []float64{1, 2}, Y: []float64{2, 2}})
		},
		"zero histogram": func() (*plot.Plot, error) {
			return Histograms("zero", "x", Series{Lo: 0, Hi: 1, Fractions: []float64{0, 0}})
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := PNG(p, 4*vg.Inch, 3*vg.Inch); err != nil {
				t.Fatal(err)
			}
			// A tiny canvas may fail, but with an error rather than a panic.
			_, _ = PNG(p, 8, 8)
		})
	}
}

func TestValidationErrors(t *testing.T) {
	g := confidenceGrid(5)
	check := func(name string, err error, mention string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), mention) {
			t.Errorf("%s: error %q does not mention %q", name, err, mention)
		}
	}
	_, err := Heatmap("t", "v", g, 0, 1, Points{Label: "bad", XY: [][2]float64{{0, 0}, {math.NaN(), 1}}})
	check("NaN point", err, "point 1 is (NaN, 1)")
	_, err = Scatter("t", nil, Points{Shape: "star"})
	check("bad shape", err, `"star"`)
	_, err = Scatter("t", nil, Points{Radius: -1})
	check("negative radius", err, "radius -1")
	_, err = Scatter("t", nil)
	check("nothing to scatter", err, "neither")
	_, err = Lines("t", "x", "y", Curve{Label: "c", X: []float64{1, 2}, Y: []float64{1}})
	check("mismatched curve", err, "len(X)=2 but len(Y)=1")
	_, err = Lines("t", "x", "y", Curve{Label: "c"})
	check("empty curve", err, "no points")
	_, err = Lines("t", "x", "y", Curve{X: []float64{1}, Y: []float64{math.Inf(-1)}})
	check("infinite curve", err, "-Inf")
	_, err = Lines("t", "x", "y")
	check("no curves", err, "at least one")
	_, err = Histograms("t", "x", Series{Label: "s", Lo: 1, Hi: 0, Fractions: []float64{1}})
	check("bad histogram range", err, "Lo=1, Hi=0")
	_, err = Histograms("t", "x", Series{Lo: 0, Hi: 1})
	check("no bins", err, "no bins")
	_, err = Histograms("t", "x", Series{Lo: 0, Hi: 1, Fractions: []float64{0.5, -0.1}})
	check("negative fraction", err, "bin 1 has fraction -0.1")
	_, err = Histograms("t", "x")
	check("no series", err, "at least one")

	_, err = PNG(nil, 100, 100)
	check("nil plot", err, "nil")
	p, _ := Lines("t", "x", "y", Curve{X: []float64{0, 1}, Y: []float64{0, 1}})
	_, err = PNG(p, 0, 100)
	check("zero width", err, "0x100")
	_, err = PNG(p, vg.Length(math.NaN()), 100)
	check("NaN width", err, "NaN")
	_, err = PNG(p, 1e9, 1e9)
	check("huge plot", err, "pixels")
	_, err = Row(100, 100)
	check("empty row", err, "no plots")
	_, err = Row(100, 100, p, nil)
	check("nil in row", err, "plot 1")
	_, err = Tiles(100, 100, []*plot.Plot{p, p}, []*plot.Plot{p})
	check("ragged tiles", err, "row 1 has 1 plots")
	_, err = Tiles(100, 100, []*plot.Plot{p}, []*plot.Plot{nil})
	check("nil in tiles", err, "plot 0 of row 1")

	_, err = ImageGrid(nil, 1, 2, 2, 2, 1)
	check("no images", err, "no images")
	_, err = ImageGrid([][]float32{{0, 0, 0, 0}}, 2, 2, 2, 2, 1)
	check("bad channels", err, "channels is 2")
	_, err = ImageGrid([][]float32{{0, 0, 0, 0}, {0, 0, 0}}, 1, 2, 2, 2, 1)
	check("short image", err, "image 1 has 3 values")
	_, err = ImageGrid([][]float32{{0, 0, 0, 0}}, 1, 2, 2, 0, 1)
	check("zero cols", err, "positive")
	_, err = ImageGrid([][]float32{{0, float32(math.NaN()), 0, 0}}, 1, 2, 2, 1, 1)
	check("NaN pixel", err, "image 0 value 1 is NaN")
	_, err = ImageGrid([][]float32{{0}}, 1, 1, 1, 1, 1<<20)
	check("huge image", err, "pixels")

	_, err = EncodePNG(nil)
	check("nil image", err, "nil")
	err = SavePNG(filepath.Join(t.TempDir(), "x.png"), []byte("not a png"))
	check("non-PNG bytes", err, "not a PNG")
}

func TestImageGridPlacement(t *testing.T) {
	// Three 1-channel 1x2 images in 2 columns at scale 2: a 2x2 grid whose last cell stays white.
	// Tile size 4 wide x 2 high; gap ImageGap.
	imgs := [][]float32{{0, 1}, {0.5, 0.25}, {1, 0}}
	out, err := ImageGrid(imgs, 1, 1, 2, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	gray, ok := out.(*image.Gray)
	if !ok {
		t.Fatalf("1-channel grid is %T, want *image.Gray", out)
	}
	const g = ImageGap
	wantW, wantH := 2*4+g, 2*2+g
	if b := gray.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Fatalf("grid is %dx%d, want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
	}
	want := make([][]uint8, wantH)
	for y := range want {
		want[y] = make([]uint8, wantW)
		for x := range want[y] {
			want[y][x] = 255
		}
	}
	put := func(x0, y0 int, a, b uint8) {
		for dy := range 2 {
			for dx := range 2 {
				want[y0+dy][x0+dx] = a
				want[y0+dy][x0+2+dx] = b
			}
		}
	}
	put(0, 0, 0, 255)
	put(4+g, 0, 128, 64)
	put(0, 2+g, 255, 0)
	for y := range wantH {
		for x := range wantW {
			if got := gray.GrayAt(x, y).Y; got != want[y][x] {
				t.Errorf("pixel (%d,%d) = %d, want %d", x, y, got, want[y][x])
			}
		}
	}

	// RGB, CHW layout, values clipped; cols larger than the number of images shrinks to it.
	rgb := [][]float32{{1, 0, 0, 0.5}, {0, 1, -3, 0.5}} // two 3x1x1 images... see below
	if _, err := ImageGrid(rgb, 3, 1, 1, 5, 1); err == nil {
		t.Fatal("ImageGrid accepted 4 values for a 3x1x1 image")
	}
	rgb = [][]float32{{1, 0, 2}, {0, 0.5, -1}}
	out, err = ImageGrid(rgb, 3, 1, 1, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	rgba, ok := out.(*image.RGBA)
	if !ok {
		t.Fatalf("3-channel grid is %T, want *image.RGBA", out)
	}
	if b := rgba.Bounds(); b.Dx() != 2+g || b.Dy() != 1 {
		t.Fatalf("RGB grid is %dx%d, want %dx1", b.Dx(), b.Dy(), 2+g)
	}
	if c := rgba.RGBAAt(0, 0); c != (color.RGBA{R: 255, G: 0, B: 255, A: 255}) {
		t.Errorf("first RGB pixel %v", c)
	}
	if c := rgba.RGBAAt(1, 0); c != (color.RGBA{R: 255, G: 255, B: 255, A: 255}) {
		t.Errorf("gap pixel %v, want white", c)
	}
	if c := rgba.RGBAAt(1+g, 0); c != (color.RGBA{R: 0, G: 128, B: 0, A: 255}) {
		t.Errorf("second RGB pixel %v", c)
	}
	data, err := EncodePNG(out)
	if err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(bytes.NewReader(data))
	if err != nil || back.Bounds() != out.Bounds() {
		t.Fatalf("round trip: %v, bounds %v", err, back.Bounds())
	}
}

func TestSavePNGAtomic(t *testing.T) {
	p, err := Lines("t", "x", "y", Curve{X: []float64{0, 1}, Y: []float64{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := PNG(p, 200, 150)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "fig.png")
	for range 2 { // create, then replace
		if err := SavePNG(path, data); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v; want %d bytes", len(got), err, len(data))
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "fig.png" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want only fig.png", names)
	}
	// A refused write leaves the existing file untouched.
	if err := SavePNG(path, []byte("junk")); err == nil {
		t.Fatal("SavePNG accepted junk")
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatal("refused write changed the file")
	}
}

// TestWriteDemos writes example figures into $PLOTS_DEMO_DIR (skipped when unset) for a visual check.
func TestWriteDemos(t *testing.T) {
	dir := os.Getenv("PLOTS_DEMO_DIR")
	if dir == "" {
		t.Skip("PLOTS_DEMO_DIR not set")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	train0, train1 := gaussianBlob(rng, 150, 8, 8, 3), gaussianBlob(rng, 150, -8, -8, 3)
	ood := uniformBox(rng, 100, -20, 20)
	red, blue, green := defaultColors[0], defaultColors[1], defaultColors[2]
	layers := []Points{
		{Label: "class 0", XY: train0, Color: red},
		{Label: "class 1", XY: train1, Color: blue},
		{Label: "OOD (training)", XY: ood, Color: green, Shape: "cross", Radius: 3},
	}
	a, err := Scatter("(c) OOD samples from [-20,20]^2", nil, layers...)
	if err != nil {
		t.Fatal(err)
	}
	a.X.Min, a.X.Max, a.Y.Min, a.Y.Max = -50, 50, -50, 50
	b, err := Heatmap("(d) max softmax confidence", "max softmax", confidenceGrid(101), 0.5, 1, layers...)
	if err != nil {
		t.Fatal(err)
	}
	fig1, err := Row(4.5*vg.Inch, 4*vg.Inch, a, b)
	if err != nil {
		t.Fatal(err)
	}

	bins := func(f func(x float64) float64) []float64 {
		fr := make([]float64, 20)
		var s float64
		for i := range fr {
			fr[i] = f((float64(i) + 0.5) / 20)
			s += fr[i]
		}
		for i := range fr {
			fr[i] /= s
		}
		return fr
	}
	hist, err := Histograms("(b) confidence loss", "maximum prediction value",
		Series{Label: "SVHN (in)", Lo: 0.1, Hi: 1, Fractions: bins(func(x float64) float64 { return math.Exp(20 * x) }), Color: red},
		Series{Label: "CIFAR-10", Lo: 0.1, Hi: 1, Fractions: bins(func(x float64) float64 { return math.Exp(-10 * x) })},
		Series{Label: "LSUN", Lo: 0.1, Hi: 1, Fractions: bins(func(x float64) float64 { return math.Exp(-6 * x) }), Color: green})
	if err != nil {
		t.Fatal(err)
	}
	rocCurve := func(k float64) ([]float64, []float64) {
		var xs, ys []float64
		for i := range 51 {
			x := float64(i) / 50
			xs, ys = append(xs, x), append(ys, math.Pow(x, 1/k))
		}
		return xs, ys
	}
	x1, y1 := rocCurve(3)
	x2, y2 := rocCurve(12)
	roc, err := Lines("(c) ROC curve", "false positive rate", "true positive rate",
		Curve{Label: "cross entropy", X: x1, Y: y1, Color: red},
		Curve{Label: "confidence loss (LSUN)", X: x2, Y: y2, Color: green},
		Curve{Label: "chance", X: []float64{0, 1}, Y: []float64{0, 1}, Color: color.Gray{Y: 120}, Dashes: true})
	if err != nil {
		t.Fatal(err)
	}
	fig2, err := Row(4*vg.Inch, 3.5*vg.Inch, hist, roc)
	if err != nil {
		t.Fatal(err)
	}

	dens := mixtureDensity(80)
	gan, err := Scatter("(b) proposed GAN", &dens,
		Points{Label: "generated", XY: gaussianBlob(rng, 200, 0, 0, 3), Color: red})
	if err != nil {
		t.Fatal(err)
	}
	fig3, err := PNG(gan, 4.5*vg.Inch, 4*vg.Inch)
	if err != nil {
		t.Fatal(err)
	}
	var imgs [][]float32
	for i := range 24 {
		im := make([]float32, 28*28)
		for y := range 28 {
			for x := range 28 {
				if math.Hypot(float64(x)-14, float64(y)-14) < float64(4+i%8) {
					im[y*28+x] = float32(rng.Float64())
				}
			}
		}
		imgs = append(imgs, im)
	}
	gridImg, err := ImageGrid(imgs, 1, 28, 28, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	grid, err := EncodePNG(gridImg)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"fig1.png": fig1, "fig2.png": fig2, "fig3.png": fig3, "grid.png": grid} {
		if err := SavePNG(filepath.Join(dir, name), data); err != nil {
			t.Fatal(err)
		}
	}
}
