package oodsets

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/confcal/confcal/dataset"
)

// TestStandIn checks the stand-ins' shape, names, range, determinism and that each image has
// content (is not flat).
func TestStandIn(t *testing.T) {
	for _, tc := range []struct {
		src        Source
		name, what string
	}{
		{TinyImageNet, "tinyimagenet-standin", "NOT TinyImageNet (resize)"},
		{LSUN, "lsun-standin", "NOT LSUN (resize)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := StandIn(tc.src, 30, 4)
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
			if s.N != 30 || s.C != 3 || s.H != Size || s.W != Size || s.Name != tc.name ||
				!strings.HasPrefix(s.Source, "generated stand-in, "+tc.what) || !strings.Contains(s.Source, "seed 4") {
				t.Fatalf("N=%d C=%d H=%d W=%d Name=%q Source=%q", s.N, s.C, s.H, s.W, s.Name, s.Source)
			}
			for i := range s.N {
				if s.Labels[i] != -1 {
					t.Fatalf("label %d = %d", i, s.Labels[i])
				}
				img := s.Image(i)
				var sum, sum2 float64
				for _, v := range img {
					if v < 0 || v > 1 || math.IsNaN(float64(v)) {
						t.Fatalf("image %d: value %v outside [0,1]", i, v)
					}
					sum += float64(v)
					sum2 += float64(v) * float64(v)
				}
				m := sum / float64(len(img))
				if sd := math.Sqrt(sum2/float64(len(img)) - m*m); sd < 0.05 {
					t.Errorf("image %d is nearly flat (sd %.3f)", i, sd)
				}
			}
			if again := StandIn(tc.src, 30, 4); !slicesEqual(again.Images, s.Images) {
				t.Error("the same seed gave different images")
			}
			if prefix := StandIn(tc.src, 7, 4); !slicesEqual(prefix.Images, s.Images[:len(prefix.Images)]) {
				t.Error("StandIn(n=7) is not a prefix of StandIn(n=30)")
			}
			if other := StandIn(tc.src, 30, 5); slicesEqual(other.Images, s.Images) {
				t.Error("different seeds gave the same images")
			}
			if empty := StandIn(tc.src, 0, 4); empty.N != 0 || empty.Check() != nil {
				t.Errorf("n=0: N=%d", empty.N)
			}
		})
	}
	for _, bad := range []func(){
		func() { StandIn(Source{Name: "cifar10"}, 1, 1) },
		func() { StandIn(LSUN, -1, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			bad()
		}()
	}
}

// bandRatio returns, for each image of s, the variance of its luminance's row means over that of
// its column means: large for images made of horizontal bands.
func bandRatio(s *dataset.Set) []float64 {
	plane := Size * Size
	var out []float64
	for i := range s.N {
		img := s.Image(i)
		var rows, cols [Size]float64
		for y := range Size {
			for x := range Size {
				k := y*Size + x
				l := 0.299*float64(img[k]) + 0.587*float64(img[plane+k]) + 0.114*float64(img[2*plane+k])
				rows[y] += l / Size
				cols[x] += l / Size
			}
		}
		out = append(out, variance(rows[:])/(variance(cols[:])+1e-12))
	}
	return out
}

func variance(v []float64) float64 {
	var m, m2 float64
	for _, x := range v {
		m += x
		m2 += x * x
	}
	m /= float64(len(v))
	return m2/float64(len(v)) - m*m
}

func median(v []float64) float64 {
	c := slices.Clone(v)
	slices.Sort(c)
	return c[len(c)/2]
}

// TestStandInStatistics checks that the two stand-ins differ as intended: the LSUN scenes are made
// of horizontal bands (sky, wall, floor), the TinyImageNet objects are not. Measured on these 300
// images each: median band ratio 31.9 (LSUN) and 1.01 (TinyImageNet).
func TestStandInStatistics(t *testing.T) {
	lsun := median(bandRatio(StandIn(LSUN, 300, 1)))
	tiny := median(bandRatio(StandIn(TinyImageNet, 300, 1)))
	t.Logf("median band ratio: LSUN stand-in %.2f, TinyImageNet stand-in %.2f", lsun, tiny)
	if lsun < 10 || tiny > 3 {
		t.Errorf("median band ratio: LSUN stand-in %.2f (want ≥ 10), TinyImageNet stand-in %.2f (want ≤ 3)", lsun, tiny)
	}
}

