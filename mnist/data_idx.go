package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"
	"os"

	"github.com/confcal/confcal/internal/atomicfile"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte) and the number of
// dimensions (3 for images, 1 for labels).
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
)

// idxStream is an IDX file opened for reading: its decompressed content r and, when the file is
// hashed, the hash of its raw bytes.
type idxStream struct {
	path string
	f    *os.File
	raw  *bufio.Reader // the raw bytes (hashed through h when h is set)
	r    io.Reader     // the content: raw, or its gzip decompression
	gz   bool
	h    hash.Hash
}

// openIDX opens path, detecting gzip by the magic bytes 1f 8b (not by the file name). With h set,
// every raw byte read is hashed into h.
func openIDX(path string, h hash.Hash) (*idxStream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var src io.Reader = f
	if h != nil {
		src = io.TeeReader(f, h)
	}
	x := &idxStream{path: path, f: f, raw: bufio.NewReaderSize(src, 1<<16), h: h}
	x.r = x.raw
	head, err := x.raw.Peek(2)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(x.raw)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("reading %s: bad gzip header: %w", path, err)
		}
		x.r, x.gz = zr, true
	}
	return x, nil
}

// Close closes the file.
func (x *idxStream) Close() error { return x.f.Close() }

// readErr describes a failed read of the content (err is neither nil nor io.EOF).
func (x *idxStream) readErr(err error) error {
	if x.gz {
		return fmt.Errorf("reading %s: gzip data is corrupt or truncated: %w", x.path, err)
	}
	return fmt.Errorf("reading %s: %w", x.path, err)
}

// fill reads into buf until it is full or the content ends: it returns the bytes read and nil,
// io.EOF when the content ended cleanly before buf was full, or the read error.
func (x *idxStream) fill(buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := x.r.Read(buf[n:])
		n += k
		if err == io.EOF && n < len(buf) {
			return n, io.EOF
		}
		if err != nil && err != io.EOF {
			return n, x.readErr(err)
		}
	}
	return n, nil
}

