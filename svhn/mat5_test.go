package svhn

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The fixtures below are assembled byte by byte, following the MAT-file format description and
// independently of WriteMAT, so that the reader is checked against the format rather than against
// the writer.

// fx appends the bytes of a MAT-file in a given byte order.
type fx struct {
	o binary.AppendByteOrder
	b []byte
}

func (f *fx) u16(v uint16)  { f.b = f.o.AppendUint16(f.b, v) }
func (f *fx) u32(v uint32)  { f.b = f.o.AppendUint32(f.b, v) }
func (f *fx) raw(b ...byte) { f.b = append(f.b, b...) }
func (f *fx) str(s string)  { f.b = append(f.b, s...) }
func (f *fx) zeros(n int)   { f.b = append(f.b, make([]byte, n)...) }
func (f *fx) f64(v float64) { f.b = f.o.AppendUint64(f.b, math.Float64bits(v)) }
func newFx(big bool) *fx    { return &fx{o: order(big)} }
func order(big bool) binary.AppendByteOrder {
	if big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// header appends a 128-byte header: text padded with spaces, a zero subsystem offset, version
// 0x0100 and the endian indicator.
func (f *fx) header(text string) {
	f.str(text)
	f.raw(bytes.Repeat([]byte{' '}, 116-len(text))...)
	f.zeros(8)
	f.u16(0x0100)
	f.u16('M'<<8 | 'I') // "IM" on disk little-endian, "MI" big-endian
}

// fxVar is a variable as the fixture writes it: every sub-element spelled out.
type fxVar struct {
	flags uint32 // class | flag bits <<8
	dims  []int32
	name  string
	typ   uint32 // on-disk type of the real part
	data  []byte // real part, already in the file's byte order
	imag  []byte // imaginary part (type typ), for complex arrays
}

// sub appends a sub-element in the small format when it fits in 4 bytes, else tag, data, padding.
func (f *fx) sub(typ uint32, data []byte) {
	if len(data) <= 4 {
		f.u32(uint32(len(data))<<16 | typ)
		f.raw(data...)
		f.zeros(4 - len(data))
		return
	}
	f.u32(typ)
	f.u32(uint32(len(data)))
	f.raw(data...)
	f.zeros((8 - len(data)%8) % 8)
}

// matrix returns the bytes of v's miMATRIX element (tag included).
func (v fxVar) matrix(o binary.AppendByteOrder) []byte {
	body := &fx{o: o}
	body.u32(miUINT32) // array flags: always the regular 8-byte form
	body.u32(8)
	body.u32(v.flags)
	body.u32(0)
	dims := &fx{o: o}
	for _, d := range v.dims {
		dims.u32(uint32(d))
	}
	body.sub(miINT32, dims.b)
	body.sub(miINT8, []byte(v.name))
	body.sub(v.typ, v.data)
	if v.imag != nil {
		body.sub(v.typ, v.imag)
	}
	m := &fx{o: o}
	m.u32(miMATRIX)
	m.u32(uint32(len(body.b)))
	m.raw(body.b...)
	return m.b
}

// appendVar appends v as a miMATRIX element or, compressed, as a miCOMPRESSED one.
func (f *fx) appendVar(v fxVar, compress bool) {
	m := v.matrix(f.o)
	if !compress {
		f.raw(m...)
		return
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(m)
	zw.Close()
	f.u32(miCOMPRESSED)
	f.u32(uint32(z.Len()))
	f.raw(z.Bytes()...)
}

// fixtureVars are the variables of the hand-made file: y, a 2×1 double stored as miUINT8 in the
// small format; X, a 2×3 uint8 array; w, an int16 1×2 array with a negative value; d, a double
// stored as miDOUBLE; note, a char array that must be skipped; and z, a complex double array that
// must be skipped too.
func fixtureVars(o binary.AppendByteOrder) []fxVar {
	i16 := &fx{o: o}
	i16.u16(uint16(0xffff - 4)) // −5
	i16.u16(300)
	d := &fx{o: o}
	d.f64(2.5)
	chars := &fx{o: o}
	chars.u16('h')
	chars.u16('i')
	return []fxVar{
		{flags: uint32(ClassDouble), dims: []int32{2, 1}, name: "y", typ: miUINT8, data: []byte{10, 3}},
		{flags: uint32(ClassUint8), dims: []int32{2, 3}, name: "X", typ: miUINT8, data: []byte{1, 2, 3, 4, 5, 6}},
		{flags: uint32(ClassInt16), dims: []int32{1, 2}, name: "w", typ: miINT16, data: i16.b},
		{flags: uint32(ClassDouble), dims: []int32{1, 1}, name: "d", typ: miDOUBLE, data: d.b},
		{flags: uint32(ClassChar), dims: []int32{1, 2}, name: "note", typ: miUINT16, data: chars.b},
		{flags: uint32(ClassDouble) | 0x0800, dims: []int32{1, 1}, name: "z", typ: miUINT8, data: []byte{1}, imag: []byte{2}},
	}
}

// handMadeFile returns the fixture file and the offsets at which its elements start.
func handMadeFile(big, compress bool, vars []fxVar) (data []byte, starts []int) {
	f := newFx(big)
	f.header("MATLAB 5.0 MAT-file, hand-made test fixture")
	for _, v := range vars {
		starts = append(starts, len(f.b))
		f.appendVar(v, compress)
	}
	return f.b, starts
}

func TestReadMATHandMade(t *testing.T) {
	for _, tc := range []struct {
		name          string
		big, compress bool
	}{
		{"little-endian", false, false},
		{"big-endian", true, false},
		{"little-endian-compressed", false, true},
		{"big-endian-compressed", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, _ := handMadeFile(tc.big, tc.compress, fixtureVars(order(tc.big)))
			if tc.name == "little-endian" {
				// The layout spelled out: header, then y's tag at byte 128, its small name
				// element "y" and its small real part (two miUINT8 values 10, 3).
				want := []byte{14, 0, 0, 0, 48, 0, 0, 0, 6, 0, 0, 0, 8, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0,
					5, 0, 0, 0, 8, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 'y', 0, 0, 0, 2, 0, 2, 0, 10, 3, 0, 0}
				if got := data[128 : 128+len(want)]; !bytes.Equal(got, want) || string(data[126:128]) != "IM" {
					t.Fatalf("fixture bytes:\n% x\nwant\n% x", got, want)
				}
			}
			vars, err := ReadMAT(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			names := slices.Sorted(func(yield func(string) bool) {
				for k := range vars {
					if !yield(k) {
						return
					}
				}
			})
			if !slices.Equal(names, []string{"X", "d", "w", "y"}) {
				t.Fatalf("variables %v, want X d w y (note and z skipped)", names)
			}
			check := func(name string, class Class, dims []int, want []float64) {
				t.Helper()
				a := vars[name]
				if a.Name != name || a.Class != class || !slices.Equal(a.Dims, dims) || a.Len() != len(want) {
					t.Fatalf("%s: got %s %v %v, want %s %v", name, a.Class, a.Dims, a.Name, class, dims)
				}
				for i, w := range want {
					if a.At(i) != w {
						t.Errorf("%s(%d) = %v, want %v", name, i+1, a.At(i), w)
					}
				}
			}
			check("y", ClassDouble, []int{2, 1}, []float64{10, 3})
			check("X", ClassUint8, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
			check("w", ClassInt16, []int{1, 2}, []float64{-5, 300})
			check("d", ClassDouble, []int{1, 1}, []float64{2.5})
			if vars["X"].Uint8 == nil || vars["X"].Float64 != nil || vars["y"].Float64 == nil || vars["y"].Uint8 != nil {
				t.Error("uint8 data must be in Uint8 only, others in Float64 only")
			}
		})
	}
}

// svhnVars returns X (32×32×3×n, X[i] = pixel(i)) and y as hand-made variables.
func svhnVars(o binary.AppendByteOrder, n int, labels []byte, pixel func(i int) byte) []fxVar {
	x := make([]byte, 32*32*3*n)
	for i := range x {
		x[i] = pixel(i)
	}
	return []fxVar{
		{flags: uint32(ClassUint8), dims: []int32{32, 32, 3, int32(n)}, name: "X", typ: miUINT8, data: x},
		{flags: uint32(ClassDouble), dims: []int32{int32(len(labels)), 1}, name: "y", typ: miUINT8, data: labels},
	}
}

func pattern(i int) byte { return byte(i*7%251 + i/1024) }

func TestReadSetHandMade(t *testing.T) {
	for _, tc := range []struct {
		name          string
		big, compress bool
	}{{"le", false, false}, {"be", true, false}, {"le-z", false, true}, {"be-z", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			o := order(tc.big)
			// A variable to skip before X, as MATLAB files may have.
			vars := append([]fxVar{{flags: uint32(ClassDouble), dims: []int32{1, 1}, name: "other", typ: miUINT8, data: []byte{7}}},
				svhnVars(o, 2, []byte{10, 3}, pattern)...)
			data, _ := handMadeFile(tc.big, tc.compress, vars)
			s, err := ReadSet(bytes.NewReader(data), "fixture.mat")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
			if s.N != 2 || s.C != 3 || s.H != 32 || s.W != 32 || s.Name != "svhn" || s.Source != "fixture.mat" {
				t.Fatalf("N=%d C=%d H=%d W=%d Name=%q Source=%q", s.N, s.C, s.H, s.W, s.Name, s.Source)
			}
			if !slices.Equal(s.Labels, []int{0, 3}) {
				t.Errorf("labels %v, want [0 3] (10 is the digit 0)", s.Labels)
			}
			for n := range 2 {
				for c := range 3 {
					for h := range 32 {
						for w := range 32 {
							want := float32(pattern(h+32*(w+32*(c+3*n)))) / 255
							if got := s.Images[((n*3+c)*32+h)*32+w]; got != want {
								t.Fatalf("image %d channel %d (h=%d, w=%d) = %v, want %v", n, c, h, w, got, want)
							}
						}
					}
				}
			}
		})
	}
}

func TestReadMATBadHeader(t *testing.T) {
	good, _ := handMadeFile(false, false, fixtureVars(binary.LittleEndian))
	edit := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than the 128-byte header"},
		{"short", good[:100], "not a MAT-file: 100 bytes"},
		{"endian", edit(func(b []byte) []byte { b[126], b[127] = 'X', 'Y'; return b }), `endian indicator "XY"`},
		{"version-7.3", edit(func(b []byte) []byte { b[124], b[125] = 0, 2; return b }), "v7.3"},
		{"version", edit(func(b []byte) []byte { b[124], b[125] = 5, 0; return b }), "version 0x0005"},
		{"level-4", edit(func(b []byte) []byte { b[0] = 0; return b }), "Level 4"},
		{"not-a-matrix", edit(func(b []byte) []byte { b[128] = miDOUBLE; return b }), "data element of miDOUBLE, want miMATRIX"},
		{"small-at-top", edit(func(b []byte) []byte { b[130] = 1; return b }), "small data element"},
		{"empty-compressed", append(slices.Clone(good[:128]), miCOMPRESSED, 0, 0, 0, 1, 0, 0, 0, 0x78), "too short for its 2-byte zlib header"},
		{"compressed-not-matrix", func() []byte {
			f := &fx{o: binary.LittleEndian, b: slices.Clone(good[:128])}
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write([]byte{miDOUBLE, 0, 0, 0, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
			zw.Close()
			f.u32(miCOMPRESSED)
			f.u32(uint32(z.Len()))
			f.raw(z.Bytes()...)
			return f.b
		}(), "compressed element holds a miDOUBLE element, want miMATRIX"},
		{"compressed-empty-stream", func() []byte {
			f := &fx{o: binary.LittleEndian, b: slices.Clone(good[:128])}
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Close()
			f.u32(miCOMPRESSED)
			f.u32(uint32(z.Len()))
			f.raw(z.Bytes()...)
			return f.b
		}(), "end before the 8-byte tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadMAT(bytes.NewReader(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestReadMATTruncated(t *testing.T) {
	for _, compress := range []bool{false, true} {
		vars := svhnVars(binary.LittleEndian, 2, []byte{10, 3}, pattern)
		data, starts := handMadeFile(false, compress, vars)
		boundary := map[int]bool{len(data): true}
		for _, s := range starts {
			boundary[s] = true
		}
		// Cuts in every part: the header, tags, flags, dims, name, the data and the last byte.
		cuts := []int{0, 1, 127, 128, 129, 135, 136, 140, 150, 160, 170, 200, 1000, 3000, len(data) - 30, len(data) - 9, len(data) - 1}
		for k := starts[1] - 20; k <= starts[1]+40; k++ {
			cuts = append(cuts, k)
		}
		for _, cut := range cuts {
			if cut < 0 || cut > len(data) {
				continue
			}
			_, errSet := ReadSet(bytes.NewReader(data[:cut]), "cut.mat")
			if errSet == nil {
				t.Fatalf("compress=%v: ReadSet accepted the file cut at %d of %d bytes", compress, cut, len(data))
			}
			_, err := ReadMAT(bytes.NewReader(data[:cut]))
			switch {
			case cut < 128:
				if err == nil || !strings.Contains(err.Error(), "not a MAT-file") {
					t.Errorf("compress=%v, cut %d: %v", compress, cut, err)
				}
			case boundary[cut]:
				// A file cut between variables is a valid file with fewer variables.
				if err != nil {
					t.Errorf("compress=%v, cut %d at an element boundary: %v", compress, cut, err)
				}
				if !strings.Contains(errSet.Error(), "no variable") {
					t.Errorf("compress=%v, cut %d: %v, want a missing variable", compress, cut, errSet)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(errSet.Error(), "cut.mat") {
					t.Errorf("compress=%v, cut %d: %v / %v, want truncated", compress, cut, err, errSet)
				}
			}
		}
	}
}

func TestReadMATCorruptZlib(t *testing.T) {
	vars := svhnVars(binary.LittleEndian, 2, []byte{10, 3}, pattern)
	data, starts := handMadeFile(false, true, vars)
	zStart, zEnd := starts[0]+8, starts[1] // X's zlib stream
	for _, tc := range []struct {
		name string
		pos  int
		want string
	}{
		{"zlib-header", zStart, "bad zlib data"},
		{"adler32", zEnd - 1, "bad zlib data"},
		{"middle", (zStart + zEnd) / 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := slices.Clone(data)
			b[tc.pos] ^= 0x55
			_, err := ReadSet(bytes.NewReader(b), "bad.mat")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.mat") {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if _, err := ReadMAT(bytes.NewReader(b)); err == nil {
				t.Error("ReadMAT accepted corrupt zlib data")
			}
		})
	}
}

func TestReadSetErrors(t *testing.T) {
	o := binary.LittleEndian
	two := svhnVars(o, 2, []byte{10, 3}, pattern)
	x, y := two[0], two[1]
	with := func(v fxVar, f func(v *fxVar)) fxVar {
		v.dims = slices.Clone(v.dims)
		f(&v)
		return v
	}
	for _, tc := range []struct {
		name string
		vars []fxVar
		want string
	}{
		{"no-y", []fxVar{x}, "no variable y"},
		{"no-X", []fxVar{y}, "no variable X"},
		{"X-complex", []fxVar{with(x, func(v *fxVar) { v.flags |= 0x0800; v.imag = v.data }), y}, "variable X is a complex uint8 array"},
		{"X-cell", []fxVar{with(x, func(v *fxVar) { v.flags = uint32(ClassCell) }), y}, "variable X is a cell array"},
		{"X-dims-4", []fxVar{with(x, func(v *fxVar) { v.dims = []int32{32, 32, 2, 3} }), y}, "X is 32×32×2×3, want 32×32×3×N"},
		{"X-dims-2", []fxVar{with(x, func(v *fxVar) { v.dims = []int32{1024, 6} }), y}, "X is 1024×6, want 32×32×3×N"},
		{"dims-product", []fxVar{with(x, func(v *fxVar) { v.dims[3] = 3 }), y}, "make 9216 elements but the data hold 6144"},
		{"negative-dim", []fxVar{with(x, func(v *fxVar) { v.dims[3] = -2 }), y}, "dimension 4 is -2"},
		{"y-2x2", []fxVar{x, with(y, func(v *fxVar) { v.dims = []int32{1, 2} })}, "y is 1×2, want N×1"},
		{"y-3d", []fxVar{x, with(y, func(v *fxVar) { v.dims = []int32{2, 1, 1} })}, "y is 2×1×1, want N×1"},
		{"N-mismatch", []fxVar{x, with(y, func(v *fxVar) { v.dims = []int32{3, 1}; v.data = []byte{1, 2, 3} })}, "X holds 2 images but y has 3 labels"},
		{"label-0", []fxVar{x, with(y, func(v *fxVar) { v.data = []byte{1, 0} })}, "y(2) is 0, want a label in 1…10"},
		{"label-11", []fxVar{x, with(y, func(v *fxVar) { v.data = []byte{11, 1} })}, "y(1) is 11"},
		{"label-fraction", []fxVar{x, with(y, func(v *fxVar) {
			d := &fx{o: o}
			d.f64(1)
			d.f64(2.5)
			v.typ, v.data = miDOUBLE, d.b
		})}, "y(2) is 2.5"},
		{"real-part-type", []fxVar{x, with(y, func(v *fxVar) { v.typ = miUTF8 })}, "a miUTF8 element, want a numeric data type"},
		{"ragged-data", []fxVar{x, with(y, func(v *fxVar) { v.typ = miINT16; v.data = []byte{1, 0, 2} })}, "not a whole number of 2-byte values"},
		{"duplicate", []fxVar{x, y, y}, `a second variable named "y"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, compress := range []bool{false, true} {
				data, _ := handMadeFile(false, compress, tc.vars)
				_, err := ReadSet(bytes.NewReader(data), "case.mat")
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "case.mat") {
					t.Fatalf("compress=%v: error %v, want one naming case.mat and containing %q", compress, err, tc.want)
				}
			}
		})
	}
}

// TestReadSetOneImage checks a file of one image, whose X MATLAB saves as 32×32×3.
func TestReadSetOneImage(t *testing.T) {
	vars := svhnVars(binary.LittleEndian, 1, []byte{7}, pattern)
	vars[0].dims = vars[0].dims[:3]
	data, _ := handMadeFile(false, true, vars)
	s, err := ReadSet(bytes.NewReader(data), "one.mat")
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 1 || s.Labels[0] != 7 || s.Images[1] != float32(pattern(32))/255 {
		t.Fatalf("N=%d labels %v pixel (0,1) %v", s.N, s.Labels, s.Images[1])
	}
}

// TestReadMATLyingSizes checks that size fields far beyond the input cost no more memory than the
// input: an element that declares 4 GB, a real part of 4 GB, and dimensions whose product is huge.
func TestReadMATLyingSizes(t *testing.T) {
	var cases [][]byte
	for _, compress := range []bool{false, true} {
		v := fxVar{flags: uint32(ClassUint8), dims: []int32{65536, 65535}, name: "X", typ: miUINT8, data: make([]byte, 64)}
		m := v.matrix(binary.LittleEndian)
		// Declare 4,294,901,760 bytes of real part and a matching miMATRIX size.
		binary.LittleEndian.PutUint32(m[8+16+16+8+4:], 65536*65535)
		binary.LittleEndian.PutUint32(m[4:], 0xfffffff0)
		f := newFx(false)
		f.header("MATLAB 5.0 MAT-file, lying sizes")
		if compress {
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write(m)
			zw.Close()
			f.u32(miCOMPRESSED)
			f.u32(0xfffffff0)
			f.raw(z.Bytes()...)
		} else {
			f.raw(m...)
		}
		cases = append(cases, f.b)
	}
	for i, data := range cases {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := ReadMAT(bytes.NewReader(data))
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("case %d: error %v, want truncated", i, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("case %d: reading %d bytes allocated %d bytes", i, len(data), alloc)
		}
	}
}
