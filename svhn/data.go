package svhn

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/confcal/confcal/dataset"
	"github.com/confcal/confcal/internal/atomicfile"
)

// Size is the side of SVHN's cropped digits.
const Size = 32

// StandInMarker is written into the header text of the MAT-files of generated images (WriteStandIn,
// and WriteSetFile for a set named "svhn-standin…"); ReadSet and Load name what they read from such
// files as a stand-in.
const StandInMarker = "generated stand-in, NOT SVHN"

// Remotes are the SVHN files of each split: their names, URLs and MD5 checksums (those torchvision
// checks; the site publishes none). train_32x32.mat is 182,040,794 bytes, test_32x32.mat 64,275,384.
// A variable, so that tests can point it elsewhere.
var Remotes = map[string]dataset.Remote{
	"train": {
		Name: "train_32x32.mat",
		URLs: []string{"http://ufldl.stanford.edu/housenumbers/train_32x32.mat"},
		MD5:  "e26dedcc434d2e4c54c9b2d4a06d8373",
		Size: 182040794,
	},
	"test": {
		Name: "test_32x32.mat",
		URLs: []string{"http://ufldl.stanford.edu/housenumbers/test_32x32.mat"},
		MD5:  "eb5a983be6a315427106f1b164d9cef3",
		Size: 64275384,
	},
}

// SplitImages is the number of images of each split of SVHN's cropped digits. No reader accepts a
// file of more images than the largest (ReadSet) or than its split's (Load).
var SplitImages = map[string]int{"train": 73257, "test": 26032}

// maxImages is the largest of SplitImages.
const maxImages = 73257

// Options says where Load looks for the SVHN files.
type Options struct {
	// Dir is a directory of the user's holding train_32x32.mat and/or test_32x32.mat; "" for none.
	// A file found there that is invalid is an error, not skipped.
	Dir string
	// CacheDir is where downloads go and are looked for; "" means dataset.CacheDir's default for
	// "svhn" ($CONFCAL_DATA/svhn or os.UserCacheDir()/confcal/svhn).
	CacheDir string
	// Download allows fetching a missing file from the data set's site into CacheDir (MD5 checked).
	Download bool
	// Progress receives download progress lines; nil means os.Stderr.
	Progress io.Writer
	// Subset accepts a file of fewer images than SVHN's split (a deliberate subset, or a file of
	// one's own). Without it a file must be the published one (its MD5) or hold exactly the split's
	// count. Stand-ins (WriteStandIn) are recognised by their header and need no Subset.
	Subset bool
}

// Load returns the "train" split (73,257 images) or the "test" split (26,032) of SVHN's cropped
// digits as 3×32×32 images in [0,1] with labels 0–9, named "svhn-train" or "svhn-test" (or
// "svhn-standin-…" when the file is one of WriteStandIn's). The "extra" split (531,131 easier
// images, a 1.3 GB file that would take 6.5 GB as float32) is not offered: the paper trains on the
// training split only.
//
// Sources, in order: opt.Dir; the cache directory; if opt.Download, the data set's site (into the
// cache, MD5 checked). A file in opt.Dir that cannot be read is an error; so is a cached one (the
// error says to delete it). When the file is nowhere and cannot be downloaded, the error names the
// URL and the path where the file is expected.
func Load(split string, opt Options) (*dataset.Set, error) {
	r, ok := Remotes[split]
	if !ok {
		if split == "extra" {
			return nil, fmt.Errorf("svhn: the \"extra\" split is not supported (the paper does not use it); want \"train\" or \"test\"")
		}
		return nil, fmt.Errorf("svhn: unknown split %q, want \"train\" or \"test\"", split)
	}
	var notInDir string
	if opt.Dir != "" {
		p := filepath.Join(opt.Dir, r.Name)
		st, err := os.Stat(p)
		if err == nil && st.Mode().IsRegular() {
			return readSetFile(p, split, opt.Subset, false)
		}
		notInDir = fmt.Sprintf(" (nor is it in the data directory: no %s)", p)
	}
	cacheDir, err := dataset.CacheDir(opt.CacheDir, "svhn")
	if err != nil {
		return nil, fmt.Errorf("svhn: cannot load the %s split: %v%s", split, err, notInDir)
	}
	fr := r
	if opt.Subset {
		fr.MD5 = "" // a cached subset cannot have the published MD5
	}
	path, err := dataset.Fetch(cacheDir, fr, opt.Download, opt.Progress)
	if err != nil {
		return nil, fmt.Errorf("svhn: cannot load the %s split: %v%s", split, err, notInDir)
	}
	// Fetch checked the MD5 of the file (without Subset).
	s, err := readSetFile(path, split, opt.Subset, !opt.Subset)
	if err != nil {
		return nil, fmt.Errorf("%w (delete the cached file to download it again)", err)
	}
	return s, nil
}