// readBody reads want bytes of content, allocating as the data arrive (not by what the header
// declares). On a clean early end it returns what it got and io.EOF.
func (x *idxStream) readBody(want uint64) ([]byte, error) {
	if want > math.MaxInt {
		want = math.MaxInt
	}
	buf := make([]byte, 0, min(want, 1<<20))
	for uint64(len(buf)) < want {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(want, 2*uint64(cap(buf))))
			copy(nb, buf)
			buf = nb
		}
		k, err := x.fill(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// maxTrailing is the most bytes after the declared data that are counted exactly.
const maxTrailing = 1 << 20

// trailing counts the content after the declared data (up to maxTrailing + 1: more is not
// counted) and, for a gzip file, reads to the end of the gzip stream, checking its CRC.
func (x *idxStream) trailing() (int, error) {
	buf := make([]byte, 64<<10)
	n := 0
	for n <= maxTrailing {
		k, err := x.fill(buf)
		n += k
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// finish reads the rest of the raw file, so that the hash covers all of it, and returns the hash
// in hex ("" when the file is not hashed).
func (x *idxStream) finish() (string, error) {
	if x.h == nil {
		return "", nil
	}
	if _, err := io.Copy(io.Discard, x.raw); err != nil {
		return "", fmt.Errorf("reading %s: %w", x.path, err)
	}
	return hex.EncodeToString(x.h.Sum(nil)), nil
}

// trailingError describes trailing content of n bytes (n > maxTrailing: at least that many).
func trailingError(path string, n int, what string, size uint64) error {
	if n > maxTrailing {
		return fmt.Errorf("%s: more than %d trailing bytes after the %s declared in the header (expected %d bytes in all)", path, maxTrailing, what, size)
	}
	return fmt.Errorf("%s: %d trailing bytes after the %s declared in the header (file has %d bytes, expected %d)", path, n, what, size+uint64(n), size)
}

// checkMagic checks the 4-byte magic of an IDX file whose content starts with data.
func checkMagic(path string, data []byte, want uint32, headerLen int, what string) error {
	if len(data) < 4 {
		return fmt.Errorf("%s: truncated IDX header: file has %d bytes, an IDX %s header needs %d", path, len(data), what, headerLen)
	}
	got := binary.BigEndian.Uint32(data)
	if got == want {
		return nil
	}
	hint := ""
	switch {
	case got>>16 != 0:
		hint = " (not an IDX file)"
	case (got>>8)&0xff != 0x08:
		hint = fmt.Sprintf(" (element type 0x%02x, want 0x08 = unsigned byte)", (got>>8)&0xff)
	case got == idxLabelsMagic:
		hint = " (this is an IDX label file)"
	case got == idxImagesMagic:
		hint = " (this is an IDX image file)"
	default:
		hint = fmt.Sprintf(" (%d dimensions, want %d)", got&0xff, want&0xff)
	}
	return fmt.Errorf("%s: wrong IDX magic 0x%08x, want 0x%08x for %s%s", path, got, want, what, hint)
}

// readHeader reads and checks the magic and the header of headerLen bytes.
func (x *idxStream) readHeader(magic uint32, headerLen int, what string) ([]byte, error) {
	head := make([]byte, headerLen)
	k, err := x.fill(head)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if err := checkMagic(x.path, head[:k], magic, headerLen, what); err != nil {
		return nil, err
	}
	if k < headerLen {
		return nil, fmt.Errorf("%s: truncated IDX header: file has %d bytes, an IDX %s header needs %d", x.path, k, what, headerLen)
	}
	return head, nil
}

// ReadIDXImages reads an IDX image file (magic 0x00000803: unsigned bytes, 3 dimensions), gzipped or
// raw (gzip is detected by its magic bytes 1f 8b, not by the file name). It returns the number of
// images, their size and the pixels, row-major, one byte per pixel. Every error names the file: a
// wrong magic number or dimension count, a truncated header, pixel data shorter than the header
// declares (with the expected and actual sizes) and trailing bytes after the declared data.
// The file is read as a stream and memory is allocated as the pixels arrive, never by what the
// header declares.
func ReadIDXImages(path string) (n, rows, cols int, pixels []byte, err error) {
	n, rows, cols, pixels, _, err = readIDXImages(path, 0, nil)
	return n, rows, cols, pixels, err
}

// readIDXImages is ReadIDXImages; a positive maxN refuses, before any pixel is read, a header that
// declares more images, and h, when set, hashes the raw file (returned in hex).
func readIDXImages(path string, maxN int, h hash.Hash) (n, rows, cols int, pixels []byte, sum string, err error) {
	x, err := openIDX(path, h)
	if err != nil {
		return 0, 0, 0, nil, "", err
	}
	defer x.Close()
	const headerLen = 16
	head, err := x.readHeader(idxImagesMagic, headerLen, "images")
	if err != nil {
		return 0, 0, 0, nil, "", err
	}
	n64 := uint64(binary.BigEndian.Uint32(head[4:]))
	r64 := uint64(binary.BigEndian.Uint32(head[8:]))
	c64 := uint64(binary.BigEndian.Uint32(head[12:]))
	if r64 == 0 || c64 == 0 || r64 > 1<<16 || c64 > 1<<16 {
		return 0, 0, 0, nil, "", fmt.Errorf("%s: implausible image size %d×%d in IDX header", path, r64, c64)
	}
	if maxN > 0 && n64 > uint64(maxN) {
		return 0, 0, 0, nil, "", fmt.Errorf("%s: the IDX header declares %d images, more than the %d expected", path, n64, maxN)
	}
	want := n64 * r64 * c64 // < 2^64: n < 2^32 and r·c ≤ 2^32.
	data, err := x.readBody(want)
	if err == io.EOF {
		have := uint64(len(data))
		return 0, 0, 0, nil, "", fmt.Errorf("%s: truncated: header declares %d images of %d×%d = %d bytes of pixels, file has %d (%d bytes in all, expected %d)",
			path, n64, r64, c64, want, have, have+headerLen, want+headerLen)
	}
	if err != nil {
		return 0, 0, 0, nil, "", err
	}
	extra, err := x.trailing()
	if err != nil {
		return 0, 0, 0, nil, "", err
	}
	if extra > 0 {
		return 0, 0, 0, nil, "", trailingError(path, extra, fmt.Sprintf("%d images of %d×%d", n64, r64, c64), want+headerLen)
	}
	if sum, err = x.finish(); err != nil {
		return 0, 0, 0, nil, "", err
	}
	return int(n64), int(r64), int(c64), data, sum, nil
}

// ReadIDXLabels reads an IDX label file (magic 0x00000801: unsigned bytes, 1 dimension), gzipped or
// raw, with the same checks as ReadIDXImages. Whether the count matches the image file's is checked
// by Load, which has both.
func ReadIDXLabels(path string) ([]byte, error) {
	lab, _, err := readIDXLabels(path, 0, nil)
	return lab, err
}

// readIDXLabels is ReadIDXLabels with readIDXImages's maxN and h.
func readIDXLabels(path string, maxN int, h hash.Hash) ([]byte, string, error) {
	x, err := openIDX(path, h)
	if err != nil {
		return nil, "", err
	}
	defer x.Close()
	const headerLen = 8
	head, err := x.readHeader(idxLabelsMagic, headerLen, "labels")
	if err != nil {
		return nil, "", err
	}
	want := uint64(binary.BigEndian.Uint32(head[4:]))
	if maxN > 0 && want > uint64(maxN) {
		return nil, "", fmt.Errorf("%s: the IDX header declares %d labels, more than the %d expected", path, want, maxN)
	}
	data, err := x.readBody(want)
	if err == io.EOF {
		have := uint64(len(data))
		return nil, "", fmt.Errorf("%s: truncated: header declares %d labels, file has %d (%d bytes in all, expected %d)",
			path, want, have, have+headerLen, want+headerLen)
	}
	if err != nil {
		return nil, "", err
	}
	extra, err := x.trailing()
	if err != nil {
		return nil, "", err
	}
	if extra > 0 {
		return nil, "", trailingError(path, extra, fmt.Sprintf("%d labels", want), want+headerLen)
	}
	sum, err := x.finish()
	if err != nil {
		return nil, "", err
	}
	return data, sum, nil
}

// writeIDX writes header followed by body to path (atomically), gzipped if gz.
func writeIDX(path string, header, body []byte, gz bool) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		out := w
		var zw *gzip.Writer
		if gz {
			zw = gzip.NewWriter(w)
			out = zw
		}
		if _, err := out.Write(header); err != nil {
			return err
		}
		if _, err := out.Write(body); err != nil {
			return err
		}
		if zw != nil {
			return zw.Close()
		}
		return nil
	})
}

