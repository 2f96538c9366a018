package oodsets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/confcal/confcal/dataset"
)

// tarEntry is an entry of a hand-made archive.
type tarEntry struct {
	name string
	typ  byte // tar.TypeReg when 0
	data []byte
}

// tarGz returns a gzipped tar of entries, built with the standard library only.
func tarGz(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.data))}
		switch e.typ {
		case 0:
			h.Typeflag = tar.TypeReg
		case tar.TypeSymlink:
			h.Linkname, h.Size = "elsewhere.jpg", 0
		case tar.TypeDir:
			h.Mode, h.Size = 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write(e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// solidJPEG encodes a w×h image of the single colour c.
func solidJPEG(t testing.TB, w, h int, c color.RGBA, quality int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		copy(m.Pix[i:i+4], []byte{c.R, c.G, c.B, 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeArchiveFile writes data as dir/<src.Remote.Name> and returns its path.
func writeArchiveFile(t testing.TB, dir string, src Source, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, src.Remote.Name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadDir loads src from dir (and an empty cache of its own, no download).
func loadDir(t testing.TB, src Source, dir string, n int) (*dataset.Set, error) {
	return Load(src, Options{Subset: true, Dir: dir, CacheDir: t.TempDir(), N: n})
}

// meanColour returns the mean of each channel of image i of s.
func meanColour(s *dataset.Set, i int) [3]float64 {
	var m [3]float64
	img := s.Image(i)
	plane := s.H * s.W
	for c := range 3 {
		for _, v := range img[c*plane : (c+1)*plane] {
			m[c] += float64(v)
		}
		m[c] /= float64(plane)
	}
	return m
}

// TestLoadSolidColourExact checks the decoded pixels of hand-made solid-colour JPEGs against
// image/jpeg's own decoding of the same bytes (exactly) and against the colour encoded (within the
// rounding of JPEG's colour conversion).
func TestLoadSolidColourExact(t *testing.T) {
	colours := []color.RGBA{{200, 30, 90, 255}, {0, 0, 0, 255}, {255, 255, 255, 255}, {17, 160, 240, 255}, {128, 128, 128, 255}}
	var entries []tarEntry
	var files [][]byte
	for i, c := range colours {
		b := solidJPEG(t, Size, Size, c, 95)
		files = append(files, b)
		entries = append(entries, tarEntry{name: fmt.Sprintf("Imagenet_resize/Imagenet_resize/%d.jpg", i), data: b})
	}
	dir := t.TempDir()
	p := writeArchiveFile(t, dir, TinyImageNet, tarGz(t, entries...))
	s, err := loadDir(t, TinyImageNet, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != len(colours) || s.C != 3 || s.H != Size || s.W != Size || s.Check() != nil {
		t.Fatalf("got N=%d C=%d H=%d W=%d", s.N, s.C, s.H, s.W)
	}
	if s.Name != "tinyimagenet" || !strings.Contains(s.Source, p) {
		t.Errorf("Name %q, Source %q: want tinyimagenet and the archive's path", s.Name, s.Source)
	}
	for i, c := range colours {
		if s.Labels[i] != -1 {
			t.Errorf("label %d = %d, want -1", i, s.Labels[i])
		}
		ref, err := jpeg.Decode(bytes.NewReader(files[i]))
		if err != nil {
			t.Fatal(err)
		}
		img := s.Image(i)
		want := [3]uint8{c.R, c.G, c.B}
		for y := range Size {
			for x := range Size {
				rc := color.RGBAModel.Convert(ref.At(x, y)).(color.RGBA)
				for ch, v := range [3]uint8{rc.R, rc.G, rc.B} {
					got := img[ch*Size*Size+y*Size+x]
					if got != float32(v)/255 {
						t.Fatalf("image %d channel %d pixel (%d,%d) = %v, image/jpeg decodes %d/255", i, ch, x, y, got, v)
					}
					if d := math.Abs(float64(got)*255 - float64(want[ch])); d > 2 {
						t.Fatalf("image %d channel %d pixel (%d,%d) = %.1f/255, encoded %d/255", i, ch, x, y, float64(got)*255, want[ch])
					}
				}
			}
		}
	}
}

// smoothSet returns n 3×h×w images of smooth gradients (little for JPEG to lose).
func smoothSet(n, c, h, w int) *dataset.Set {
	s := &dataset.Set{Images: make([]float32, n*c*h*w), Labels: make([]int, n), N: n, C: c, H: h, W: w, Name: "smooth"}
	for i := range n {
		img := s.Image(i)
		for ch := range c {
			for y := range h {
				for x := range w {
					img[(ch*h+y)*w+x] = float32(0.15 + 0.7*(0.5+0.5*math.Sin(0.1*float64(x)+0.05*float64((ch+1)*y)+float64(i+ch))))
				}
			}
		}
		s.Labels[i] = -1
	}
	return s
}

// TestRoundTrip writes sets with WriteArchive and reads them back with Load. JPEG is lossy, so
// the comparison has tolerances: about 1.5 times the errors measured on these (deterministic)
// fixtures with image/jpeg of Go 1.26 (worst mean absolute error per image / worst pixel):
// stand-ins at quality 90 0.035/0.45 (TinyImageNet) and 0.025/0.34 (LSUN), the pixel noise being
// lost and saturated edges blurred by 4:2:0 chroma subsampling; smooth colour gradients at
// quality 95 0.014/0.084; smooth grey gradients at quality 90 0.0023/0.0095.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		set        *dataset.Set
		quality    int
		maxMeanAbs float64 // per image
		maxAbs     float64 // per pixel
	}{
		{"tinyimagenet-standin-q90", StandIn(TinyImageNet, 24, 5), 90, 0.055, 0.7},
		{"lsun-standin-q90", StandIn(LSUN, 24, 5), 90, 0.04, 0.5},
		{"smooth-rgb-q95", smoothSet(6, 3, Size, Size), 95, 0.021, 0.13},
		{"smooth-grey-q90", smoothSet(6, 1, Size, Size), 90, 0.004, 0.015},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteArchive(filepath.Join(dir, LSUN.Remote.Name), "LSUN_resize/LSUN_resize", tc.set, tc.quality); err != nil {
				t.Fatal(err)
			}
			s, err := loadDir(t, LSUN, dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			if s.N != tc.set.N || s.C != 3 || s.Name != "lsun" {
				t.Fatalf("N=%d C=%d Name=%q, want N=%d C=3 lsun", s.N, s.C, s.Name, tc.set.N)
			}
			plane := Size * Size
			worstMean, worst := 0.0, 0.0
			for i := range s.N {
				got, want := s.Image(i), tc.set.Image(i)
				sum := 0.0
				for ch := range 3 {
					wc := min(ch, tc.set.C-1) // grey images: every channel is the grey one
					for k := range plane {
						d := math.Abs(float64(got[ch*plane+k] - want[wc*plane+k]))
						sum += d
						worst = max(worst, d)
					}
				}
				worstMean = max(worstMean, sum/float64(3*plane))
				if tc.set.C == 1 {
					for k := range plane {
						if got[k] != got[plane+k] || got[k] != got[2*plane+k] {
							t.Fatalf("grey image %d: channels differ at %d", i, k)
						}
					}
				}
			}
			t.Logf("worst mean abs error per image %.4f, worst pixel %.4f", worstMean, worst)
			if worstMean > tc.maxMeanAbs || worst > tc.maxAbs {
				t.Errorf("worst mean abs error per image %.4f (limit %v), worst pixel %.4f (limit %v)", worstMean, tc.maxMeanAbs, worst, tc.maxAbs)
			}
		})
	}
}

// TestGreyJPEG reads a greyscale (1-component) JPEG: three equal channels, equal to image/jpeg's
// decoding of the same bytes.
func TestGreyJPEG(t *testing.T) {
	m := image.NewGray(image.Rect(0, 0, Size, Size))
	for y := range Size {
		for x := range Size {
			m.Pix[y*Size+x] = uint8(4*x + 3*y)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	ref, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ref.(*image.Gray); !ok {
		t.Fatalf("image/jpeg decoded a %T, want *image.Gray (the fixture is not a grey JPEG)", ref)
	}
	dir := t.TempDir()
	writeArchiveFile(t, dir, LSUN, tarGz(t, tarEntry{name: "LSUN_resize/LSUN_resize/g.jpg", data: buf.Bytes()}))
	s, err := loadDir(t, LSUN, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 1 || s.C != 3 {
		t.Fatalf("N=%d C=%d, want 1 image of 3 channels", s.N, s.C)
	}
	img := s.Image(0)
	for y := range Size {
		for x := range Size {
			want := float32(ref.(*image.Gray).GrayAt(x, y).Y) / 255
			for ch := range 3 {
				if got := img[ch*Size*Size+y*Size+x]; got != want {
					t.Fatalf("channel %d pixel (%d,%d) = %v, want %v", ch, x, y, got, want)
				}
			}
			if d := math.Abs(float64(img[y*Size+x])*255 - float64(m.Pix[y*Size+x])); d > 2 {
				t.Fatalf("pixel (%d,%d) = %.1f/255, encoded %d", x, y, float64(img[y*Size+x])*255, m.Pix[y*Size+x])
			}
		}
	}
}

// The colours of the nested-folder fixtures, by file.
var (
	red   = color.RGBA{220, 20, 20, 255}
	green = color.RGBA{20, 200, 40, 255}
	blue  = color.RGBA{30, 40, 210, 255}
	white = color.RGBA{250, 250, 250, 255}
)

// checkColours fails unless image i of s has about the colour want[i].
func checkColours(t *testing.T, s *dataset.Set, want []color.RGBA) {
	t.Helper()
	if s.N != len(want) {
		t.Fatalf("%d images, want %d", s.N, len(want))
	}
	for i, c := range want {
		m := meanColour(s, i)
		for ch, v := range [3]uint8{c.R, c.G, c.B} {
			if math.Abs(m[ch]*255-float64(v)) > 3 {
				t.Fatalf("image %d has mean colour %.0f, want %v (wrong order or wrong pixels)", i, [3]float64{m[0] * 255, m[1] * 255, m[2] * 255}, c)
			}
		}
	}
}

func pngBytes(t *testing.T, c color.RGBA) []byte {
	m := image.NewRGBA(image.Rect(0, 0, Size, Size))
	for i := 0; i < len(m.Pix); i += 4 {
		copy(m.Pix[i:i+4], []byte{c.R, c.G, c.B, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestNestedFolders finds images at any depth, orders them by path, and skips directories,
// symbolic links, AppleDouble files and files that are not images.
func TestNestedFolders(t *testing.T) {
	jr, jg, jb := solidJPEG(t, Size, Size, red, 95), solidJPEG(t, Size, Size, green, 95), solidJPEG(t, Size, Size, blue, 95)
	pw := pngBytes(t, white)
	// Sorted by path: LSUN_resize/LSUN_resize/m.jpeg, …/z.png, LSUN_resize/a/b/c/deep.JPG, top.jpg.
	want := []color.RGBA{blue, white, green, red}

	t.Run("archive", func(t *testing.T) {
		dir := t.TempDir()
		writeArchiveFile(t, dir, LSUN, tarGz(t,
			tarEntry{name: "top.jpg", data: jr},
			tarEntry{name: "LSUN_resize/", typ: tar.TypeDir},
			tarEntry{name: "LSUN_resize/a/b/c/deep.JPG", data: jg},
			tarEntry{name: "LSUN_resize/README.txt", data: []byte("not an image")},
			tarEntry{name: "LSUN_resize/._m.jpeg", data: []byte("\x00\x05\x16\x07 AppleDouble")},
			tarEntry{name: "LSUN_resize/LSUN_resize/link.jpg", typ: tar.TypeSymlink},
			tarEntry{name: "LSUN_resize/notes.jpg/", typ: tar.TypeDir},
			tarEntry{name: "./LSUN_resize/LSUN_resize/z.png", data: pw},
			tarEntry{name: "LSUN_resize/LSUN_resize/m.jpeg", data: jb},
		))
		s, err := loadDir(t, LSUN, dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkColours(t, s, want[:])
	})

	// The same images extracted: Dir holding the folder, and Dir being the folder.
	dir := t.TempDir()
	files := map[string][]byte{
		"LSUN_resize/a/b/c/deep.JPG":      jg,
		"LSUN_resize/README.txt":          []byte("not an image"),
		"LSUN_resize/._m.jpeg":            []byte("\x00\x05\x16\x07 AppleDouble"),
		"LSUN_resize/LSUN_resize/z.png":   pw,
		"LSUN_resize/LSUN_resize/m.jpeg":  jb,
		"other/ignored.jpg":               []byte("outside the folder: never read"),
		"LSUN_resize/notes.jpg/inner.txt": []byte("a folder with an image's name"),
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"LSUN_resize/LSUN_resize/n-link.jpg":   "LSUN_resize/LSUN_resize/m.jpeg", // the same file as m.jpeg
		"LSUN_resize/LSUN_resize/dangling.jpg": "LSUN_resize/LSUN_resize/gone.jpg",
		"LSUN_resize/LSUN_resize/dir-link.jpg": "LSUN_resize/a",
	} {
		if err := os.Symlink(filepath.Join(dir, target), filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	// Sorted: m.jpeg, z.png, a/b/c/deep.JPG; n-link.jpg leads to m.jpeg, which counts once.
	wantDir := []color.RGBA{blue, white, green}
	for _, tc := range []struct{ name, dir string }{
		{"folder-in-dir", dir},
		{"dir-is-folder", filepath.Join(dir, "LSUN_resize")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := loadDir(t, LSUN, tc.dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkColours(t, s, wantDir)
			if !strings.Contains(s.Source, filepath.Join(dir, "LSUN_resize")) {
				t.Errorf("Source %q does not name the folder", s.Source)
			}
		})
	}
}

// validArchive returns a tar.gz of n solid-colour 32×32 JPEGs in TinyImageNet's layout, image i
// of grey level 20·i+10, with their entry names.
func validArchive(t testing.TB, n int) ([]byte, []string) {
	var entries []tarEntry
	var names []string
	for i := range n {
		v := uint8(20*i + 10)
		name := fmt.Sprintf("Imagenet_resize/Imagenet_resize/%03d.jpg", i)
		names = append(names, name)
		entries = append(entries, tarEntry{name: name, data: solidJPEG(t, Size, Size, color.RGBA{v, v, v, 255}, 95)})
	}
	return tarGz(t, entries...), names
}

// TestLoadErrors checks that bad archives and images are errors naming the archive, the entry
// where there is one, and what is wrong.
func TestLoadErrors(t *testing.T) {
	good := solidJPEG(t, Size, Size, red, 90)
	valid, _ := validArchive(t, 4)
	const folder = "Imagenet_resize/Imagenet_resize/"
	flipped := bytes.Clone(valid)
	for i := len(flipped) / 3; i < len(flipped)/3+24; i++ {
		flipped[i] ^= 0x5a
	}
	for _, tc := range []struct {
		name    string
		archive []byte
		want    []string // substrings of the error besides the archive's path
	}{
		{"wrong-size", tarGz(t,
			tarEntry{name: folder + "a.jpg", data: good},
			tarEntry{name: folder + "b.jpg", data: solidJPEG(t, 16, 16, red, 90)}),
			[]string{folder + "b.jpg", "16×16", "want 32×32"}},
		{"wrong-size-not-square", tarGz(t, tarEntry{name: folder + "w.jpg", data: solidJPEG(t, 64, 48, red, 90)}),
			[]string{folder + "w.jpg", "64×48"}},
		{"wrong-height", tarGz(t, tarEntry{name: folder + "h.jpg", data: solidJPEG(t, 32, 31, red, 90)}),
			[]string{folder + "h.jpg", "32×31"}},
		{"not-a-jpeg", tarGz(t,
			tarEntry{name: folder + "a.jpg", data: good},
			tarEntry{name: folder + "bad.jpg", data: []byte("this is not a JPEG at all")}),
			[]string{folder + "bad.jpg", "not a readable"}},
		{"truncated-jpeg", tarGz(t, tarEntry{name: folder + "cut.jpg", data: good[:len(good)/2]}),
			[]string{folder + "cut.jpg", "corrupt or truncated"}},
		{"first-bad-by-path", tarGz(t,
			tarEntry{name: folder + "z.jpg", data: []byte("bad too")},
			tarEntry{name: folder + "b.jpg", data: good},
			tarEntry{name: folder + "m.jpg", data: []byte("bad")},
			tarEntry{name: folder + "a.jpg", data: good}),
			[]string{folder + "m.jpg:"}},
		{"image-entry-too-large", tarGz(t, tarEntry{name: folder + "huge.jpg", data: make([]byte, maxEntryBytes+1)}),
			[]string{folder + "huge.jpg", "bytes"}},
		{"truncated-archive", valid[:len(valid)*2/3], []string{"truncated"}},
		{"truncated-gzip-footer", valid[:len(valid)-4], []string{"truncated"}},
		{"corrupt-gzip", flipped, []string{"corrupt"}},
		{"not-gzip", []byte("PK\x03\x04 a zip file, say"), []string{"not a gzip file"}},
		{"zero-bytes", nil, []string{"not a gzip file"}},
		{"no-images", tarGz(t,
			tarEntry{name: "Imagenet_resize/", typ: tar.TypeDir},
			tarEntry{name: "Imagenet_resize/README", data: []byte("nothing here")}),
			[]string{"no images"}},
		{"empty-tar", tarGz(t), []string{"no images"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeArchiveFile(t, dir, TinyImageNet, tc.archive)
			s, err := loadDir(t, TinyImageNet, dir, 0)
			if err == nil {
				t.Fatalf("no error; got %d images", s.N)
			}
			for _, w := range append([]string{p}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestFirstBadImage checks that, with several bad images decoded on several goroutines, the error
// always names the first bad one by path.
func TestFirstBadImage(t *testing.T) {
	good := solidJPEG(t, Size, Size, red, 90)
	var entries []tarEntry
	for i := range 96 {
		e := tarEntry{name: fmt.Sprintf("LSUN_resize/LSUN_resize/%02d.jpg", i), data: good}
		if i >= 13 && i%3 != 2 { // 13, 15, 16, 18, 19, …
			e.data = good[:len(good)-12] // truncated: fails late, as slow to decode as a good one
		}
		entries = append(entries, e)
	}
	dir := t.TempDir()
	writeArchiveFile(t, dir, LSUN, tarGz(t, entries...))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(6))
	for range 20 {
		_, err := loadDir(t, LSUN, dir, 0)
		if err == nil || !strings.Contains(err.Error(), "LSUN_resize/LSUN_resize/13.jpg:") {
			t.Fatalf("error %v, want one naming LSUN_resize/LSUN_resize/13.jpg", err)
		}
	}
}

// TestLoadN checks Options.N: the first N images by path.
func TestLoadN(t *testing.T) {
	archive, _ := validArchive(t, 7)
	dir := t.TempDir()
	writeArchiveFile(t, dir, TinyImageNet, archive)
	for _, tc := range []struct{ n, want int }{{0, 7}, {1, 1}, {3, 3}, {6, 6}, {7, 7}, {100, 7}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			s, err := loadDir(t, TinyImageNet, dir, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if s.N != tc.want || len(s.Labels) != tc.want || len(s.Images) != tc.want*3*Size*Size {
				t.Fatalf("N=%d (%d labels, %d values), want %d images", s.N, len(s.Labels), len(s.Images), tc.want)
			}
			for i := range s.N {
				if m := meanColour(s, i); math.Abs(m[0]*255-float64(20*i+10)) > 2 {
					t.Errorf("image %d has grey level %.1f, want %d", i, m[0]*255, 20*i+10)
				}
			}
			if limited := strings.Contains(s.Source, fmt.Sprintf("first %d of 7", tc.want)); limited != (tc.want < 7) {
				t.Errorf("Source %q", s.Source)
			}
		})
	}
	if _, err := loadDir(t, TinyImageNet, dir, -1); err == nil || !strings.Contains(err.Error(), "Options.N") {
		t.Errorf("N=-1: error %v, want one about Options.N", err)
	}
}

// TestDeterminism checks that WriteArchive writes the same bytes twice and that Load gives the
// same set on one core and on several.
func TestDeterminism(t *testing.T) {
	s := StandIn(LSUN, 200, 11)
	dir1, dir2 := t.TempDir(), t.TempDir()
	for _, d := range []string{dir1, dir2} {
		if err := WriteArchive(filepath.Join(d, LSUN.Remote.Name), "LSUN_resize/LSUN_resize", s, 85); err != nil {
			t.Fatal(err)
		}
	}
	b1, err1 := os.ReadFile(filepath.Join(dir1, LSUN.Remote.Name))
	b2, err2 := os.ReadFile(filepath.Join(dir2, LSUN.Remote.Name))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !bytes.Equal(b1, b2) {
		t.Error("WriteArchive wrote different bytes for the same set")
	}
	var sets []*dataset.Set
	for _, procs := range []int{1, 4, 7} {
		old := runtime.GOMAXPROCS(procs)
		l, err := loadDir(t, LSUN, dir1, 0)
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, l)
	}
	for _, l := range sets[1:] {
		if l.N != sets[0].N || l.Source != sets[0].Source || !slicesEqual(l.Images, sets[0].Images) {
			t.Fatal("Load gave different sets with different GOMAXPROCS")
		}
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestWriteArchiveErrors checks the arguments WriteArchive refuses, and that it then leaves no file.
func TestWriteArchiveErrors(t *testing.T) {
	ok := smoothSet(2, 3, Size, Size)
	twoChannels := smoothSet(2, 2, Size, Size)
	broken := smoothSet(2, 3, Size, Size)
	broken.N = 3
	for _, tc := range []struct {
		name    string
		folder  string
		set     *dataset.Set
		quality int
		want    string
	}{
		{"quality-0", "f", ok, 0, "quality"},
		{"quality-101", "f", ok, 101, "quality"},
		{"two-channels", "f", twoChannels, 90, "channels"},
		{"broken-set", "f", broken, 90, "pixel values"},
		{"nil-set", "f", nil, 90, "no set"},
		{"empty-folder", "", ok, 90, "folder"},
		{"absolute-folder", "/abs", ok, 90, "folder"},
		{"parent-folder", "../up", ok, 90, "folder"},
		{"unclean-folder", "a//b", ok, 90, "folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.tar.gz")
			err := WriteArchive(p, tc.folder, tc.set, tc.quality)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v, want one naming %s and mentioning %q", err, p, tc.want)
			}
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s exists after a failed write", p)
			}
		})
	}
}
