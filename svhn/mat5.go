package svhn

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// A Level 5 MAT-file (MATLAB 5 to 7.x; "MAT-File Format", The MathWorks, 2023) is a 128-byte
// header followed by data elements. The header holds 116 bytes of descriptive text, an 8-byte
// subsystem data offset, a 2-byte version (0x0100) and a 2-byte endian indicator: the characters
// "MI" written as a 16-bit integer, so that a file written little-endian reads "IM". Every number in
// the file, compressed parts included, is in that byte order.
//
// A data element is an 8-byte tag (data type, number of bytes) followed by its data and padding to
// a multiple of 8 bytes; an element of at most 4 bytes may use the small format, the number of bytes
// in the upper and the type in the lower 16 bits of the tag's first 32-bit word and the data in its
// second. Each variable is a miMATRIX element (the array flags, the dimensions, the name and the
// real part, each a sub-element) or, since v7, a miCOMPRESSED element: a zlib stream holding a
// miMATRIX element. The type of a numeric array's data need not be its class's: MATLAB stores a
// double array whose values fit in a uint8 as miUINT8, for instance.

// Data types of data elements (miINT8 …).
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
	miUTF8       = 16
	miUTF16      = 17
	miUTF32      = 18
)

// miNames are the names of the data types, for error messages.
var miNames = map[uint32]string{
	miINT8: "miINT8", miUINT8: "miUINT8", miINT16: "miINT16", miUINT16: "miUINT16",
	miINT32: "miINT32", miUINT32: "miUINT32", miSINGLE: "miSINGLE", miDOUBLE: "miDOUBLE",
	miINT64: "miINT64", miUINT64: "miUINT64", miMATRIX: "miMATRIX", miCOMPRESSED: "miCOMPRESSED",
	miUTF8: "miUTF8", miUTF16: "miUTF16", miUTF32: "miUTF32",
}

// miName returns the name of data type t, or its number.
func miName(t uint32) string {
	if s, ok := miNames[t]; ok {
		return s
	}
	return fmt.Sprintf("data type %d", t)
}

// miSize returns the size in bytes of one value of numeric data type t, or 0 when t is not numeric.
func miSize(t uint32) int {
	switch t {
	case miINT8, miUINT8:
		return 1
	case miINT16, miUINT16:
		return 2
	case miINT32, miUINT32, miSINGLE:
		return 4
	case miDOUBLE, miINT64, miUINT64:
		return 8
	}
	return 0
}

// Class is a MATLAB array class (mxClassID), the low byte of an array's flags.
type Class uint8

// The array classes. ReadMAT decodes the numeric ones, ClassDouble to ClassUint64; WriteMAT writes
// ClassDouble and ClassUint8.
const (
	ClassCell     Class = 1
	ClassStruct   Class = 2
	ClassObject   Class = 3
	ClassChar     Class = 4
	ClassSparse   Class = 5
	ClassDouble   Class = 6
	ClassSingle   Class = 7
	ClassInt8     Class = 8
	ClassUint8    Class = 9
	ClassInt16    Class = 10
	ClassUint16   Class = 11
	ClassInt32    Class = 12
	ClassUint32   Class = 13
	ClassInt64    Class = 14
	ClassUint64   Class = 15
	ClassFunction Class = 16
	ClassOpaque   Class = 17
)

var classNames = [...]string{
	ClassCell: "cell", ClassStruct: "struct", ClassObject: "object", ClassChar: "char",
	ClassSparse: "sparse", ClassDouble: "double", ClassSingle: "single", ClassInt8: "int8",
	ClassUint8: "uint8", ClassInt16: "int16", ClassUint16: "uint16", ClassInt32: "int32",
	ClassUint32: "uint32", ClassInt64: "int64", ClassUint64: "uint64", ClassFunction: "function",
	ClassOpaque: "opaque",
}

