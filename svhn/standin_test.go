package svhn

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestStandIn(t *testing.T) {
	const n = 300
	a := StandIn(n, "train", 7)
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	if a.N != n || a.C != 3 || a.H != 32 || a.W != 32 {
		t.Fatalf("N=%d C=%d %d×%d", a.N, a.C, a.H, a.W)
	}
	if a.Name != "svhn-standin-train" || !strings.Contains(a.Source, "NOT SVHN") || !strings.Contains(a.Source, "seed 7") {
		t.Errorf("Name %q Source %q", a.Name, a.Source)
	}
	var classes [10]int
	for _, l := range a.Labels {
		if l < 0 || l > 9 {
			t.Fatalf("label %d", l)
		}
		classes[l]++
	}
	for d, k := range classes {
		if k < n/20 {
			t.Errorf("digit %d in only %d of %d images", d, k, n)
		}
	}
	for i, v := range a.Images {
		if k := v * 255; !(v >= 0 && v <= 1) || float32(math.Round(float64(k)))/255 != v {
			t.Fatalf("value %d is %v, want a multiple of 1/255 in [0,1]", i, v)
		}
	}
	// Colour images, not grey ones.
	var chroma float64
	for i := range n {
		img := a.Image(i)
		for j := range 1024 {
			chroma += math.Abs(float64(img[j]-img[1024+j])) + math.Abs(float64(img[1024+j]-img[2048+j]))
		}
	}
	if chroma /= n * 1024; chroma < 0.05 {
		t.Errorf("mean channel difference %v: the images are nearly grey", chroma)
	}
	b := StandIn(n, "train", 7)
	if !slices.Equal(a.Images, b.Images) || !slices.Equal(a.Labels, b.Labels) {
		t.Error("same seed gave different images")
	}
	if c := StandIn(n, "train", 8); slices.Equal(a.Images, c.Images) {
		t.Error("different seeds gave the same images")
	}
	if c := StandIn(n, "test", 7); slices.Equal(a.Images[:3072], c.Images[:3072]) || c.Name != "svhn-standin-test" {
		t.Error("train and test splits start with the same image")
	}
	if z := StandIn(-1, "train", 1); z.N != 0 || z.Check() != nil {
		t.Errorf("StandIn(-1): N=%d", z.N)
	}
}

// TestStandInDigitsVisible checks that the central digit stands out: the mean luminance of its ink
// (where it covers the pixel fully) differs from the background's by a clear margin in every image.
func TestStandInDigitsVisible(t *testing.T) {
	gs, err := loadGlyphs()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var diffs []float64
	for i := range 300 {
		h := drawHouseNumber(rng, i%10)
		img := make([]float32, 3*1024)
		h.render(img, gs)
		central := h
		central.left, central.right = -1, -1
		all, mask := h.coverage(gs), central.coverage(gs)
		var ink, bg, nInk, nBg float64
		for j := range mask {
			l := 0.299*float64(img[j]) + 0.587*float64(img[1024+j]) + 0.114*float64(img[2048+j])
			switch {
			case mask[j] > 0.9:
				ink, nInk = ink+l, nInk+1
			case all[j] == 0:
				bg, nBg = bg+l, nBg+1
			}
		}
		if nInk < 10 || nBg < 100 {
			t.Fatalf("image %d (digit %d): %v ink and %v background pixels", i, i%10, nInk, nBg)
		}
		diffs = append(diffs, math.Abs(ink/nInk-bg/nBg))
	}
	slices.Sort(diffs)
	t.Logf("ink-background luminance difference: min %.3f, median %.3f", diffs[0], diffs[len(diffs)/2])
	if diffs[0] < 0.12 || diffs[len(diffs)/2] < 0.25 {
		t.Errorf("digits hard to see: min difference %.3f, median %.3f", diffs[0], diffs[len(diffs)/2])
	}
}

// standInFeatures is a crude contrast-invariant grey image: |luma − median| scaled to [0,1], and a
// constant 1 for the bias.
func standInFeatures(img []float32) []float64 {
	g := make([]float64, 1024, 1025)
	for i := range g {
		g[i] = 0.299*float64(img[i]) + 0.587*float64(img[1024+i]) + 0.114*float64(img[2048+i])
	}
	s := slices.Clone(g)
	slices.Sort(s)
	med, top := s[512], 1e-6
	for i := range g {
		g[i] = math.Abs(g[i] - med)
		top = max(top, g[i])
	}
	for i := range g {
		g[i] /= top
	}
	return append(g, 1)
}

// TestStandInLearnable checks that the labels can be learnt from the images: even softmax regression
// on crude features, trained for a second, classifies held-out images far above chance (10%). (A
// small CNN does much better; see the package's report.)
func TestStandInLearnable(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a classifier for about a second")
	}
	train, test := StandIn(1500, "train", 1), StandIn(500, "test", 1)
	x := make([][]float64, train.N)
	for i := range x {
		x[i] = standInFeatures(train.Image(i))
	}
	w := make([][]float64, 10)
	for k := range w {
		w[k] = make([]float64, 1025)
	}
	scores := func(f []float64, p []float64) {
		for k := range 10 {
			var s float64
			for j, v := range f {
				s += w[k][j] * v
			}
			p[k] = s
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	p := make([]float64, 10)
	for range 8 {
		for _, i := range rng.Perm(train.N) {
			scores(x[i], p)
			top := slices.Max(p)
			var z float64
			for k := range p {
				p[k] = math.Exp(p[k] - top)
				z += p[k]
			}
			for k := range 10 {
				g := p[k] / z
				if k == train.Labels[i] {
					g--
				}
				for j, v := range x[i] {
					w[k][j] -= 0.05 * g * v
				}
			}
		}
	}
	correct := 0
	for i := range test.N {
		scores(standInFeatures(test.Image(i)), p)
		if slices.Index(p, slices.Max(p)) == test.Labels[i] {
			correct++
		}
	}
	acc := float64(correct) / float64(test.N)
	t.Logf("softmax regression: held-out accuracy %.3f", acc)
	if acc < 0.6 {
		t.Errorf("held-out accuracy %.3f, want ≥ 0.6", acc)
	}
}

func TestWriteStandInLoad(t *testing.T) {
	dir := t.TempDir()
	if err := WriteStandIn(dir, 30, 12, 4); err != nil {
		t.Fatal(err)
	}
	for split, n := range map[string]int{"train": 30, "test": 12} {
		raw, err := os.ReadFile(filepath.Join(dir, split+"_32x32.mat"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw[:116]), StandInMarker) || string(raw[126:128]) != "IM" {
			t.Errorf("%s: header %q lacks the stand-in marker", split, raw[:128])
		}
		s, err := Load(split, Options{Dir: dir, CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		want := StandIn(n, split, 4)
		if s.Name != "svhn-standin-"+split || !strings.Contains(s.Source, "NOT SVHN") {
			t.Errorf("Name %q Source %q", s.Name, s.Source)
		}
		if !slices.Equal(s.Images, want.Images) || !slices.Equal(s.Labels, want.Labels) {
			t.Errorf("%s: Load did not give back StandIn's images", split)
		}
	}
}