// readSetFile reads the MAT-file at path as the given split: at most the split's count of images
// and, unless subset or the file is a stand-in, exactly that many in a file that has the published
// MD5 (computed as it is read, unless verified says that was done).
func readSetFile(path, split string, subset, verified bool) (*dataset.Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("svhn: %w", err)
	}
	defer f.Close()
	want := SplitImages[split]
	h := md5.New()
	var r io.Reader = f
	if !subset && !verified {
		r = io.TeeReader(f, h)
	}
	s, standIn, err := readSet(r, path, want)
	if err != nil {
		return nil, err
	}
	s.Name += "-" + split
	if subset || standIn || verified {
		return s, nil
	}
	if _, err := io.Copy(h, f); err != nil { // anything readMAT left unread
		return nil, fmt.Errorf("svhn: reading %s: %w", path, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != Remotes[split].MD5 {
		if s.N != want {
			return nil, fmt.Errorf("svhn: %s holds %d images, SVHN's %s split has %d (set Options.Subset to load a deliberate subset)", path, s.N, split, want)
		}
		return nil, fmt.Errorf("svhn: %s: MD5 %s, want %s (that of the published %s); set Options.Subset to load a file of your own",
			path, sum, Remotes[split].MD5, Remotes[split].Name)
	}
	return s, nil
}

// ReadSet reads an SVHN MAT-file (cropped digits, format 2) from r: X, uint8 32×32×3×N (MATLAB's
// column-major X(h,w,c,n); a file of one image may drop the trailing 1), and y, N×1 labels 1–10,
// 10 standing for the digit 0. It returns N images of 3×32×32 in NCHW order with values X/255
// and labels 0–9, named "svhn" ("svhn-standin" when the header carries StandInMarker) with Source
// name. Other variables are skipped. name is the file's name, used in errors, which say what was
// expected: a missing X or y, X not 32×32×3×N, y not N×1, different N, N of 0 or above 73,257 (the
// training split's count; refused before the data are read or inflated), a label outside 1–10,
// and the errors of ReadMAT (bad header, truncated element, bad zlib data, …).
func ReadSet(r io.Reader, name string) (*dataset.Set, error) {
	s, _, err := readSet(r, name, maxImages)
	return s, err
}

// xDims returns the number of images of X's dimensions, or an error saying what was expected.
func xDims(dims []int) (int, error) {
	switch {
	case len(dims) == 4 && dims[0] == Size && dims[1] == Size && dims[2] == 3:
		return dims[3], nil
	case len(dims) == 3 && dims[0] == Size && dims[1] == Size && dims[2] == 3:
		return 1, nil // MATLAB drops trailing singleton dimensions
	}
	return 0, fmt.Errorf("variable X is %s, want 32×32×3×N (height, width, channel, image)", dimsString(dims))
}

// readSet is ReadSet for at most maxN images; it also reports whether the file is a stand-in.
func readSet(r io.Reader, name string, maxN int) (*dataset.Set, bool, error) {
	// Check X's and y's sizes before their data are read (or inflated).
	check := func(hdr matHeader, v string, dims []int) error {
		n := 0
		switch v {
		case "X":
			var err error
			if n, err = xDims(dims); err != nil {
				return err
			}
		case "y":
			if len(dims) != 2 || dims[1] != 1 {
				return fmt.Errorf("variable y is %s, want N×1", dimsString(dims))
			}
			n = dims[0]
		}
		if n > maxN {
			what := "SVHN's largest split"
			if strings.Contains(hdr.text, StandInMarker) || maxN != maxImages {
				what = "the split"
			}
			return fmt.Errorf("variable %s is %s: %d images, more than the %d of %s", v, dimsString(dims), n, maxN, what)
		}
		return nil
	}
	s, err := decodeSet(r, name, check)
	if err != nil {
		return nil, false, err
	}
	return s, s.Name == "svhn-standin", nil
}

// decodeSet reads the file and builds the set (see ReadSet); check is readMAT's.
func decodeSet(r io.Reader, name string, check func(matHeader, string, []int) error) (*dataset.Set, error) {
	hdr, vars, skipped, err := readMAT(r, func(v string) bool { return v == "X" || v == "y" }, check)
	if err != nil {
		return nil, fmt.Errorf("svhn: %s: %w", name, err)
	}
	x, y := vars["X"], vars["y"]
	for _, v := range []struct {
		name string
		arr  *MatArray
		want string
	}{{"X", x, "a uint8 array of 32×32×3×N images"}, {"y", y, "an N×1 array of labels 1–10"}} {
		if v.arr != nil {
			continue
		}
		if why, ok := skipped[v.name]; ok {
			return nil, fmt.Errorf("svhn: %s: variable %s is %s; want %s", name, v.name, why, v.want)
		}
		return nil, fmt.Errorf("svhn: %s: no variable %s; want %s (is this an SVHN cropped-digits file, *_32x32.mat?)", name, v.name, v.want)
	}
	n, err := xDims(x.Dims)
	if err != nil {
		return nil, fmt.Errorf("svhn: %s: %w", name, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("svhn: %s: variable X is %s: no images, want at least 1", name, dimsString(x.Dims))
	}
	if len(y.Dims) != 2 || y.Dims[1] != 1 {
		return nil, fmt.Errorf("svhn: %s: variable y is %s, want N×1", name, dimsString(y.Dims))
	}
	if y.Dims[0] != n {
		return nil, fmt.Errorf("svhn: %s: variable X holds %d images but y has %d labels", name, n, y.Dims[0])
	}
	labels := make([]int, n)
	for i := range labels {
		l := y.At(i)
		if !(l >= 1 && l <= 10 && l == math.Trunc(l)) {
			return nil, fmt.Errorf("svhn: %s: y(%d) is %v, want a label in 1…10 (10 for the digit 0)", name, i+1, l)
		}
		labels[i] = int(l) % 10
	}
	pix := x.Uint8
	if x.Class != ClassUint8 {
		// Not SVHN's own class, but the values are as good if they are bytes.
		pix = make([]uint8, len(x.Float64))
		for i, v := range x.Float64 {
			if !(v >= 0 && v <= 255 && v == math.Trunc(v)) {
				return nil, fmt.Errorf("svhn: %s: variable X is of class %s with X(%d) = %v; want uint8 pixel values 0…255", name, x.Class, i+1, v)
			}
			pix[i] = uint8(v)
		}
	}
	s := &dataset.Set{
		Images: columnMajorToNCHW(pix, n),
		Labels: labels,
		N:      n, C: 3, H: Size, W: Size,
		Name:   "svhn",
		Source: name,
	}
	if strings.Contains(hdr.text, StandInMarker) {
		s.Name = "svhn-standin"
		s.Source = fmt.Sprintf("%s [%s: its header says so: %q]", name, StandInMarker, hdr.text)
	}
	return s, nil
}

// columnMajorToNCHW turns n images of MATLAB's X(h,w,c,n) (index h + 32·(w + 32·(c + 3·n))) into
// NCHW float32 values p/255, splitting the work among goroutines.
func columnMajorToNCHW(pix []uint8, n int) []float32 {
	const plane = Size * Size
	out := make([]float32, n*3*plane)
	planes := 3 * n // plane c of image i is plane 3i+c in both layouts
	workers := max(1, min(runtime.GOMAXPROCS(0), planes/768))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for p := w; p < planes; p += workers {
				src, dst := pix[p*plane:(p+1)*plane], out[p*plane:(p+1)*plane]
				for col := range Size {
					for row := range Size {
						dst[row*Size+col] = float32(src[col*Size+row]) / 255
					}
				}
			}
		})
	}
	wg.Wait()
	return out
}

