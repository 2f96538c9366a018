package dataset

import (
	"crypto/md5"
	"encoding/hex"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
