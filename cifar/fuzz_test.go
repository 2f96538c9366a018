package cifar

import (
	"archive/tar"
	"bytes"
	"testing"
)

// FuzzReadBatch: ReadBatch never panics; what it accepts is a whole number of records with labels
// 0–9 and values in [0,1], and WriteBatch writes exactly the input back.
func FuzzReadBatch(f *testing.F) {
	var valid bytes.Buffer
	if err := WriteBatch(&valid, fixtureSet(2, 3, "seed")); err != nil {
		f.Fatal(err)
	}
	v := valid.Bytes()
	f.Add(v)
	f.Add(v[:RecordSize])
	f.Add(v[:RecordSize+17])
	f.Add(v[:RecordSize-1])
	f.Add([]byte{})
	f.Add([]byte{3})
	badLabel := bytes.Clone(v)
	badLabel[RecordSize] = 10
	f.Add(badLabel)
	f.Add(append(bytes.Clone(v), 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		images, labels, err := ReadBatch(bytes.NewReader(data), "fuzz.bin")
		if err != nil {
			if images != nil || labels != nil {
				t.Fatal("data returned with an error")
			}
			return
		}
		n := len(labels)
		if n == 0 || len(data) != n*RecordSize || len(images) != n*ImageBytes {
			t.Fatalf("accepted %d bytes as %d records with %d values", len(data), n, len(images))
		}
		for i, l := range labels {
			if l < 0 || l >= NumClasses {
				t.Fatalf("label %d = %d accepted", i, l)
			}
		}
		for j, x := range images {
			if !(x >= 0 && x <= 1) {
				t.Fatalf("value %d = %v", j, x)
			}
		}
		set := fixtureSet(0, 0, "fuzz")
		set.Images, set.Labels, set.N = images, labels, n
		var out bytes.Buffer
		if err := WriteBatch(&out, set); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatal("WriteBatch(ReadBatch(data)) != data")
		}
	})
}

// FuzzReadArchive: ReadArchive never panics, and what it accepts is a consistent set of
// 3×32×32 images with labels 0–9.
func FuzzReadArchive(f *testing.F) {
	const d = "cifar-10-batches-bin/"
	entries := func() []tarEntry {
		var e []tarEntry
		for k, name := range TrainBatchFiles {
			e = append(e, tarEntry{name: d + name, data: batchBytes(f, 1, k)})
		}
		return append(e, tarEntry{name: d + TestBatchFile, data: batchBytes(f, 1, 5)})
	}
	valid := makeTarGz(f, entries())
	f.Add(valid, false)
	f.Add(valid, true)
	f.Add(valid[:len(valid)/2], true)
	f.Add(valid[:len(valid)-3], false)
	flipped := bytes.Clone(valid)
	flipped[len(flipped)/3] ^= 0x10
	f.Add(flipped, true)
	f.Add(makeTarGz(f, entries()[1:]), true)
	f.Add(makeTarGz(f, entries()[:5]), false)
	short := entries()
	short[5].data = short[5].data[:100]
	f.Add(makeTarGz(f, short), false)
	sym := entries()
	sym[5].typ = tar.TypeSymlink
	f.Add(makeTarGz(f, sym), false)
	f.Add(makeGzip(f, []byte("not a tar")), false)
	f.Add([]byte{0x1f, 0x8b}, true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, train bool) {
		split := "test"
		if train {
			split = "train"
		}
		s, err := ReadArchive(bytes.NewReader(data), "fuzz.tar.gz", split)
		if err != nil {
			if s != nil {
				t.Fatal("set returned with an error")
			}
			return
		}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		if s.N < 1 || s.C != 3 || s.H != 32 || s.W != 32 {
			t.Fatalf("accepted N=%d %d×%d×%d", s.N, s.C, s.H, s.W)
		}
		for i, l := range s.Labels {
			if l < 0 || l >= NumClasses {
				t.Fatalf("label %d = %d accepted", i, l)
			}
		}
	})
}
