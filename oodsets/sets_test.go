package oodsets

import (
	"crypto/md5"
	"encoding/hex"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/confcal/confcal/dataset"
)

// TestSources checks the two published archives against the ODIN repository's README
// (github.com/facebookresearch/odin) and the MD5s torchvision-style loaders check them with.
func TestSources(t *testing.T) {
	for _, tc := range []struct {
		src                     Source
		name, folder, file, md5 string
		dropboxID               string
	}{
		{TinyImageNet, "tinyimagenet", "Imagenet_resize", "Imagenet_resize.tar.gz", "0f9ff11d45babf2eff5fe12281d1ac31", "kp3my3412u5k9rl"},
		{LSUN, "lsun", "LSUN_resize", "LSUN_resize.tar.gz", "278b7b31c8cb7e804a1465a8ce03a2dc", "moqh2wh8696c3yl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.src
			if s.Name != tc.name || s.Folder != tc.folder || s.Remote.Name != tc.file || s.Remote.MD5 != tc.md5 || s.Images != 10000 {
				t.Errorf("got %+v", s)
			}
			if err := s.check(); err != nil {
				t.Error(err)
			}
			if len(s.Remote.URLs) == 0 {
				t.Fatal("no URLs")
			}
			for _, u := range s.Remote.URLs {
				if !strings.HasPrefix(u, "https://www.dropbox.com/s/") || !strings.Contains(u, "/"+tc.dropboxID+"/"+tc.file) {
					t.Errorf("URL %s is not the ODIN README's Dropbox link %s/%s", u, tc.dropboxID, tc.file)
				}
			}
		})
	}
	for _, bad := range []Source{{}, {Name: "x", Folder: "a/b", Remote: dataset.Remote{Name: "x.tar.gz"}}, {Name: "x", Folder: "f"}} {
		if _, err := Load(bad, Options{CacheDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "Source") {
			t.Errorf("Load(%+v): error %v, want one about the Source", bad, err)
		}
	}
}

// TestGaussianNoise checks the shape of the noise and its moments against values computed here
// from the normal distribution: N(0.5, 1) clipped to [0,1] is 0 with probability Φ(−0.5) ≈ 0.3085,
// 1 with the same probability, has mean 0.5 and variance E[X²] − 0.25, E[X²] = Φ(−0.5) +
// ∫_{−0.5}^{0.5} (0.5+z)² φ(z) dz (≈ 0.1845).
func TestGaussianNoise(t *testing.T) {
	const n = 40
	s := GaussianNoise(n, 7)
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if s.N != n || s.C != 3 || s.H != Size || s.W != Size || s.Name != "gaussian-noise" || !strings.Contains(s.Source, "N(0.5,1)") {
		t.Fatalf("N=%d C=%d H=%d W=%d Name=%q Source=%q", s.N, s.C, s.H, s.W, s.Name, s.Source)
	}
	var sum, sum2 float64
	var zeros, ones int
	for _, v := range s.Images {
		if v < 0 || v > 1 {
			t.Fatalf("value %v outside [0,1]", v)
		}
		sum += float64(v)
		sum2 += float64(v) * float64(v)
		switch v {
		case 0:
			zeros++
		case 1:
			ones++
		}
	}
	for i, l := range s.Labels {
		if l != -1 {
			t.Fatalf("label %d = %d, want -1", i, l)
		}
	}
	m := float64(len(s.Images)) // 122,880 values
	tail := 0.5 * math.Erfc(0.5/math.Sqrt2)
	phi := func(z float64) float64 { return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) }
	// Simpson's rule on [−0.5, 0.5].
	const steps = 1000
	integral := 0.0
	for k := 0; k <= steps; k++ {
		z := -0.5 + float64(k)/steps
		w := 2.0
		if k == 0 || k == steps {
			w = 1
		} else if k%2 == 1 {
			w = 4
		}
		integral += w * (0.5 + z) * (0.5 + z) * phi(z)
	}
	integral /= 3 * steps
	wantVar := tail + integral - 0.25
	mean, variance := sum/m, sum2/m-(sum/m)*(sum/m)
	// Standard errors: mean √(0.185/m) ≈ 0.0012, shares √(0.31·0.69/m) ≈ 0.0013; 5σ or more.
	for _, c := range []struct {
		what      string
		got, want float64
		tol       float64
	}{
		{"mean", mean, 0.5, 0.007},
		{"variance", variance, wantVar, 0.006},
		{"share of 0s", float64(zeros) / m, tail, 0.007},
		{"share of 1s", float64(ones) / m, tail, 0.007},
	} {
		if math.Abs(c.got-c.want) > c.tol {
			t.Errorf("%s = %.4f, want %.4f ± %v", c.what, c.got, c.want, c.tol)
		}
	}
	if again := GaussianNoise(n, 7); !slicesEqual(again.Images, s.Images) {
		t.Error("the same seed gave different noise")
	}
	if other := GaussianNoise(n, 8); slicesEqual(other.Images, s.Images) {
		t.Error("different seeds gave the same noise")
	}
	defer func() {
		if recover() == nil {
			t.Error("GaussianNoise(-1, …) did not panic")
		}
	}()
	GaussianNoise(-1, 1)
}

// serveArchive serves body at /<name> and counts the requests.
func serveArchive(t *testing.T, name string, body []byte) (url string, requests *atomic.Int64) {
	requests = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path != "/"+name {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + name, requests
}

// deadURL returns a URL on which nothing listens (a closed port on the loopback interface).
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/LSUN_resize.tar.gz"
}

