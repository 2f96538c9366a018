package dataset

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// numbered returns a set of n 1×1×2 images whose pixels are (i, −i) and labels i.
func numbered(n int) *Set {
	s := &Set{N: n, C: 1, H: 1, W: 2, Name: "num", Source: "test"}
	for i := range n {
		s.Images = append(s.Images, float32(i), float32(-i))
		s.Labels = append(s.Labels, i)
	}
	return s
}

func TestSplitSubsetConcat(t *testing.T) {
	s := numbered(10)
	a, b, err := s.Split(3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if a.N != 3 || b.N != 7 {
		t.Fatalf("split sizes %d, %d", a.N, b.N)
	}
	seen := map[int]bool{}
	for _, part := range []*Set{a, b} {
		if err := part.Check(); err != nil {
			t.Fatal(err)
		}
		for i := range part.N {
			l := part.Labels[i]
			if seen[l] || part.Image(i)[0] != float32(l) || part.Image(i)[1] != -float32(l) {
				t.Errorf("image %d of a part: label %d, pixels %v (repeated: %v)", i, l, part.Image(i), seen[l])
			}
			if i > 0 && part.Labels[i-1] > l {
				t.Errorf("order not kept: %v", part.Labels)
			}
			seen[l] = true
		}
	}
	if len(seen) != 10 {
		t.Errorf("split covers %d of 10 images", len(seen))
	}
	a2, _, _ := s.Split(3, 7)
	if a2.Labels[0] != a.Labels[0] || a2.Labels[2] != a.Labels[2] {
		t.Error("split not deterministic in the seed")
	}
	if _, _, err := s.Split(11, 1); err == nil {
		t.Error("split of 11 of 10 accepted")
	}
	if s.Subset(0, 1) != s || s.Subset(10, 1) != s || s.Subset(4, 1).N != 4 {
		t.Error("Subset sizes")
	}
	c, err := Concat("both", a, b)
	if err != nil || c.N != 10 || c.Check() != nil {
		t.Fatalf("Concat: %v", err)
	}
	if _, err := Concat("bad", s, &Set{N: 0, C: 3, H: 1, W: 2}); err == nil || !strings.Contains(err.Error(), "want 1×1×2") {
		t.Errorf("Concat of different shapes: %v", err)
	}
	bad := numbered(2)
	bad.Labels = bad.Labels[:1]
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "1 labels for 2 images") {
		t.Errorf("Check: %v", err)
	}
}

func TestGaussianNoise(t *testing.T) {
	s, err := GaussianNoise(200, 3, 8, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	zeros, ones := 0, 0
	for _, v := range s.Images {
		sum += float64(v)
		if v == 0 {
			zeros++
		}
		if v == 1 {
			ones++
		}
	}
	n := float64(len(s.Images))
	// N(0.5, 1) clipped to [0,1]: P(x <= 0) = P(x >= 1) = Φ(−0.5) = 0.3085; the mean stays 0.5.
	if m := sum / n; math.Abs(m-0.5) > 0.01 {
		t.Errorf("mean %v", m)
	}
	for _, f := range []float64{float64(zeros) / n, float64(ones) / n} {
		if math.Abs(f-0.3085) > 0.01 {
			t.Errorf("clipped share %v, want 0.3085", f)
		}
	}
	if _, err := GaussianNoise(-1, 3, 8, 8, 1); err == nil {
		t.Error("n = −1 accepted")
	}
}

func TestFetch(t *testing.T) {
	payload := []byte("confcal fetch test payload")
	sum := md5.Sum(payload)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/f.bin" {
			http.NotFound(w, r)
			return
		}
		w.Write(payload)
	}))
	defer srv.Close()
	good := Remote{Name: "f.bin", URLs: []string{srv.URL + "/missing/f.bin", srv.URL + "/f.bin"}, MD5: hex.EncodeToString(sum[:])}

	dir := t.TempDir()
	var progress strings.Builder
	p, err := Fetch(dir, good, true, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(payload) || !strings.Contains(progress.String(), "MD5 ok") {
		t.Errorf("fetched %q, progress %q", b, progress.String())
	}
	if err := Verify(p, good); err != nil {
		t.Error(err)
	}

	wrong := good
	wrong.MD5 = strings.Repeat("0", 32)
	dir2 := t.TempDir()
	if _, err := Fetch(dir2, wrong, true, &progress); err == nil || !strings.Contains(err.Error(), "MD5 mismatch") {
		t.Errorf("wrong MD5: %v", err)
	}
	if entries, _ := os.ReadDir(dir2); len(entries) != 0 {
		t.Errorf("a failed download left %d files", len(entries))
	}
	_, err = Fetch(dir2, good, false, nil)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir2, "f.bin")) || !strings.Contains(err.Error(), srv.URL+"/f.bin") {
		t.Errorf("download off: %v", err)
	}

	t.Setenv(EnvDataDir, "/data/root")
	if d, _ := CacheDir("", "svhn"); d != "/data/root/svhn" {
		t.Errorf("CacheDir = %q", d)
	}
	if d, _ := CacheDir("/mine", "svhn"); d != "/mine" {
		t.Errorf("CacheDir = %q", d)
	}
}