// String returns the class's MATLAB name ("double", "uint8", …).
func (c Class) String() string {
	if int(c) < len(classNames) && classNames[c] != "" {
		return classNames[c]
	}
	return fmt.Sprintf("class %d", uint8(c))
}

// Numeric reports whether c is one of the numeric classes (double, single, the integers).
func (c Class) Numeric() bool { return c >= ClassDouble && c <= ClassUint64 }

// MatArray is a real numeric MATLAB array: its name, class, dimensions and values, in MATLAB's
// column-major order (the first index varies fastest). The values of a uint8 array are in Uint8,
// those of any other class in Float64 (converted; 64-bit integers beyond ±2⁵³ lose precision). The
// other slice is nil.
type MatArray struct {
	Name    string
	Class   Class
	Dims    []int
	Uint8   []uint8
	Float64 []float64
}

// Len returns the number of elements, the product of Dims.
func (a *MatArray) Len() int {
	n := 1
	for _, d := range a.Dims {
		n *= d
	}
	return n
}

// At returns element i (in column-major order) as a float64, whichever slice holds it.
func (a *MatArray) At(i int) float64 {
	if a.Class == ClassUint8 {
		return float64(a.Uint8[i])
	}
	return a.Float64[i]
}

// dimsString writes dims as "32×32×3×10".
func dimsString(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "×")
}

// Limits on what a variable's header may declare; beyond them the file is taken for corrupt rather
// than trying to read it.
const (
	maxDims    = 64
	maxNameLen = 4096
	// firstChunk is the most readBytes allocates before any data have arrived; it then grows the
	// buffer as the data come, so that a lying size field costs at most about the input's size.
	firstChunk = 1 << 16
)

// headerLen is the size of a Level 5 MAT-file's header.
const headerLen = 128

// matHeader is what ReadMAT takes from a file's header.
type matHeader struct {
	text  string // the descriptive text, trailing spaces and NULs removed
	order binary.ByteOrder
}

// ReadMAT reads a Level 5 MAT-file (MATLAB 5 to 7.x, compressed or not, either byte order) and
// returns its real numeric arrays by name. Variables of other kinds (char, cell, struct, sparse,
// complex, …) and variables without a name are skipped. The errors say which variable and element
// (by byte offset) are at fault and what was expected. ReadMAT reads r to its end; it keeps the
// data of a uint8 array as they are on disk and allocates memory only as the data arrive, so a
// lying size field cannot make it allocate much more than the input holds.
func ReadMAT(r io.Reader) (map[string]*MatArray, error) {
	_, vars, _, err := readMAT(r, nil, nil)
	return vars, err
}