// WriteSetFile writes s (3×32×32 images in [0,1], labels 0–9) to path as an SVHN MAT-file, atomically:
// X, uint8 32×32×3×N in MATLAB's column-major order (each value rounded from 255·v), and y, double
// N×1 with 10 for the digit 0. compress selects MATLAB v7's compressed elements. A set whose Name
// starts with "svhn-standin" gets StandInMarker in the header, so that it is read back as a stand-in.
func WriteSetFile(path string, s *dataset.Set, compress bool) error {
	if err := s.Check(); err != nil {
		return fmt.Errorf("svhn: writing %s: %w", path, err)
	}
	if s.C != 3 || s.H != Size || s.W != Size {
		return fmt.Errorf("svhn: writing %s: set %q is %d×%d×%d, want 3×32×32", path, s.Name, s.C, s.H, s.W)
	}
	const plane = Size * Size
	x := make([]uint8, s.N*3*plane)
	for p := range 3 * s.N {
		src, dst := s.Images[p*plane:(p+1)*plane], x[p*plane:(p+1)*plane]
		for row := range Size {
			for col := range Size {
				v := src[row*Size+col]
				if !(v >= 0 && v <= 1) {
					return fmt.Errorf("svhn: writing %s: image %d, channel %d, pixel (%d,%d) is %v, want a value in [0,1]", path, p/3, p%3, row, col, v)
				}
				dst[col*Size+row] = uint8(math.Round(float64(v) * 255))
			}
		}
	}
	y := make([]float64, s.N)
	for i, l := range s.Labels {
		if l < 0 || l > 9 {
			return fmt.Errorf("svhn: writing %s: label %d of image %d is not a digit 0–9", path, l, i)
		}
		if l == 0 {
			l = 10
		}
		y[i] = float64(l)
	}
	text := DefaultHeaderText
	if strings.HasPrefix(s.Name, "svhn-standin") {
		text = "MATLAB 5.0 MAT-file, Platform: Go, " + StandInMarker + ", made by github.com/confcal/confcal/svhn"
	}
	vars := []MatArray{
		{Name: "X", Class: ClassUint8, Dims: []int{Size, Size, 3, s.N}, Uint8: x},
		{Name: "y", Class: ClassDouble, Dims: []int{s.N, 1}, Float64: y},
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return writeMAT(w, text, vars, compress)
	})
}
