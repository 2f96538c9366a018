package mnist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confcal/confcal/internal/hostile"
	"github.com/confcal/confcal/internal/memtest"
)

// hostileBudgetMB is the address space a hostile case may use on top of the test binary's.
const hostileBudgetMB = 256

// idxHeader returns an IDX image header of n images of 28×28.
func idxHeader(n uint32) []byte { return idxFile(idxImagesMagic, []uint32{n, 28, 28}, nil) }

// hostileCases are MNIST files a hostile user could give Load (as t10k-images-idx3-ubyte.gz, with
// a valid label file of as many labels as the header declares, capped), whether Options.Subset is
// set, and what the error must say.
var hostileCases = map[string]struct {
	images func() []byte
	labels int
	subset bool
	want   []string
}{
	// The header says 1 image; 4 GB of zeros follow.
	"1-image-then-4GB": {func() []byte { return hostile.Gzip(idxHeader(1), 784+4<<30, nil) }, 1, true,
		[]string{"more than 1048576 trailing bytes", "1 images of 28×28"}},
	// A consistent 152 KB bomb: 200,000 zero images.
	"200000-images": {func() []byte { return hostile.Gzip(idxHeader(200000), 200000*784, nil) }, 1, true,
		[]string{"declares 200000 images, more than the 10000 expected"}},
	// A header declaring 4 billion images, 4 GB of them present.
	"4G-images-declared": {func() []byte { return hostile.Gzip(idxHeader(1<<32-1), 4<<30, nil) }, 1, true,
		[]string{"declares 4294967295 images, more than the 10000 expected"}},
	// No images.
	"0-images": {func() []byte { return hostile.Gzip(idxHeader(0), 0, nil) }, 0, true, []string{"holds no images"}},
	// One image with the canonical name, not the published file.
	"1-image-canonical-name": {func() []byte { return hostile.Gzip(idxHeader(1), 784, nil) }, 1, false,
		[]string{"SHA-256", sha256s["t10k-images-idx3-ubyte.gz"], "Options.Subset"}},
}

// TestHostileChild runs one hostile case under memtest's limit (see TestHostileFiles).
func TestHostileChild(t *testing.T) {
	c := hostileCases[memtest.Child(t)]
	noGoMNIST(t)
	dir := t.TempDir()
	ib, lb, _ := splitBases("test")
	if err := os.WriteFile(filepath.Join(dir, ib+".gz"), c.images(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteIDXLabels(filepath.Join(dir, lb+".gz"), make([]byte, c.labels), true); err != nil {
		t.Fatal(err)
	}
	s, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir(), Subset: c.subset})
	if err == nil {
		t.Fatalf("accepted: %d images", s.N)
	}
	for _, w := range append(c.want, filepath.Join(dir, ib+".gz")) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// TestHostileFiles: gzip bombs, empty files and impostors get clear errors, within a hard memory
// limit.
func TestHostileFiles(t *testing.T) {
	memtest.RunCases(t, "TestHostileChild", hostileCases, hostileBudgetMB)
}

// TestCountsChecked: without Options.Subset a split must hold MNIST's count; with it, any count
// from 1 to MNIST's loads.
func TestCountsChecked(t *testing.T) {
	noGoMNIST(t)
	dir := t.TempDir()
	ip, _ := writeFixture(t, dir, "test", 5, 5, false)
	_, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), ip+" holds 5 images, MNIST's test split has 10000") {
		t.Errorf("5 test images without Subset: %v", err)
	}
	if s, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir(), Subset: true}); err != nil || s.N != 5 {
		t.Errorf("with Subset: %v", err)
	}
}
