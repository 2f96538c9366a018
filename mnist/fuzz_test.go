package mnist

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadIDX feeds arbitrary bytes (raw, and gzipped when the input starts with the gzip magic)
// to the IDX readers: they must return an error or data consistent with the header, never panic,
// and never allocate by what a header claims.
func FuzzReadIDX(f *testing.F) {
	f.Add(idxFile(idxImagesMagic, []uint32{2, 3, 4}, testPixels(24)))
	f.Add(gzipBytes(idxFile(idxImagesMagic, []uint32{1, 28, 28}, testPixels(784))))
	f.Add(idxFile(idxImagesMagic, []uint32{1 << 31, 1 << 16, 1 << 16}, testPixels(10)))
	f.Add(idxFile(idxLabelsMagic, []uint32{5}, []byte{1, 2, 3, 4, 5}))
	f.Add(gzipBytes(idxFile(idxLabelsMagic, []uint32{3}, []byte{1, 2, 3, 4})))
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if n, r, c, pix, err := ReadIDXImages(path); err == nil {
			if n < 0 || r < 1 || c < 1 || len(pix) != n*r*c {
				t.Fatalf("%d images of %d×%d with %d pixels", n, r, c, len(pix))
			}
		}
		if n, _, _, _, _, err := readIDXImages(path, 3, nil); err == nil && n > 3 {
			t.Fatalf("%d images accepted with a limit of 3", n)
		}
		if lab, err := ReadIDXLabels(path); err == nil && len(lab) > len(data) && data[0] != 0x1f {
			t.Fatalf("%d labels from %d raw bytes", len(lab), len(data))
		}
	})
}