// readMAT reads the MAT-file in r. want, when not nil, says which variables to decode (the others
// are skipped without inflating them). check, when not nil, is called with a wanted numeric
// variable's name and dimensions before its data are read (or inflated); an error from it stops
// the reading. It returns the header, the decoded variables, and the reason each skipped variable
// was skipped.
func readMAT(r io.Reader, want func(name string) bool, check func(hdr matHeader, name string, dims []int) error) (matHeader, map[string]*MatArray, map[string]string, error) {
	cr := &countingReader{r: bufio.NewReaderSize(r, 1<<16)}
	var hdr matHeader
	var raw [headerLen]byte
	if k, err := io.ReadFull(cr, raw[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return hdr, nil, nil, fmt.Errorf("not a MAT-file: %d bytes, shorter than the %d-byte header of a Level 5 MAT-file", k, headerLen)
		}
		return hdr, nil, nil, fmt.Errorf("reading the MAT-file header: %w", err)
	}
	if raw[0] == 0 || raw[1] == 0 || raw[2] == 0 || raw[3] == 0 {
		return hdr, nil, nil, fmt.Errorf("bad header: a zero among the first 4 bytes (% x) marks a Level 4 MAT-file (MATLAB -v4), which is not supported; want a Level 5 MAT-file (save with -v7 or -v6)", raw[:4])
	}
	switch string(raw[126:128]) {
	case "IM":
		hdr.order = binary.LittleEndian
	case "MI":
		hdr.order = binary.BigEndian
	default:
		return hdr, nil, nil, fmt.Errorf("bad header: endian indicator %q at byte 126, want \"IM\" or \"MI\" (not a Level 5 MAT-file)", raw[126:128])
	}
	switch v := hdr.order.Uint16(raw[124:126]); v {
	case 0x0100:
	case 0x0200:
		return hdr, nil, nil, fmt.Errorf("unsupported MAT-file version 0x0200: a MATLAB v7.3 file (HDF5), want version 0x0100 (save with -v7)")
	default:
		return hdr, nil, nil, fmt.Errorf("unsupported MAT-file version 0x%04x, want 0x0100", v)
	}
	hdr.text = strings.TrimRight(string(raw[:116]), " \x00")

	vars := map[string]*MatArray{}
	skipped := map[string]string{}
	for index := 0; ; index++ {
		pos := cr.n
		var tb [8]byte
		k, err := io.ReadFull(cr, tb[:])
		if err == io.EOF {
			return hdr, vars, skipped, nil
		}
		where := fmt.Sprintf("variable #%d (element at byte %d)", index+1, pos)
		if err == io.ErrUnexpectedEOF {
			return hdr, nil, nil, fmt.Errorf("%s: truncated: the file ends after %d of the 8 bytes of the element's tag", where, k)
		}
		if err != nil {
			return hdr, nil, nil, fmt.Errorf("%s: %w", where, err)
		}
		w0, n := hdr.order.Uint32(tb[:4]), hdr.order.Uint32(tb[4:])
		if w0>>16 != 0 {
			return hdr, nil, nil, fmt.Errorf("%s: a small data element (type %d, %d bytes) where a variable was expected; want miMATRIX (14) or miCOMPRESSED (15)", where, w0&0xffff, w0>>16)
		}
		if w0 != miMATRIX && w0 != miCOMPRESSED {
			return hdr, nil, nil, fmt.Errorf("%s: data element of %s, want miMATRIX (14) or miCOMPRESSED (15)", where, miName(w0))
		}
		elem := &limitReader{r: cr, n: int64(n)}
		v := varReader{order: hdr.order, want: want, hdr: hdr, check: check}
		arr, name, reason, err := v.readElement(elem, w0 == miCOMPRESSED)
		if name != "" {
			where = fmt.Sprintf("variable %q (element at byte %d)", name, pos)
		}
		if err == nil {
			// Skip what is left of the element (a skipped variable's data).
			_, err = io.Copy(io.Discard, elem)
		}
		if elem.short {
			return hdr, nil, nil, fmt.Errorf("%s: truncated: the element declares %d bytes but the file ends after %d of them", where, n, int64(n)-elem.n)
		}
		if err != nil {
			return hdr, nil, nil, fmt.Errorf("%s: %w", where, err)
		}
		switch {
		case arr != nil:
			if _, dup := vars[arr.Name]; dup {
				return hdr, nil, nil, fmt.Errorf("%s: a second variable named %q", where, arr.Name)
			}
			vars[arr.Name] = arr
		case name != "":
			skipped[name] = reason
		}
	}
}

// varReader reads one variable's element.
type varReader struct {
	order binary.ByteOrder
	want  func(string) bool
	hdr   matHeader
	check func(hdr matHeader, name string, dims []int) error
}

