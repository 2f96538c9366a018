package oodsets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"image/color"
	"strings"
	"testing"
)

// FuzzLoadArchive reads arbitrary bytes as a .tar.gz archive: it must never panic, and whatever it
// accepts must be a consistent set of 3×32×32 values in [0,1]. Allocations are capped: an image
// entry over maxEntryBytes is an error, and so are image entries over maxTotalBytes in all (lowered
// here to 16 MiB); an image's size is checked from its header before its pixels are decoded.
func FuzzLoadArchive(f *testing.F) {
	valid, _ := validArchive(f, 3)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(tarGz(f))
	f.Add(tarGz(f, tarEntry{name: "x/._a.jpg", data: []byte("junk")}, tarEntry{name: "x/STAND-IN.txt", data: []byte(standInPrefix + "x")},
		tarEntry{name: "x/b.jpg", data: solidJPEG(f, Size, Size, color.RGBA{1, 2, 3, 255}, 50)}))
	f.Add(tarGz(f, tarEntry{name: "x/big.jpg", data: solidJPEG(f, 40, 8, color.RGBA{9, 9, 9, 255}, 50)}))
	f.Add(tarGz(f, tarEntry{name: "d/", typ: tar.TypeDir}, tarEntry{name: "d/l.jpg", typ: tar.TypeSymlink}))
	var raw bytes.Buffer // a gzip stream that is not a tar
	zw := gzip.NewWriter(&raw)
	zw.Write([]byte("hello, not a tar"))
	zw.Close()
	f.Add(raw.Bytes())
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	// A few kilobytes of gzip can inflate to many megabytes: keep each run's memory small.
	defer func(old int64) { maxTotalBytes = old }(maxTotalBytes)
	maxTotalBytes = 16 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := readArchive(bytes.NewReader(data), "fuzz.tar.gz", 1000)
		if err != nil {
			return
		}
		if len(c.entries) > 1000 {
			t.Fatalf("%d images read with a limit of 1000", len(c.entries))
		}
		names := map[string]bool{}
		for _, e := range c.entries {
			if names[e.name] || strings.HasPrefix(e.name, "/") || strings.HasPrefix(e.name, "../") || e.name == ".." {
				t.Fatalf("entry %q accepted (twice, or outside the archive)", e.name)
			}
			names[e.name] = true
		}
		s, err := c.toSet(TinyImageNet, 0)
		if err != nil {
			return
		}
		if err := s.Check(); err != nil || s.N == 0 || s.C != 3 || s.H != Size || s.W != Size {
			t.Fatalf("accepted an inconsistent set: %v (N=%d C=%d H=%d W=%d)", err, s.N, s.C, s.H, s.W)
		}
		for _, v := range s.Images {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("value %v outside [0,1]", v)
			}
		}
	})
}