// TestWriteStandIn writes stand-in archives and reads them back with Load: the archive has the
// real layout, Load names the set as a stand-in, and the pixels are the stand-in's up to JPEG's
// loss (the tolerances of TestRoundTrip).
func TestWriteStandIn(t *testing.T) {
	for _, tc := range []struct {
		src        Source
		maxMeanAbs float64
	}{{TinyImageNet, 0.055}, {LSUN, 0.04}} {
		t.Run(tc.src.Name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := WriteStandIn(dir, tc.src, 40, 9)
			if err != nil {
				t.Fatal(err)
			}
			if p != filepath.Join(dir, tc.src.Remote.Name) {
				t.Errorf("wrote %s, want %s", p, filepath.Join(dir, tc.src.Remote.Name))
			}
			names := archiveNames(t, p)
			inner := tc.src.Folder + "/" + tc.src.Folder + "/"
			jpegs := 0
			for _, n := range names {
				if strings.HasPrefix(n, inner) && strings.HasSuffix(n, ".jpg") {
					jpegs++
				}
			}
			if jpegs != 40 || !slices.Contains(names, tc.src.Folder+"/STAND-IN.txt") {
				t.Errorf("archive entries %v: want 40 JPEGs in %s and %s/STAND-IN.txt", names, inner, tc.src.Folder)
			}
			s, err := Load(tc.src, Options{Dir: dir, CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if s.N != 40 || s.Name != tc.src.Name+"-standin" || !strings.HasPrefix(s.Source, "generated stand-in, NOT "+tc.src.Title) ||
				!strings.Contains(s.Source, "seed 9") || !strings.Contains(s.Source, p) {
				t.Fatalf("N=%d Name=%q Source=%q", s.N, s.Name, s.Source)
			}
			ref := StandIn(tc.src, 40, 9)
			for i := range s.N {
				sum := 0.0
				for k, v := range s.Image(i) {
					sum += math.Abs(float64(v - ref.Image(i)[k]))
				}
				if m := sum / float64(3*Size*Size); m > tc.maxMeanAbs {
					t.Errorf("image %d: mean abs difference %.4f from the stand-in, limit %v", i, m, tc.maxMeanAbs)
				}
			}
			// The extracted archive reads the same, and is still marked a stand-in.
			ex := t.TempDir()
			extract(t, p, ex)
			se, err := Load(tc.src, Options{Dir: ex, CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if se.Name != s.Name || !strings.HasPrefix(se.Source, "generated stand-in, NOT ") || !slicesEqual(se.Images, s.Images) {
				t.Errorf("extracted: Name %q Source %q, images equal %v", se.Name, se.Source, slicesEqual(se.Images, s.Images))
			}
		})
	}
	if _, err := WriteStandIn(t.TempDir(), LSUN, 0, 1); err == nil {
		t.Error("n=0 accepted")
	}
	if _, err := WriteStandIn(t.TempDir(), Source{Name: "svhn", Folder: "svhn", Remote: dataset.Remote{Name: "svhn.tar.gz"}}, 3, 1); err == nil {
		t.Error("a source without a stand-in accepted")
	}
}

// archiveNames lists the entries of the tar.gz at p.
func archiveNames(t *testing.T, p string) []string {
	t.Helper()
	var names []string
	walkArchive(t, p, func(h *tar.Header, _ io.Reader) { names = append(names, h.Name) })
	return names
}

// extract writes the regular files and directories of the tar.gz at p below dir.
func extract(t *testing.T, p, dir string) {
	t.Helper()
	walkArchive(t, p, func(h *tar.Header, r io.Reader) {
		dst := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func walkArchive(t *testing.T, p string, f func(*tar.Header, io.Reader)) {
	t.Helper()
	file, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	zr, err := gzip.NewReader(file)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		f(h, tr)
	}
}