// readElement reads a miMATRIX or miCOMPRESSED element's data from r (which ends with the
// element). It returns the array (nil when skipped), the variable's name once known, and why it
// was skipped.
func (v *varReader) readElement(r *limitReader, compressed bool) (arr *MatArray, name, reason string, err error) {
	if !compressed {
		arr, name, reason, err = v.readMatrix(r)
		return arr, name, reason, err
	}
	zr, err := zlib.NewReader(r)
	if err != nil {
		if (err == io.EOF || err == io.ErrUnexpectedEOF) && !r.short {
			err = errors.New("the miCOMPRESSED element is too short for its 2-byte zlib header")
		}
		return nil, "", "", zlibError(err)
	}
	var tb [8]byte
	if _, err := io.ReadFull(zr, tb[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = errors.New("the compressed data end before the 8-byte tag of the miMATRIX element they should hold")
		}
		return nil, "", "", zlibError(err)
	}
	w0, n := v.order.Uint32(tb[:4]), v.order.Uint32(tb[4:])
	if w0 != miMATRIX {
		return nil, "", "", fmt.Errorf("compressed element holds a %s element, want miMATRIX (14)", miName(w0&0xffff))
	}
	inner := &limitReader{r: zr, n: int64(n)}
	arr, name, reason, err = v.readMatrix(inner)
	if err == nil && arr != nil {
		// Inflate the rest, so that the zlib checksum is verified.
		_, err = io.Copy(io.Discard, zr)
		if err == nil {
			err = zr.Close()
		}
	}
	if inner.short && !r.short && err != nil && !isZlibError(err) {
		err = fmt.Errorf("%w (the inflated data end %d bytes before the end of the miMATRIX element they hold, which declares %d bytes)", err, inner.n, n)
	}
	return arr, name, reason, zlibError(err)
}

// isZlibError reports whether err comes from corrupt zlib data.
func isZlibError(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, zlib.ErrChecksum) || errors.Is(err, zlib.ErrHeader) || errors.Is(err, zlib.ErrDictionary) || errors.As(err, &ce)
}

// zlibError marks corrupt-zlib errors as such.
func zlibError(err error) error {
	if err != nil && isZlibError(err) {
		return fmt.Errorf("bad zlib data in a miCOMPRESSED element: %w", err)
	}
	return err
}

// tag is a data element's tag; data holds a small element's data.
type tag struct {
	typ   uint32
	n     uint32
	small bool
	data  [4]byte
}

// readTag reads a sub-element's tag; what names the sub-element in errors.
func (v *varReader) readTag(r io.Reader, what string) (tag, error) {
	var b [8]byte
	if k, err := io.ReadFull(r, b[:]); err != nil {
		return tag{}, truncated(err, what, "its tag", k, 8)
	}
	w0 := v.order.Uint32(b[:4])
	if w0>>16 != 0 {
		t := tag{typ: w0 & 0xffff, n: w0 >> 16, small: true}
		if t.n > 4 {
			return tag{}, fmt.Errorf("%s: small data element of %d bytes, at most 4 fit", what, t.n)
		}
		copy(t.data[:], b[4:])
		return t, nil
	}
	return tag{typ: w0, n: v.order.Uint32(b[4:])}, nil
}

// readData reads the data of the sub-element of tag t and skips its padding. A data size above
// limit (when limit > 0) is an error.
func (v *varReader) readData(r io.Reader, t tag, what string, limit int) ([]byte, error) {
	if t.small {
		return t.data[:t.n], nil
	}
	if limit > 0 && int64(t.n) > int64(limit) {
		return nil, fmt.Errorf("%s: %d bytes, want at most %d", what, t.n, limit)
	}
	data, err := readBytes(r, int64(t.n))
	if err != nil {
		return nil, truncated(err, what, "its data", len(data), int(t.n))
	}
	if pad := (8 - t.n%8) % 8; pad > 0 {
		// Padding missing at the very end of an element is tolerated; a file cut short is found
		// when the enclosing element's declared size is not there.
		_, _ = io.CopyN(io.Discard, r, int64(pad))
	}
	return data, nil
}

// truncated describes a read of want bytes that got got bytes and err.
func truncated(err error, what, of string, got, want int) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%s: truncated: the enclosing element ends after %d of the %d bytes of %s", what, got, want, of)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// readBytes reads exactly n bytes from r, growing its buffer as the data arrive rather than trusting
// n for the allocation. On a short read it returns what it got and the error of io.ReadFull.
func readBytes(r io.Reader, n int64) ([]byte, error) {
	if n < 0 || n > math.MaxInt {
		return nil, fmt.Errorf("%d bytes cannot be held in memory", n)
	}
	buf := make([]byte, 0, min(n, firstChunk))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(nb, buf)
			buf = nb
		}
		k, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}

