package mnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/confcal/confcal/internal/atomicfile"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte) and the number of
// dimensions (3 for images, 1 for labels).
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
)

// readMaybeGzip returns the whole content of path, decompressed when the file starts with the gzip
// magic bytes 1f 8b.
func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	head, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading %s: bad gzip header: %w", path, err)
		}
		var buf bytes.Buffer
		if st, err := f.Stat(); err == nil {
			// MNIST's image files compress about 5×; a generous hint saves a few re-allocations.
			buf.Grow(int(min(st.Size()*6, 1<<28)))
		}
		if _, err := io.Copy(&buf, zr); err != nil {
			return nil, fmt.Errorf("reading %s: gzip data is corrupt or truncated: %w", path, err)
		}
		if err := zr.Close(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		return buf.Bytes(), nil
	}
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}

// checkMagic checks the 4-byte magic of an IDX file whose content is data.
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

// ReadIDXImages reads an IDX image file (magic 0x00000803: unsigned bytes, 3 dimensions), gzipped or
// raw (gzip is detected by its magic bytes 1f 8b, not by the file name). It returns the number of
// images, their size and the pixels, row-major, one byte per pixel. Every error names the file: a
// wrong magic number or dimension count, a truncated header, pixel data shorter than the header
// declares (with the expected and actual sizes) and trailing bytes after the declared data.
func ReadIDXImages(path string) (n, rows, cols int, pixels []byte, err error) {
	data, err := readMaybeGzip(path)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	const headerLen = 16
	if err := checkMagic(path, data, idxImagesMagic, headerLen, "images"); err != nil {
		return 0, 0, 0, nil, err
	}
	if len(data) < headerLen {
		return 0, 0, 0, nil, fmt.Errorf("%s: truncated IDX header: file has %d bytes, an IDX images header needs %d", path, len(data), headerLen)
	}
	n64 := uint64(binary.BigEndian.Uint32(data[4:]))
	r64 := uint64(binary.BigEndian.Uint32(data[8:]))
	c64 := uint64(binary.BigEndian.Uint32(data[12:]))
	if r64 == 0 || c64 == 0 || r64 > 1<<16 || c64 > 1<<16 {
		return 0, 0, 0, nil, fmt.Errorf("%s: implausible image size %d×%d in IDX header", path, r64, c64)
	}
	want := n64 * r64 * c64 // < 2^64: n < 2^32 and r·c ≤ 2^32.
	have := uint64(len(data) - headerLen)
	if have < want {
		return 0, 0, 0, nil, fmt.Errorf("%s: truncated: header declares %d images of %d×%d = %d bytes of pixels, file has %d (%d bytes in all, expected %d)",
			path, n64, r64, c64, want, have, len(data), want+headerLen)
	}
	if have > want {
		return 0, 0, 0, nil, fmt.Errorf("%s: %d trailing bytes after the %d images of %d×%d declared in the header (file has %d bytes, expected %d)",
			path, have-want, n64, r64, c64, len(data), want+headerLen)
	}
	return int(n64), int(r64), int(c64), data[headerLen:], nil
}

// ReadIDXLabels reads an IDX label file (magic 0x00000801: unsigned bytes, 1 dimension), gzipped or
// raw, with the same checks as ReadIDXImages. Whether the count matches the image file's is checked
// by Load, which has both.
func ReadIDXLabels(path string) ([]byte, error) {
	data, err := readMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	const headerLen = 8
	if err := checkMagic(path, data, idxLabelsMagic, headerLen, "labels"); err != nil {
		return nil, err
	}
	if len(data) < headerLen {
		return nil, fmt.Errorf("%s: truncated IDX header: file has %d bytes, an IDX labels header needs %d", path, len(data), headerLen)
	}
	want := uint64(binary.BigEndian.Uint32(data[4:]))
	have := uint64(len(data) - headerLen)
	if have < want {
		return nil, fmt.Errorf("%s: truncated: header declares %d labels, file has %d (%d bytes in all, expected %d)",
			path, want, have, len(data), want+headerLen)
	}
	if have > want {
		return nil, fmt.Errorf("%s: %d trailing bytes after the %d labels declared in the header (file has %d bytes, expected %d)",
			path, have-want, want, len(data), want+headerLen)
	}
	return data[headerLen:], nil
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
