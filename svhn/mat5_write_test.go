package svhn

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestWriteMATRoundTrip(t *testing.T) {
	vars := []MatArray{
		{Name: "X", Class: ClassUint8, Dims: []int{2, 3, 2}, Uint8: []uint8{0, 1, 2, 3, 250, 255, 9, 8, 7, 6, 5, 4}},
		{Name: "y", Class: ClassDouble, Dims: []int{4, 1}, Float64: []float64{10, 1, 2, 255}},
		{Name: "frac", Class: ClassDouble, Dims: []int{1, 5}, Float64: []float64{0.5, -3, 1e300, math.Inf(-1), 256}},
		{Name: "negzero", Class: ClassDouble, Dims: []int{1, 1}, Float64: []float64{math.Copysign(0, -1)}},
		{Name: "one", Class: ClassUint8, Dims: []int{1, 1}, Uint8: []uint8{42}},
		{Name: "empty", Class: ClassDouble, Dims: []int{0, 1}, Float64: []float64{}},
		{Name: "a_Long_name_9", Class: ClassUint8, Dims: []int{1, 5}, Uint8: []uint8{1, 2, 3, 4, 5}},
	}
	for _, compress := range []bool{false, true} {
		var buf bytes.Buffer
		if err := WriteMAT(&buf, vars, compress); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if string(b[126:128]) != "IM" || binary.LittleEndian.Uint16(b[124:]) != 0x0100 || !strings.HasPrefix(string(b), "MATLAB 5.0 MAT-file") {
			t.Fatalf("compress=%v: bad header % x", compress, b[:128])
		}
		if first := binary.LittleEndian.Uint32(b[128:]); compress && first != miCOMPRESSED || !compress && first != miMATRIX {
			t.Fatalf("compress=%v: first element of type %d", compress, first)
		}
		got, err := ReadMAT(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("compress=%v: %v", compress, err)
		}
		if len(got) != len(vars) {
			t.Fatalf("compress=%v: %d variables read back, want %d", compress, len(got), len(vars))
		}
		for _, v := range vars {
			g := got[v.Name]
			if g == nil || g.Class != v.Class || !slices.Equal(g.Dims, v.Dims) || !slices.Equal(g.Uint8, v.Uint8) || len(g.Float64) != len(v.Float64) {
				t.Fatalf("compress=%v: %s read back as %+v, want %+v", compress, v.Name, g, v)
			}
			for i, x := range v.Float64 {
				if math.Float64bits(g.Float64[i]) != math.Float64bits(x) {
					t.Errorf("compress=%v: %s(%d) = %v, want %v", compress, v.Name, i+1, g.Float64[i], x)
				}
			}
		}
	}
}

// TestWriteMATLayout checks the bytes of an uncompressed file: integer doubles are stored as
// miUINT8 (as MATLAB does), in the small format when they fit in 4 bytes.
func TestWriteMATLayout(t *testing.T) {
	var buf bytes.Buffer
	err := WriteMAT(&buf, []MatArray{{Name: "y", Class: ClassDouble, Dims: []int{2, 1}, Float64: []float64{10, 3}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{14, 0, 0, 0, 48, 0, 0, 0, 6, 0, 0, 0, 8, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0,
		5, 0, 0, 0, 8, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 'y', 0, 0, 0, 2, 0, 2, 0, 10, 3, 0, 0}
	if got := buf.Bytes()[128:]; !bytes.Equal(got, want) {
		t.Fatalf("got\n% x\nwant\n% x", got, want)
	}
}

func TestWriteMATErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars []MatArray
		want string
	}{
		{"bad-name", []MatArray{{Name: "1x", Class: ClassUint8, Dims: []int{1, 1}, Uint8: []uint8{1}}}, "not a MATLAB variable name"},
		{"empty-name", []MatArray{{Name: "", Class: ClassUint8, Dims: []int{1, 1}, Uint8: []uint8{1}}}, "not a MATLAB variable name"},
		{"long-name", []MatArray{{Name: strings.Repeat("a", 64), Class: ClassUint8, Dims: []int{1, 1}, Uint8: []uint8{1}}}, "not a MATLAB variable name"},
		{"one-dim", []MatArray{{Name: "a", Class: ClassUint8, Dims: []int{1}, Uint8: []uint8{1}}}, "1 dimensions, want 2"},
		{"count", []MatArray{{Name: "a", Class: ClassUint8, Dims: []int{2, 2}, Uint8: []uint8{1}}}, "has 1 values, its dimensions 2×2 make 4"},
		{"class", []MatArray{{Name: "a", Class: ClassInt16, Dims: []int{1, 1}, Float64: []float64{1}}}, "class int16"},
		{"negative", []MatArray{{Name: "a", Class: ClassUint8, Dims: []int{-1, 1}}}, "out of range"},
		{"huge", []MatArray{{Name: "a", Class: ClassUint8, Dims: []int{1 << 20, 1 << 20}}}, "too large"},
		{"duplicate", []MatArray{{Name: "a", Class: ClassUint8, Dims: []int{0, 0}}, {Name: "a", Class: ClassUint8, Dims: []int{0, 0}}}, `two variables named "a"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteMAT(&buf, tc.vars, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
}