// TestFetchChecksCachedFiles: a cached file that is not the expected one is refused, with
// (with downloading on or off; it is not replaced behind the user's back).
func TestFetchChecksCachedFiles(t *testing.T) {
	payload := []byte("the real file")
	sum := md5.Sum(payload)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(payload)
	}))
	defer srv.Close()
	r := Remote{Name: "f.bin", URLs: []string{srv.URL + "/f.bin"}, MD5: hex.EncodeToString(sum[:])}
	dir := t.TempDir()
	path := filepath.Join(dir, "f.bin")
	if err := os.WriteFile(path, []byte("a substituted file"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Fetch(dir, r, false, io.Discard)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "MD5 mismatch") || !strings.Contains(err.Error(), r.MD5) {
		t.Errorf("substituted cached file, download off: %v; want an MD5 mismatch naming %s and the expected sum", err, path)
	}
	if _, err := Fetch(dir, r, true, io.Discard); err == nil || !strings.Contains(err.Error(), "delete it") || hits.Load() != 0 {
		t.Errorf("substituted cached file, download on: %v, %d requests; want an error saying to delete it", err, hits.Load())
	}
	os.Remove(path)
	p, err := Fetch(dir, r, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(payload) || hits.Load() != 1 {
		t.Errorf("after deleting it: %q, %d requests", b, hits.Load())
	}
	if _, err := Fetch(dir, r, false, io.Discard); err != nil {
		t.Errorf("the good cached file: %v", err)
	}
	sized := r
	sized.Size = int64(len(payload)) + 1
	if err := Verify(p, sized); err == nil || !strings.Contains(err.Error(), "want 14") {
		t.Errorf("wrong size: %v", err)
	}
}

// TestFetchRefusesPathsInNames: Remote.Name cannot lead outside the cache directory.
func TestFetchRefusesPathsInNames(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("x")) }))
	defer srv.Close()
	root := t.TempDir()
	cache := filepath.Join(root, "cache")
	sum := md5.Sum([]byte("x"))
	for _, name := range []string{"../x", "sub/x", "..", ".", "", "/tmp/x", `..\x`} {
		r := Remote{Name: name, URLs: []string{srv.URL}, MD5: hex.EncodeToString(sum[:])}
		_, err := Fetch(cache, r, true, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "not a plain file name") {
			t.Errorf("name %q: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "x")); err == nil {
		t.Errorf("a download was written outside the cache, at %s", filepath.Join(root, "x"))
	}
}

// TestFetchCapsDownloadsWithoutLength: a server that streams without a Content-Length is cut off
// after Remote.Size bytes (or MaxDownloadBytes when the size is unknown), and nothing is kept.
func TestFetchCapsDownloadsWithoutLength(t *testing.T) {
	const endless = 64 << 20 // what the server would send if never stopped
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 32<<10)
		for sent.Load() < endless {
			k, err := w.Write(buf) // no Content-Length: chunked
			sent.Add(int64(k))
			if err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name     string
		size     int64
		maxBytes int64
	}{{"known size", 1 << 20, 4 << 30}, {"unknown size", 0, 2 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(m int64) { MaxDownloadBytes = m }(MaxDownloadBytes)
			MaxDownloadBytes = tc.maxBytes
			sent.Store(0)
			dir := t.TempDir()
			r := Remote{Name: "f.bin", URLs: []string{srv.URL}, SHA256: strings.Repeat("0", 64), Size: tc.size}
			_, err := Fetch(dir, r, true, io.Discard)
			want := tc.size
			if want == 0 {
				want = tc.maxBytes
			}
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d bytes", want)) {
				t.Errorf("endless stream: %v; want it abandoned after %d bytes", err, want)
			}
			if s := sent.Load(); s >= endless {
				t.Errorf("the whole %d-byte stream was read", s)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("the abandoned download left %d files", len(entries))
			}
		})
	}
	// A Content-Length above the known size is refused before the body is read.
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(make([]byte, 1000000))
	}))
	defer big.Close()
	r := Remote{Name: "f.bin", URLs: []string{big.URL}, SHA256: strings.Repeat("0", 64), Size: 1000}
	if _, err := Fetch(t.TempDir(), r, true, io.Discard); err == nil || !strings.Contains(err.Error(), "announces 1000000 bytes, want at most 1000") {
		t.Errorf("announced size above the known one: %v", err)
	}
}