// readMatrix reads the sub-elements of a miMATRIX element from r (which ends with the element): the
// array flags, the dimensions, the name and, for a wanted real numeric array, the real part.
func (v *varReader) readMatrix(r *limitReader) (arr *MatArray, name, reason string, err error) {
	if r.n == 0 {
		return nil, "", "", nil // an empty matrix element (MATLAB writes them for empty cells)
	}
	// Array flags: a miUINT32 element of 8 bytes, the class in the low byte of the first word and
	// the complex (0x08), global (0x04) and logical (0x02) flags in the next byte.
	t, err := v.readTag(r, "array flags")
	if err != nil {
		return nil, "", "", err
	}
	if t.typ != miUINT32 || t.n != 8 {
		return nil, "", "", fmt.Errorf("array flags: a %s element of %d bytes, want miUINT32 of 8 bytes", miName(t.typ), t.n)
	}
	flags, err := v.readData(r, t, "array flags", 8)
	if err != nil {
		return nil, "", "", err
	}
	fw := v.order.Uint32(flags[:4])
	class := Class(fw & 0xff)
	complexArray := fw&0x0800 != 0

	// Dimensions: miINT32, at least two.
	t, err = v.readTag(r, "dimensions")
	if err != nil {
		return nil, "", "", err
	}
	if t.typ != miINT32 || t.n%4 != 0 || t.n < 8 {
		return nil, "", "", fmt.Errorf("dimensions: a %s element of %d bytes, want miINT32 with at least 2 dimensions", miName(t.typ), t.n)
	}
	raw, err := v.readData(r, t, "dimensions", 4*maxDims)
	if err != nil {
		return nil, "", "", err
	}
	dims := make([]int, len(raw)/4)
	for i := range dims {
		d := int32(v.order.Uint32(raw[4*i:]))
		if d < 0 {
			return nil, "", "", fmt.Errorf("dimensions: dimension %d is %d", i+1, d)
		}
		dims[i] = int(d)
	}

	// Name: miINT8 (some writers use miUTF8), possibly empty.
	t, err = v.readTag(r, "array name")
	if err != nil {
		return nil, "", "", err
	}
	if t.typ != miINT8 && t.typ != miUINT8 && t.typ != miUTF8 {
		return nil, "", "", fmt.Errorf("array name: a %s element, want miINT8", miName(t.typ))
	}
	nb, err := v.readData(r, t, "array name", maxNameLen)
	if err != nil {
		return nil, "", "", err
	}
	name = string(nb)
	if name == "" {
		return nil, "", "", nil
	}
	if v.want != nil && !v.want(name) {
		return nil, name, "not requested", nil
	}
	switch {
	case !class.Numeric():
		return nil, name, fmt.Sprintf("a %s array (%s), not a numeric one", class, dimsString(dims)), nil
	case complexArray:
		return nil, name, fmt.Sprintf("a complex %s array (%s), not a real one", class, dimsString(dims)), nil
	}
	if v.check != nil {
		if err := v.check(v.hdr, name, dims); err != nil {
			return nil, name, "", err
		}
	}

	// Real part.
	const what = "real part"
	t, err = v.readTag(r, what)
	if err != nil {
		return nil, name, "", err
	}
	size := miSize(t.typ)
	if size == 0 {
		return nil, name, "", fmt.Errorf("%s: a %s element, want a numeric data type", what, miName(t.typ))
	}
	if t.n%uint32(size) != 0 {
		return nil, name, "", fmt.Errorf("%s: %d bytes of %s, not a whole number of %d-byte values", what, t.n, miName(t.typ), size)
	}
	count := int64(t.n) / int64(size)
	// The product of the dimensions, stopped once it exceeds count (dims are < 2³¹ and count < 2³²,
	// so it cannot overflow before), but only after a zero dimension has had its say.
	prod := int64(1)
	if !slices.Contains(dims, 0) {
		for _, d := range dims {
			prod *= int64(d)
			if prod > count {
				break
			}
		}
	} else {
		prod = 0
	}
	if prod != count {
		return nil, name, "", fmt.Errorf("%s: dimensions %s make %s elements but the data hold %d (%d bytes of %s)",
			what, dimsString(dims), prodString(dims), count, t.n, miName(t.typ))
	}
	data, err := v.readData(r, t, what, 0)
	if err != nil {
		return nil, name, "", err
	}
	arr = &MatArray{Name: name, Class: class, Dims: dims}
	if class == ClassUint8 {
		if t.typ == miUINT8 {
			arr.Uint8 = data
		} else {
			vals := v.decode(data, t.typ)
			arr.Uint8 = make([]uint8, len(vals))
			for i, x := range vals {
				if !(x >= 0 && x <= 255 && x == math.Trunc(x)) {
					return nil, name, "", fmt.Errorf("%s: value %d is %v, not a uint8", what, i+1, x)
				}
				arr.Uint8[i] = uint8(x)
			}
		}
	} else {
		arr.Float64 = v.decode(data, t.typ)
	}
	return arr, name, "", nil
}

