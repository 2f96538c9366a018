package hostile

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"testing"
)

func TestGzipAndSparseTar(t *testing.T) {
	const zeros = 5<<20 + 123
	stream := Gzip([]byte("head"), zeros, []byte("tail"))
	if len(stream) > 20<<10 {
		t.Errorf("%d compressed bytes for %d zeros", len(stream), zeros)
	}
	zr, err := gzip.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4+zeros+4 || string(all[:4]) != "head" || string(all[len(all)-4:]) != "tail" || bytes.Count(all[4:len(all)-4], []byte{0}) != zeros {
		t.Fatalf("inflated %d bytes", len(all))
	}

	var arch []byte
	arch = append(arch, SparseTarFile("d/big.bin", 3<<30)...)
	arch = append(arch, TarFile("d/small.txt", []byte("hello"))...)
	arch = append(arch, TarHeader("d/link.jpg", 0, '2', "../x.jpg")...)
	arch = append(arch, TarEnd()...)
	tr := tar.NewReader(bytes.NewReader(arch))
	h, err := tr.Next()
	if err != nil || h.Name != "d/big.bin" || h.Size != 3<<30 {
		t.Fatalf("sparse entry: %+v, %v", h, err)
	}
	buf := make([]byte, 1<<20)
	if k, err := io.ReadFull(tr, buf); k != len(buf) || err != nil || bytes.Count(buf, []byte{0}) != len(buf) {
		t.Fatalf("sparse data: %d bytes, %v", k, err)
	}
	h, err = tr.Next()
	if err != nil || h.Name != "d/small.txt" {
		t.Fatalf("second entry: %+v, %v", h, err)
	}
	if b, _ := io.ReadAll(tr); string(b) != "hello" {
		t.Fatalf("small entry %q", b)
	}
	if h, err = tr.Next(); err != nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "../x.jpg" {
		t.Fatalf("link: %+v, %v", h, err)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestZlib(t *testing.T) {
	const zeros = 3<<20 + 77
	stream := Zlib([]byte("head"), zeros)
	zr, err := zlib.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err) // includes the Adler-32 check
	}
	if len(all) != 4+zeros || string(all[:4]) != "head" || bytes.Count(all[4:], []byte{0}) != zeros {
		t.Fatalf("inflated %d bytes", len(all))
	}
	if len(stream) > 10<<10 {
		t.Errorf("%d bytes", len(stream))
	}
}
