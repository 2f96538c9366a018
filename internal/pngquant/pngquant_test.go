package pngquant

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/confcal/confcal/confcal/plots"
)

func encode(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A heatmap as the notebooks draw it (confcal/plots, a smooth field over a colour ramp: thousands of
// colours, antialiased text and points) comes back at most half as large and close to the original;
// an image with few colours keeps them exactly.
func TestShrink(t *testing.T) {
	const n = 81
	vals := make([]float64, 0, n*n)
	for iy := range n {
		for ix := range n {
			x, y := float64(ix-n/2)/8, float64(iy-n/2)/8
			vals = append(vals, 0.5+0.5/(1+math.Exp(-(x*x-y*y+math.Sin(3*x*y)))))
		}
	}
	p, err := plots.Heatmap("a confidence map", "max p(y|x)", plots.Grid{XMin: -50, XMax: 50, YMin: -50, YMax: 50, NX: n, NY: n, Values: vals}, 0.5, 1,
		plots.Points{Label: "points", XY: [][2]float64{{1, 2}, {-20, 30}, {40, -10}}})
	if err != nil {
		t.Fatal(err)
	}
	orig, err := plots.PNG(p, 6*vg.Inch, 5*vg.Inch)
	if err != nil {
		t.Fatal(err)
	}
	src, err := png.Decode(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	small, err := Shrink(orig, 256)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("heatmap: %d bytes -> %d", len(orig), len(small))
	if len(small) > len(orig)/2 {
		t.Errorf("heatmap: %d bytes -> %d, want at most half", len(orig), len(small))
	}
	got, err := png.Decode(bytes.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.(*image.Paletted); !ok {
		t.Errorf("result is a %T, want *image.Paletted", got)
	}
	b := src.Bounds()
	if got.Bounds() != b {
		t.Fatalf("bounds %v, want %v", got.Bounds(), b)
	}
	var se float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			a := color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA)
			c := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
			for _, d := range []float64{float64(a.R) - float64(c.R), float64(a.G) - float64(c.G), float64(a.B) - float64(c.B)} {
				se += d * d
			}
		}
	}
	if psnr := 10 * math.Log10(255*255/(se/float64(3*b.Dx()*b.Dy()))); psnr < 35 {
		t.Errorf("heatmap: PSNR %.1f dB, want >= 35", psnr)
	}

	few := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	cols := []color.NRGBA{{255, 0, 0, 255}, {0, 0, 255, 128}, {1, 2, 3, 255}}
	for y := range 64 {
		for x := range 64 {
			few.Set(x, y, cols[(x*y+x)%3])
		}
	}
	out, err := Shrink(encode(t, few), 256)
	if err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for y := range 64 {
		for x := range 64 {
			if c := color.NRGBAModel.Convert(back.At(x, y)).(color.NRGBA); c != cols[(x*y+x)%3] {
				t.Fatalf("pixel (%d,%d) = %v, want %v exactly", x, y, c, cols[(x*y+x)%3])
			}
		}
	}
}

func TestShrinkErrors(t *testing.T) {
	if _, err := Shrink([]byte("not a png"), 256); err == nil {
		t.Error("Shrink accepted something that is not a PNG")
	}
	if _, err := Shrink(nil, 1); err == nil {
		t.Error("Shrink accepted maxColors 1")
	}
}

func TestPaletteSize(t *testing.T) {
	hist := map[color.NRGBA]int{}
	for i := range 1000 {
		hist[color.NRGBA{R: uint8(i), G: uint8(i / 4), B: uint8(i * 7), A: 255}] = i + 1
	}
	for _, n := range []int{2, 16, 256} {
		if p := Palette(hist, n); len(p) != n {
			t.Errorf("Palette(1000 colours, %d) has %d colours", n, len(p))
		}
	}
}