// prodString returns the product of dims as a decimal string (exact, however large).
func prodString(dims []int) string {
	p := 1.0
	for _, d := range dims {
		p *= float64(d)
	}
	if p < 1<<53 {
		return fmt.Sprint(int64(p))
	}
	return fmt.Sprintf("%.4g", p)
}

// decode converts data of numeric type t to float64.
func (v *varReader) decode(data []byte, t uint32) []float64 {
	o := v.order
	size := miSize(t)
	out := make([]float64, len(data)/size)
	for i := range out {
		b := data[i*size:]
		switch t {
		case miINT8:
			out[i] = float64(int8(b[0]))
		case miUINT8:
			out[i] = float64(b[0])
		case miINT16:
			out[i] = float64(int16(o.Uint16(b)))
		case miUINT16:
			out[i] = float64(o.Uint16(b))
		case miINT32:
			out[i] = float64(int32(o.Uint32(b)))
		case miUINT32:
			out[i] = float64(o.Uint32(b))
		case miSINGLE:
			out[i] = float64(math.Float32frombits(o.Uint32(b)))
		case miDOUBLE:
			out[i] = math.Float64frombits(o.Uint64(b))
		case miINT64:
			out[i] = float64(int64(o.Uint64(b)))
		case miUINT64:
			out[i] = float64(o.Uint64(b))
		}
	}
	return out
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

// Read reads from the underlying reader, counting.
func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// limitReader reads at most n more bytes from r, and records whether r ended before them.
type limitReader struct {
	r     io.Reader
	n     int64 // bytes left
	short bool  // r ended with n > 0
}

// Read reads up to the limit; when r ends early it reports io.ErrUnexpectedEOF.
func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	if err == io.EOF {
		if l.n > 0 {
			l.short = true
			return k, io.ErrUnexpectedEOF
		}
		err = nil
	}
	return k, err
}

// headerText returns text padded with spaces to the 116 bytes of a header's descriptive text, or an
// error when it is longer.
func headerText(text string) ([]byte, error) {
	if len(text) > 116 {
		return nil, fmt.Errorf("MAT-file header text is %d bytes, at most 116 fit", len(text))
	}
	if len(text) < 4 || bytes.IndexByte([]byte(text[:4]), 0) >= 0 {
		return nil, fmt.Errorf("MAT-file header text %q must start with 4 non-zero bytes", text)
	}
	b := bytes.Repeat([]byte{' '}, 116)
	copy(b, text)
	return b, nil
}