// WriteIDXImages writes pixels (len(pixels)/(rows·cols) images of rows×cols bytes, row-major) as an
// IDX image file, gzipped if gz. The file is written atomically.
func WriteIDXImages(path string, rows, cols int, pixels []byte, gz bool) error {
	if rows <= 0 || cols <= 0 || rows > 1<<16 || cols > 1<<16 {
		return fmt.Errorf("writing %s: bad image size %d×%d", path, rows, cols)
	}
	if len(pixels)%(rows*cols) != 0 {
		return fmt.Errorf("writing %s: %d pixels is not a whole number of %d×%d images", path, len(pixels), rows, cols)
	}
	n := len(pixels) / (rows * cols)
	if uint64(n) > 1<<32-1 {
		return fmt.Errorf("writing %s: too many images (%d)", path, n)
	}
	header := make([]byte, 16)
	binary.BigEndian.PutUint32(header[0:], idxImagesMagic)
	binary.BigEndian.PutUint32(header[4:], uint32(n))
	binary.BigEndian.PutUint32(header[8:], uint32(rows))
	binary.BigEndian.PutUint32(header[12:], uint32(cols))
	return writeIDX(path, header, pixels, gz)
}

// WriteIDXLabels writes labels as an IDX label file, gzipped if gz. The file is written atomically.
func WriteIDXLabels(path string, labels []byte, gz bool) error {
	if uint64(len(labels)) > 1<<32-1 {
		return fmt.Errorf("writing %s: too many labels (%d)", path, len(labels))
	}
	header := make([]byte, 8)
	binary.BigEndian.PutUint32(header[0:], idxLabelsMagic)
	binary.BigEndian.PutUint32(header[4:], uint32(len(labels)))
	return writeIDX(path, header, labels, gz)
}
