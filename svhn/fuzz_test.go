package svhn

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzReadMAT feeds ReadMAT and ReadSet arbitrary bytes, seeded with valid files (both byte orders,
// compressed or not, written by hand and by WriteMAT) and broken ones. They must return an error
// or arrays consistent with their dimensions, never panic, and never allocate much more than the
// input (readBytes grows its buffers with the data that actually arrive).
func FuzzReadMAT(f *testing.F) {
	for _, big := range []bool{false, true} {
		for _, compress := range []bool{false, true} {
			hand, _ := handMadeFile(big, compress, fixtureVars(order(big)))
			f.Add(hand)
			set, starts := handMadeFile(big, compress, svhnVars(order(big), 1, []byte{10}, pattern))
			f.Add(set)
			f.Add(set[:starts[1]-5]) // truncated inside X
			f.Add(set[:len(set)-3])  // truncated inside y
			bad := bytes.Clone(set)
			bad[starts[0]+12] ^= 0xff // corrupt (or, uncompressed, a wrong flags element)
			f.Add(bad)
		}
	}
	var buf bytes.Buffer
	vars := []MatArray{
		{Name: "y", Class: ClassDouble, Dims: []int{3, 1}, Float64: []float64{1, 2.5, -7}},
		{Name: "X", Class: ClassUint8, Dims: []int{1, 6}, Uint8: []uint8{1, 2, 3, 4, 5, 6}},
	}
	for _, compress := range []bool{false, true} {
		buf.Reset()
		if err := WriteMAT(&buf, vars, compress); err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Clone(buf.Bytes()))
	}
	// A lying size: a miMATRIX that declares 4 GB.
	lie := bytes.Clone(buf.Bytes())
	binary.LittleEndian.PutUint32(lie[132:], 0xfffffff8)
	f.Add(lie)
	f.Add([]byte{})
	f.Add(make([]byte, 128))

	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := ReadMAT(bytes.NewReader(data))
		if err == nil {
			for name, a := range vars {
				if a.Name != name || len(a.Dims) < 2 {
					t.Fatalf("variable %q: name %q, dims %v", name, a.Name, a.Dims)
				}
				if n := len(a.Uint8) + len(a.Float64); n != a.Len() {
					t.Fatalf("variable %q: %d values for dims %v", name, n, a.Dims)
				}
			}
		}
		s, err := ReadSet(bytes.NewReader(data), "fuzz.mat")
		if err == nil {
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
			for _, l := range s.Labels {
				if l < 0 || l > 9 {
					t.Fatalf("label %d", l)
				}
			}
		}
	})
}