// TestDownload downloads an archive from a local server into the cache: with the right MD5 the set
// loads (after a dead URL) and the second Load uses the cache; with a wrong MD5 nothing is cached
// and the error says why.
func TestDownload(t *testing.T) {
	stage := t.TempDir()
	p, err := WriteStandIn(stage, LSUN, 12, 3)
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	url, requests := serveArchive(t, LSUN.Remote.Name, body)
	dead := deadURL(t)
	src := LSUN
	src.Remote.URLs = []string{dead, url}

	t.Run("right-md5", func(t *testing.T) {
		requests.Store(0)
		src.Remote.MD5 = hex.EncodeToString(sum[:])
		cache := filepath.Join(t.TempDir(), "cache")
		var progress strings.Builder
		s, err := Load(src, Options{CacheDir: cache, Download: true, Progress: &progress, N: 5})
		if err != nil {
			t.Fatal(err)
		}
		cached := filepath.Join(cache, LSUN.Remote.Name)
		if s.N != 5 || !strings.Contains(s.Source, cached) || s.Name != "lsun-standin" {
			t.Errorf("N=%d Name=%q Source=%q", s.N, s.Name, s.Source)
		}
		if !strings.Contains(progress.String(), "MD5 ok") {
			t.Errorf("progress %q", progress.String())
		}
		if err := dataset.Verify(cached, src.Remote); err != nil {
			t.Error(err)
		}
		if _, err := Load(src, Options{CacheDir: cache, Download: true, Progress: &progress}); err != nil {
			t.Fatal(err)
		}
		if n := requests.Load(); n != 1 {
			t.Errorf("%d requests, want 1 (the second Load should use the cache)", n)
		}
	})
	t.Run("wrong-md5", func(t *testing.T) {
		src.Remote.MD5 = strings.Repeat("0", 32)
		cache := t.TempDir()
		_, err := Load(src, Options{CacheDir: cache, Download: true, Progress: &strings.Builder{}})
		if err == nil {
			t.Fatal("no error")
		}
		for _, w := range []string{"MD5 mismatch", url, dead, filepath.Join(cache, LSUN.Remote.Name)} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not contain %q", err, w)
			}
		}
		if entries, _ := os.ReadDir(cache); len(entries) != 0 {
			t.Errorf("the cache holds %d files after a failed download", len(entries))
		}
	})
}

// TestOffline checks the errors when the set is nowhere and cannot be downloaded: they name the
// expected path, the URLs and every place tried.
func TestOffline(t *testing.T) {
	t.Run("download-off", func(t *testing.T) {
		cache, dir := t.TempDir(), t.TempDir()
		_, err := Load(TinyImageNet, Options{Subset: true, Dir: dir, CacheDir: cache})
		if err == nil {
			t.Fatal("no error")
		}
		for _, w := range []string{dir, "holds neither", filepath.Join(cache, "Imagenet_resize.tar.gz"), "downloading is off", TinyImageNet.Remote.URLs[0]} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not contain %q", err, w)
			}
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		src := LSUN
		dead := deadURL(t)
		src.Remote.URLs = []string{dead}
		cache := t.TempDir()
		_, err := Load(src, Options{CacheDir: cache, Download: true, Progress: &strings.Builder{}})
		if err == nil {
			t.Fatal("no error")
		}
		for _, w := range []string{dead, filepath.Join(cache, "LSUN_resize.tar.gz"), "could not be downloaded"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not contain %q", err, w)
			}
		}
	})
	t.Run("missing-dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nowhere")
		_, err := Load(LSUN, Options{Subset: true, Dir: dir, CacheDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), dir+" does not exist") {
			t.Errorf("error %v, want one saying %s does not exist", err, dir)
		}
	})
}

// TestCorruptCache checks that a corrupt archive in the cache is an error that names it and says
// to delete it.
func TestCorruptCache(t *testing.T) {
	cache := t.TempDir()
	p := filepath.Join(cache, LSUN.Remote.Name)
	if err := os.WriteFile(p, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Its MD5 is checked first.
	_, err := Load(LSUN, Options{CacheDir: cache})
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "MD5 mismatch") || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("error %v", err)
	}
	// A subset is not checked against the published MD5: its contents are.
	_, err = Load(LSUN, Options{CacheDir: cache, Subset: true})
	if err == nil || !strings.Contains(err.Error(), "delete "+p) || !strings.Contains(err.Error(), "not a gzip file") {
		t.Errorf("error %v", err)
	}
}

// TestRealArchives reads the real archives when they are in the cache ($CONFCAL_DATA or the user's
// cache directory); it is skipped otherwise and in -short mode.
func TestRealArchives(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, src := range []Source{TinyImageNet, LSUN} {
		t.Run(src.Name, func(t *testing.T) {
			dir, err := dataset.CacheDir("", src.Name)
			if err != nil {
				t.Skip(err)
			}
			p := filepath.Join(dir, src.Remote.Name)
			if _, err := os.Stat(p); err != nil {
				t.Skipf("%s not there", p)
			}
			if err := dataset.Verify(p, src.Remote); err != nil {
				t.Fatal(err)
			}
			s, err := Load(src, Options{CacheDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if s.N != src.Images || s.Name != src.Name || s.Check() != nil {
				t.Fatalf("N=%d Name=%q, want %d images named %q", s.N, s.Name, src.Images, src.Name)
			}
			var sum float64
			for _, v := range s.Images {
				if v < 0 || v > 1 {
					t.Fatalf("value %v outside [0,1]", v)
				}
				sum += float64(v)
			}
			t.Logf("%s: %d images, mean %.4f", src.Name, s.N, sum/float64(len(s.Images)))
		})
	}
}
