package svhn

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/confcal/confcal/dataset"
)

// randomSet returns n random 3×32×32 images with values k/255 (so that they survive the round trip
// through uint8 exactly) and labels 0–9.
func randomSet(n int, seed uint64) *dataset.Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &dataset.Set{Images: make([]float32, n*3*1024), Labels: make([]int, n), N: n, C: 3, H: 32, W: 32, Name: "random"}
	for i := range s.Images {
		s.Images[i] = float32(rng.IntN(256)) / 255
	}
	for i := range s.Labels {
		s.Labels[i] = i % 10
	}
	return s
}

func TestWriteSetFileRoundTrip(t *testing.T) {
	want := randomSet(23, 5)
	for _, compress := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "sub", "set.mat")
		if err := WriteSetFile(path, want, compress); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadSet(f, path)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got.N != want.N || !slices.Equal(got.Images, want.Images) || !slices.Equal(got.Labels, want.Labels) {
			t.Fatalf("compress=%v: the set did not survive the round trip", compress)
		}
		if got.Name != "svhn" || got.Source != path {
			t.Errorf("Name %q Source %q", got.Name, got.Source)
		}
		// The layout SVHN's readers expect: X 32×32×3×N column-major uint8, y N×1 double, 10 for 0.
		data, _ := os.ReadFile(path)
		vars, err := ReadMAT(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		x, y := vars["X"], vars["y"]
		if x.Class != ClassUint8 || !slices.Equal(x.Dims, []int{32, 32, 3, 23}) || y.Class != ClassDouble || !slices.Equal(y.Dims, []int{23, 1}) {
			t.Fatalf("X %s %v, y %s %v", x.Class, x.Dims, y.Class, y.Dims)
		}
		if y.Float64[0] != 10 || y.Float64[3] != 3 {
			t.Errorf("y(1) = %v (want 10 for the digit 0), y(4) = %v", y.Float64[0], y.Float64[3])
		}
		n, c, h, w := 7, 2, 3, 30 // X(h,w,c,n) against the NCHW image
		if got, want := x.Uint8[h+32*(w+32*(c+3*n))], want.Images[((n*3+c)*32+h)*32+w]; float32(got)/255 != want {
			t.Errorf("X(%d,%d,%d,%d) = %d, want %v·255", h+1, w+1, c+1, n+1, got, want)
		}
	}
}

func TestWriteSetFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := func(f func(s *dataset.Set)) *dataset.Set {
		s := randomSet(3, 1)
		f(s)
		return s
	}
	for _, tc := range []struct {
		name string
		set  *dataset.Set
		want string
	}{
		{"channels", &dataset.Set{Images: make([]float32, 1024), Labels: []int{1}, N: 1, C: 1, H: 32, W: 32}, "want 3×32×32"},
		{"inconsistent", bad(func(s *dataset.Set) { s.N = 4 }), "pixel values"},
		{"label", bad(func(s *dataset.Set) { s.Labels[2] = -1 }), "label -1 of image 2"},
		{"pixel", bad(func(s *dataset.Set) { s.Images[5] = 1.5 }), "is 1.5, want a value in [0,1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".mat")
			err := WriteSetFile(path, tc.set, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want one naming %s and containing %q", err, path, tc.want)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("a file was left at %s", path)
			}
		})
	}
}

