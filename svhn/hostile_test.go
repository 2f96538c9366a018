package svhn

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confcal/confcal/internal/hostile"
	"github.com/confcal/confcal/internal/memtest"
)

// hostileBudgetMB is the address space a hostile case may use on top of the test binary's.
const hostileBudgetMB = 320

// le appends little-endian 32-bit words.
func le(b []byte, words ...uint32) []byte {
	for _, w := range words {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

func padTo8(b []byte) []byte {
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// matrixHead returns the start of a miMATRIX element (tag, flags, dimensions, name, and the tag of
// a real part of n bytes of type typ) whose real part, n bytes padded to 8, follows.
func matrixHead(name string, class Class, dims []uint32, typ uint32, n uint32) []byte {
	var sub []byte
	sub = le(sub, miUINT32, 8, uint32(class), 0)
	sub = padTo8(le(le(sub, miINT32, uint32(4*len(dims))), dims...))
	sub = padTo8(append(le(sub, miINT8, uint32(len(name))), name...))
	sub = le(sub, typ, n)
	total := uint32(len(sub)) + (n+7)/8*8
	return append(le(nil, miMATRIX, total), sub...)
}

// matFile returns a MAT-file header followed by elems.
func matFile(elems ...[]byte) []byte {
	h := []byte("MATLAB 5.0 MAT-file, hostile test")
	for len(h) < 116 {
		h = append(h, ' ')
	}
	h = append(h, make([]byte, 8)...)
	h = append(h, 0x00, 0x01, 'I', 'M')
	for _, e := range elems {
		h = append(h, e...)
	}
	return h
}

// compressedZeros returns a miCOMPRESSED element holding a uint8 array of the given dimensions,
// all zeros.
func compressedZeros(name string, dims ...uint32) []byte {
	n := uint64(1)
	for _, d := range dims {
		n *= uint64(d)
	}
	z := hostile.Zlib(matrixHead(name, ClassUint8, dims, miUINT8, uint32(n)), int64((n+7)/8*8))
	return append(le(nil, miCOMPRESSED, uint32(len(z))), z...)
}

// hostileCases are test_32x32.mat files a hostile user could give Load, with Options.Subset or not,
// and what the error must say.
var hostileCases = map[string]struct {
	file   func() []byte
	subset bool
	want   []string
}{
	// 450 KB: a compressed X of 150,000 zero images.
	"compressed-X-150000-images": {func() []byte { return matFile(compressedZeros("X", 32, 32, 3, 150000)) }, true,
		[]string{"variable X is 32×32×3×150000: 150000 images, more than the 26032 of the split"}},
	// 3 MB: a compressed X of 1,000,000 zero images (3 GB).
	"compressed-X-1000000-images": {func() []byte { return matFile(compressedZeros("X", 32, 32, 3, 1000000)) }, true,
		[]string{"1000000 images, more than the 26032"}},
	// A valid X of one image and a compressed y of 100,000,000 labels.
	"compressed-y-100M-labels": {func() []byte {
		return matFile(compressedZeros("X", 32, 32, 3, 1), compressedZeros("y", 100000000, 1))
	}, true, []string{"variable y is 100000000×1: 100000000 images, more than the 26032"}},
}

// TestHostileChild runs one hostile case under memtest's limit (see TestHostileFiles).
func TestHostileChild(t *testing.T) {
	c := hostileCases[memtest.Child(t)]
	dir := t.TempDir()
	p := filepath.Join(dir, "test_32x32.mat")
	if err := os.WriteFile(p, c.file(), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir(), Subset: c.subset})
	if err == nil {
		t.Fatalf("accepted: %d images", s.N)
	}
	for _, w := range append(c.want, p) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// TestHostileFiles: compressed bombs get clear errors before they are inflated, within a hard
// memory limit.
func TestHostileFiles(t *testing.T) {
	memtest.RunCases(t, "TestHostileChild", hostileCases, hostileBudgetMB)
}

// TestCountsAndChecksum: without Options.Subset a file must be the published one or hold the
// split's count; with it any count up to the split's loads; stand-ins need no opt-out.
func TestCountsAndChecksum(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "test_32x32.mat")
	if err := WriteSetFile(p, randomSet(3, 1), true); err != nil {
		t.Fatal(err)
	}
	_, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), p+" holds 3 images, SVHN's test split has 26032") {
		t.Errorf("3 test images without Subset: %v", err)
	}
	if s, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir(), Subset: true}); err != nil || s.N != 3 {
		t.Errorf("with Subset: %v", err)
	}
	sdir := t.TempDir()
	if err := WriteStandIn(sdir, 5, 4, 1); err != nil {
		t.Fatal(err)
	}
	if s, err := Load("test", Options{Dir: sdir, CacheDir: t.TempDir()}); err != nil || s.N != 4 || s.Name != "svhn-standin-test" {
		t.Errorf("stand-in: %v", err)
	}
	// The cache is checked too: a file there that is not the published one is refused.
	cache := t.TempDir()
	if err := WriteSetFile(filepath.Join(cache, "test_32x32.mat"), randomSet(3, 1), true); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("test", Options{CacheDir: cache}); err == nil || !strings.Contains(err.Error(), "want 64275384") || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("a substituted cached file: %v", err)
	}
}

// TestReadMATEmptyArrays: arrays with a zero dimension (MATLAB's zeros(1,0) and the like) hold no
// elements and are read as such, whatever the other dimensions.
func TestReadMATEmptyArrays(t *testing.T) {
	for _, dims := range [][]uint32{{1, 0}, {0, 1}, {0, 0}, {5, 0}, {3, 0, 2}, {1 << 30, 0}} {
		f := matFile(matrixHead("e", ClassDouble, dims, miDOUBLE, 0))
		vars, err := ReadMAT(bytes.NewReader(f))
		if err != nil {
			t.Errorf("%v: %v", dims, err)
			continue
		}
		e := vars["e"]
		if e == nil || len(e.Dims) != len(dims) || e.Len() != 0 || len(e.Float64) != 0 {
			t.Errorf("%v: got %+v", dims, e)
		}
	}
	// A zero dimension with data is still an error.
	f := matFile(append(matrixHead("e", ClassDouble, []uint32{1, 0}, miDOUBLE, 8), make([]byte, 8)...))
	if _, err := ReadMAT(bytes.NewReader(f)); err == nil || !strings.Contains(err.Error(), "make 0 elements but the data hold 1") {
		t.Errorf("1×0 with one value: %v", err)
	}
}
