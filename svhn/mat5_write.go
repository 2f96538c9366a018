package svhn

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// DefaultHeaderText is the descriptive text WriteMAT puts in the header. MATLAB's own starts with
// "MATLAB 5.0 MAT-file" too; readers do not look further.
const DefaultHeaderText = "MATLAB 5.0 MAT-file, Platform: Go, Created by: github.com/confcal/confcal/svhn"

// WriteMAT writes vars as a Level 5 MAT-file (version 0x0100, little-endian), each variable a
// miMATRIX element or, when compress is true, a miCOMPRESSED one (zlib), as MATLAB's save -v7 does.
// It writes arrays of class uint8 (from Uint8, as miUINT8) and double (from Float64, stored as
// miUINT8 when every value is an integer in 0…255, as MATLAB does, and as miDOUBLE otherwise).
// Names must be MATLAB identifiers (a letter, then letters, digits and underscores, at most 63) and
// distinct; an array has at least two dimensions whose product is its number of values, and at
// most 2³²−1 bytes of data (beyond that MATLAB needs the v7.3 format). Such files are read by
// MATLAB, Octave and scipy.io.loadmat.
func WriteMAT(w io.Writer, vars []MatArray, compress bool) error {
	return writeMAT(w, DefaultHeaderText, vars, compress)
}

// writeMAT writes the MAT-file with the given header text.
func writeMAT(w io.Writer, text string, vars []MatArray, compress bool) error {
	head, err := headerText(text)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i := range vars {
		if err := checkWritable(&vars[i]); err != nil {
			return err
		}
		if seen[vars[i].Name] {
			return fmt.Errorf("WriteMAT: two variables named %q", vars[i].Name)
		}
		seen[vars[i].Name] = true
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	head = append(head, make([]byte, 8)...) // subsystem data offset: none
	head = binary.LittleEndian.AppendUint16(head, 0x0100)
	head = append(head, 'I', 'M')
	if _, err := bw.Write(head); err != nil {
		return err
	}
	for i := range vars {
		v := &vars[i]
		if !compress {
			if err := writeMatrix(bw, v); err != nil {
				return err
			}
			continue
		}
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		if err := writeMatrix(zw, v); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if buf.Len() > math.MaxUint32 {
			return fmt.Errorf("WriteMAT: variable %q compresses to %d bytes, more than a MAT-file element holds", v.Name, buf.Len())
		}
		if err := writeTag(bw, miCOMPRESSED, buf.Len()); err != nil {
			return err
		}
		if _, err := bw.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// validName reports whether s is a MATLAB variable name.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '_')) {
			return false
		}
	}
	return true
}

// checkWritable checks that WriteMAT can write a.
func checkWritable(a *MatArray) error {
	if !validName(a.Name) {
		return fmt.Errorf("WriteMAT: %q is not a MATLAB variable name (a letter, then letters, digits or _, at most 63)", a.Name)
	}
	if len(a.Dims) < 2 || len(a.Dims) > maxDims {
		return fmt.Errorf("WriteMAT: variable %q has %d dimensions, want 2 to %d", a.Name, len(a.Dims), maxDims)
	}
	n := int64(1)
	for _, d := range a.Dims {
		if d < 0 || d > math.MaxInt32 {
			return fmt.Errorf("WriteMAT: variable %q: dimension %d out of range", a.Name, d)
		}
		n *= int64(d)
		if n > math.MaxUint32 {
			return fmt.Errorf("WriteMAT: variable %q (%s) is too large for a Level 5 MAT-file", a.Name, dimsString(a.Dims))
		}
	}
	var have int
	switch a.Class {
	case ClassUint8:
		have = len(a.Uint8)
	case ClassDouble:
		have = len(a.Float64)
		if n*8 > math.MaxUint32 && !fitsUint8(a.Float64) {
			return fmt.Errorf("WriteMAT: variable %q (%s doubles) is too large for a Level 5 MAT-file", a.Name, dimsString(a.Dims))
		}
	default:
		return fmt.Errorf("WriteMAT: variable %q is of class %s; only uint8 and double arrays can be written", a.Name, a.Class)
	}
	if int64(have) != n {
		return fmt.Errorf("WriteMAT: variable %q has %d values, its dimensions %s make %d", a.Name, have, dimsString(a.Dims), n)
	}
	return nil
}

// fitsUint8 reports whether every value is an integer in 0…255 (and not −0), so that storing it as
// miUINT8 loses nothing.
func fitsUint8(vals []float64) bool {
	for _, x := range vals {
		if !(x >= 0 && x <= 255 && x == math.Trunc(x)) || math.Signbit(x) {
			return false
		}
	}
	return true
}

// pad8 rounds n up to a multiple of 8.
func pad8(n int) int { return (n + 7) &^ 7 }

// elementSize is the size of a sub-element of n bytes of data, tag and padding included.
func elementSize(n int) int {
	if n <= 4 {
		return 8 // small data element format
	}
	return 8 + pad8(n)
}

// writeTag writes a regular tag.
func writeTag(w io.Writer, typ uint32, n int) error {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:4], typ)
	binary.LittleEndian.PutUint32(b[4:], uint32(n))
	_, err := w.Write(b[:])
	return err
}

// writeElement writes a sub-element of type typ holding data, in the small format when it fits.
func writeElement(w io.Writer, typ uint32, data []byte) error {
	if len(data) <= 4 {
		var b [8]byte
		binary.LittleEndian.PutUint32(b[:4], uint32(len(data))<<16|typ)
		copy(b[4:], data)
		_, err := w.Write(b[:])
		return err
	}
	if err := writeTag(w, typ, len(data)); err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	var zero [8]byte
	_, err := w.Write(zero[:pad8(len(data))-len(data)])
	return err
}

// writeMatrix writes a as a miMATRIX element (checkWritable has passed).
func writeMatrix(w io.Writer, a *MatArray) error {
	var typ uint32
	var data []byte
	switch {
	case a.Class == ClassUint8:
		typ, data = miUINT8, a.Uint8
	case fitsUint8(a.Float64):
		typ, data = miUINT8, make([]byte, len(a.Float64))
		for i, x := range a.Float64 {
			data[i] = uint8(x)
		}
	default:
		typ, data = miDOUBLE, make([]byte, 8*len(a.Float64))
		for i, x := range a.Float64 {
			binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(x))
		}
	}
	flags := make([]byte, 8)
	binary.LittleEndian.PutUint32(flags, uint32(a.Class))
	dims := make([]byte, 4*len(a.Dims))
	for i, d := range a.Dims {
		binary.LittleEndian.PutUint32(dims[4*i:], uint32(d))
	}
	size := elementSize(len(flags)) + elementSize(len(dims)) + elementSize(len(a.Name)) + elementSize(len(data))
	if size > math.MaxUint32 {
		return fmt.Errorf("WriteMAT: variable %q takes %d bytes, more than a MAT-file element holds", a.Name, size)
	}
	if err := writeTag(w, miMATRIX, size); err != nil {
		return err
	}
	for _, e := range []struct {
		typ  uint32
		data []byte
	}{{miUINT32, flags}, {miINT32, dims}, {miINT8, []byte(a.Name)}, {typ, data}} {
		if err := writeElement(w, e.typ, e.data); err != nil {
			return err
		}
	}
	return nil
}