// TestScipyReadsWrittenFile checks with scipy.io.loadmat that a file WriteSetFile writes is read
// with the same shapes, MATLAB classes and values. It needs a python3 with scipy (scripts/setup.sh
// installs Debian's python3-scipy); without one it fails when CI is set and skips otherwise.
//
// loadmat is called with mat_dtype=True: by default scipy returns each array in the data type it is
// stored in, and a MAT-file may store a double array in a smaller integer type (WriteSetFile stores
// the labels, class double, as miUINT8), which scipy would then return as uint8. mat_dtype=True
// returns the MATLAB class, which is what MATLAB and the real SVHN files give.
func TestScipyReadsWrittenFile(t *testing.T) {
	var python string
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import scipy.io").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and no python3 can import scipy.io (scripts/setup.sh installs python3-scipy)")
		}
		t.Skip("no python3 with scipy (scripts/setup.sh installs python3-scipy)")
	}
	s := randomSet(11, 9)
	const script = `
import json, sys, scipy.io
m = scipy.io.loadmat(sys.argv[1], mat_dtype=True)
X, y = m["X"], m["y"]
print(json.dumps({"xshape": list(X.shape), "xdtype": str(X.dtype), "yshape": list(y.shape), "ydtype": str(y.dtype),
    "x": [int(v) for v in X.flatten(order="F")], "y": [float(v) for v in y.flatten(order="F")]}))
`
	for _, compress := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "s.mat")
		if err := WriteSetFile(path, s, compress); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(python, "-c", script, path).Output()
		if err != nil {
			t.Fatalf("scipy: %v", err)
		}
		var got struct {
			XShape []int     `json:"xshape"`
			XDtype string    `json:"xdtype"`
			YShape []int     `json:"yshape"`
			YDtype string    `json:"ydtype"`
			X      []int     `json:"x"`
			Y      []float64 `json:"y"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.XShape, []int{32, 32, 3, 11}) || got.XDtype != "uint8" || !slices.Equal(got.YShape, []int{11, 1}) || got.YDtype != "float64" {
			t.Fatalf("compress=%v: scipy read X %v %s, y %v %s", compress, got.XShape, got.XDtype, got.YShape, got.YDtype)
		}
		for i, v := range got.X {
			h, w, c, n := i%32, i/32%32, i/1024%3, i/3072
			if float32(v)/255 != s.Images[((n*3+c)*32+h)*32+w] {
				t.Fatalf("compress=%v: X(%d,%d,%d,%d) = %d in scipy", compress, h+1, w+1, c+1, n+1, v)
			}
		}
		for i, v := range got.Y {
			if want := float64((s.Labels[i]+9)%10 + 1); v != want {
				t.Fatalf("compress=%v: y(%d) = %v in scipy, want %v", compress, i+1, v, want)
			}
		}
	}
}

// matBytes returns a compressed SVHN MAT-file of s.
func matBytes(t *testing.T, s *dataset.Set) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.mat")
	if err := WriteSetFile(path, s, true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setRemotes points Remotes at url (+ file name) with the given MD5 for the test's duration.
func setRemotes(t *testing.T, url string, md5s map[string]string) {
	old := Remotes
	t.Cleanup(func() { Remotes = old })
	Remotes = map[string]dataset.Remote{}
	for split, r := range old {
		Remotes[split] = dataset.Remote{Name: r.Name, URLs: []string{url + "/" + r.Name}, MD5: md5s[split]}
	}
}

func TestLoad(t *testing.T) {
	train, test := randomSet(7, 1), randomSet(4, 2)
	trainBytes, testBytes := matBytes(t, train), matBytes(t, test)
	sum := func(b []byte) string { h := md5.Sum(b); return hex.EncodeToString(h[:]) }
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		switch r.URL.Path {
		case "/train_32x32.mat":
			w.Write(trainBytes)
		case "/test_32x32.mat":
			w.Write(testBytes)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	rightMD5 := map[string]string{"train": sum(trainBytes), "test": sum(testBytes)}

	t.Run("dir", func(t *testing.T) {
		setRemotes(t, srv.URL, rightMD5)
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "test_32x32.mat"), testBytes, 0o644)
		s, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != "svhn-test" || s.Source != filepath.Join(dir, "test_32x32.mat") || !slices.Equal(s.Images, test.Images) {
			t.Fatalf("Name %q Source %q", s.Name, s.Source)
		}
	})
	t.Run("dir-invalid-is-an-error", func(t *testing.T) {
		setRemotes(t, srv.URL, rightMD5)
		dir, cache := t.TempDir(), t.TempDir()
		os.WriteFile(filepath.Join(dir, "test_32x32.mat"), testBytes[:300], 0o644)
		os.WriteFile(filepath.Join(cache, "test_32x32.mat"), testBytes, 0o644)
		_, err := Load("test", Options{Dir: dir, CacheDir: cache})
		if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), dir) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("cache", func(t *testing.T) {
		setRemotes(t, srv.URL, rightMD5)
		cache := t.TempDir()
		os.WriteFile(filepath.Join(cache, "train_32x32.mat"), trainBytes, 0o644)
		n := requests.Load()
		// The data directory lacks the file: the cache has it.
		s, err := Load("train", Options{Dir: t.TempDir(), CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != "svhn-train" || !slices.Equal(s.Images, train.Images) || !slices.Equal(s.Labels, train.Labels) || requests.Load() != n {
			t.Fatalf("Name %q, %d requests", s.Name, requests.Load()-n)
		}
	})
	t.Run("cache-from-env", func(t *testing.T) {
		setRemotes(t, srv.URL, rightMD5)
		root := t.TempDir()
		t.Setenv(dataset.EnvDataDir, root)
		os.MkdirAll(filepath.Join(root, "svhn"), 0o755)
		os.WriteFile(filepath.Join(root, "svhn", "test_32x32.mat"), testBytes, 0o644)
		if _, err := Load("test", Options{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("cache-invalid", func(t *testing.T) {
		setRemotes(t, srv.URL, rightMD5)
		cache := t.TempDir()
		os.WriteFile(filepath.Join(cache, "test_32x32.mat"), []byte("not a mat file"), 0o644)
		_, err := Load("test", Options{CacheDir: cache, Download: true})
		if err == nil || !strings.Contains(err.Error(), "delete it") || !strings.Contains(err.Error(), "MD5 mismatch") || !strings.Contains(err.Error(), filepath.Join(cache, "test_32x32.mat")) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("download", func(t *testing.T) {
		setRemotes(t, srv.URL, rightMD5)
		cache := t.TempDir()
		var progress bytes.Buffer
		s, err := Load("train", Options{CacheDir: cache, Download: true, Progress: &progress})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.Images, train.Images) || !strings.Contains(progress.String(), "MD5 ok") {
			t.Fatalf("progress %q", progress.String())
		}
		if b, err := os.ReadFile(filepath.Join(cache, "train_32x32.mat")); err != nil || !bytes.Equal(b, trainBytes) {
			t.Fatalf("cached copy: %v", err)
		}
	})
	t.Run("download-wrong-md5", func(t *testing.T) {
		setRemotes(t, srv.URL, map[string]string{"train": sum([]byte("something else"))})
		cache := t.TempDir()
		_, err := Load("train", Options{CacheDir: cache, Download: true, Progress: &bytes.Buffer{}})
		if err == nil || !strings.Contains(err.Error(), "MD5 mismatch") {
			t.Fatalf("error %v", err)
		}
		if _, err := os.Stat(filepath.Join(cache, "train_32x32.mat")); !os.IsNotExist(err) {
			t.Error("a file with the wrong checksum was left in the cache")
		}
	})
	t.Run("offline", func(t *testing.T) {
		setRemotes(t, "http://ufldl.stanford.edu/housenumbers", rightMD5)
		cache, dir := t.TempDir(), t.TempDir()
		_, err := Load("test", Options{Dir: dir, CacheDir: cache})
		want := []string{"http://ufldl.stanford.edu/housenumbers/test_32x32.mat", filepath.Join(cache, "test_32x32.mat"),
			filepath.Join(dir, "test_32x32.mat"), "downloading is off"}
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Fatalf("error %v, want it to contain %q", err, w)
			}
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		url := dead.URL
		dead.Close()
		setRemotes(t, url, rightMD5)
		cache := t.TempDir()
		_, err := Load("test", Options{CacheDir: cache, Download: true, Progress: &bytes.Buffer{}})
		if err == nil || !strings.Contains(err.Error(), url+"/test_32x32.mat") || !strings.Contains(err.Error(), filepath.Join(cache, "test_32x32.mat")) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("splits", func(t *testing.T) {
		for split, want := range map[string]string{"extra": `"extra" split is not supported`, "valid": `unknown split "valid"`} {
			if _, err := Load(split, Options{CacheDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load(%q): %v", split, err)
			}
		}
	})
}

// TestRemotes checks the real sources: the URLs of the data set's site and torchvision's checksums.
func TestRemotes(t *testing.T) {
	for split, want := range map[string][2]string{
		"train": {"http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"},
		"test":  {"http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3"},
	} {
		r := Remotes[split]
		if r.Name != split+"_32x32.mat" || !slices.Equal(r.URLs, []string{want[0]}) || r.MD5 != want[1] || r.SHA256 != "" {
			t.Errorf("Remotes[%q] = %+v", split, r)
		}
	}
	if len(Remotes) != 2 {
		t.Errorf("Remotes has %d entries", len(Remotes))
	}
}

// ExampleLoad shows the error when SVHN is neither in the cache nor downloadable.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "svhn-example")
	defer os.RemoveAll(dir)
	_, err := Load("test", Options{CacheDir: dir})
	fmt.Println(strings.ReplaceAll(err.Error(), dir, "CACHE"))
	// Output: svhn: cannot load the test split: test_32x32.mat is not at CACHE/test_32x32.mat and downloading is off; download it from http://ufldl.stanford.edu/housenumbers/test_32x32.mat and put it there
}
