package mnist

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/confcal/confcal/internal/atomicfile"
)

func TestLetters(t *testing.T) {
	const n = 200
	a, err := Letters(n, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if a.N != n || a.C != 3 || a.H != 32 || a.W != 32 || len(a.Images) != n*3*1024 || len(a.Labels) != n {
		t.Fatalf("N=%d C=%d %d×%d len=%d", a.N, a.C, a.H, a.W, len(a.Images))
	}
	var classes [10]int
	for i, l := range a.Labels {
		if l < 0 || l > 9 {
			t.Fatalf("label %d = %d", i, l)
		}
		classes[l]++
	}
	for c, k := range classes {
		if k == 0 {
			t.Errorf("class %c absent", 'A'+c)
		}
	}
	for i := range a.N {
		img := a.Image(i)
		var sum float64
		for j, v := range img {
			if v < 0 || v > 1 {
				t.Fatalf("image %d value %v out of [0,1]", i, v)
			}
			if j < 1024 {
				sum += float64(v)
				if img[1024+j] != v || img[2048+j] != v {
					t.Fatalf("image %d: channels differ", i)
				}
			}
		}
		// Ink covers a few percent to a third of the canvas, like MNIST's digits (mean ≈ 0.13).
		if mean := sum / 1024; mean < 0.02 || mean > 0.4 {
			t.Errorf("image %d (%c): mean %v", i, 'A'+a.Labels[i], mean)
		}
		// Black background: the corners are empty.
		if img[0] != 0 || img[31] != 0 || img[31*32] != 0 || img[1023] != 0 {
			t.Errorf("image %d: a corner is not black", i)
		}
	}
	b, _ := Letters(n, 3, 7)
	if !slices.Equal(a.Images, b.Images) || !slices.Equal(a.Labels, b.Labels) {
		t.Error("same seed gave different letters")
	}
	c, _ := Letters(n, 3, 8)
	if slices.Equal(a.Images, c.Images) {
		t.Error("different seeds gave the same letters")
	}
	one, _ := Letters(n, 1, 7)
	for i := range n {
		if !slices.Equal(one.Image(i), a.Image(i)[:1024]) {
			t.Fatalf("1-channel image %d differs from the 3-channel one's first plane", i)
		}
	}
	if _, err := Letters(10, 2, 1); err == nil {
		t.Error("accepted 2 channels")
	}
	if s, err := Letters(0, 1, 1); err != nil || s.N != 0 {
		t.Errorf("Letters(0): %v, %v", s, err)
	}
}

// TestLettersPNG draws a grid of 40 letters (4 rows of A–J) as a PNG in a temporary directory, and
// also to $MNIST_LETTERS_PNG when that is set, for a look.
func TestLettersPNG(t *testing.T) {
	s, err := Letters(40, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	const pad = 2
	img := image.NewGray(image.Rect(0, 0, 10*(32+pad)+pad, 4*(32+pad)+pad))
	for i := range img.Pix {
		img.Pix[i] = 80
	}
	for i := range s.N {
		x0, y0 := pad+(i%10)*(32+pad), pad+(i/10)*(32+pad)
		for j, v := range s.Image(i) {
			img.SetGray(x0+j%32, y0+j/32, color.Gray{Y: uint8(v*255 + 0.5)})
		}
	}
	paths := []string{filepath.Join(t.TempDir(), "letters.png")}
	if p := os.Getenv("MNIST_LETTERS_PNG"); p != "" {
		paths = append(paths, p)
	}
	for _, p := range paths {
		if err := atomicfile.Write(p, 0o644, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkLetters(b *testing.B) {
	for b.Loop() {
		Letters(1000, 3, 1)
	}
}
