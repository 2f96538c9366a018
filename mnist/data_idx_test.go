package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testPixels returns deterministic pixel bytes.
func testPixels(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*37 + i/7)
	}
	return p
}

func TestIDXRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		n, rows, c int
		gz         bool
	}{
		{"raw", 5, 28, 28, false},
		{"gz", 5, 28, 28, true},
		{"raw-nonsquare", 3, 4, 7, false},
		{"gz-nonsquare", 3, 4, 7, true},
		{"raw-empty", 0, 28, 28, false},
		{"gz-empty", 0, 28, 28, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pix := testPixels(tc.n * tc.rows * tc.c)
			lab := testPixels(tc.n)
			ip, lp := filepath.Join(dir, "img"), filepath.Join(dir, "lab")
			if err := WriteIDXImages(ip, tc.rows, tc.c, pix, tc.gz); err != nil {
				t.Fatal(err)
			}
			if err := WriteIDXLabels(lp, lab, tc.gz); err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(ip)
			if isGz := len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b; isGz != tc.gz {
				t.Fatalf("gzip magic present=%v, want %v", isGz, tc.gz)
			}
			n, r, c, got, err := ReadIDXImages(ip)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.n || r != tc.rows || c != tc.c || !bytes.Equal(got, pix) {
				t.Fatalf("images: got n=%d %d×%d (%d bytes), want n=%d %d×%d", n, r, c, len(got), tc.n, tc.rows, tc.c)
			}
			gotL, err := ReadIDXLabels(lp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotL, lab) {
				t.Fatalf("labels differ: %v vs %v", gotL, lab)
			}
		})
	}
}

func TestWriteIDXRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := WriteIDXImages(filepath.Join(dir, "a"), 28, 28, make([]byte, 100), false); err == nil {
		t.Error("WriteIDXImages accepted 100 pixels for 28×28 images")
	}
	if err := WriteIDXImages(filepath.Join(dir, "b"), 0, 28, nil, false); err == nil {
		t.Error("WriteIDXImages accepted 0 rows")
	}
}

// idxFile builds an IDX file's bytes: a magic, the dimensions and a body.
func idxFile(magic uint32, dims []uint32, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, body...)
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestIDXErrors(t *testing.T) {
	img := func(n, r, c uint32, body int) []byte {
		return idxFile(idxImagesMagic, []uint32{n, r, c}, testPixels(body))
	}
	lab := func(n uint32, body int) []byte { return idxFile(idxLabelsMagic, []uint32{n}, testPixels(body)) }
	fullGz := gzipBytes(img(4, 5, 5, 100))
	for _, tc := range []struct {
		name   string
		labels bool // read with ReadIDXLabels
		data   []byte
		want   []string // substrings of the error, besides the file name
	}{
		{"images/wrong-magic-labels-file", false, lab(4, 4), []string{"wrong IDX magic 0x00000801", "label file"}},
		{"images/wrong-magic-garbage", false, []byte("hello, this is not IDX"), []string{"wrong IDX magic", "not an IDX file"}},
		{"images/wrong-type", false, idxFile(0x00000903, []uint32{1, 1, 1}, []byte{0}), []string{"element type 0x09"}},
		{"images/wrong-dims", false, idxFile(0x00000804, []uint32{1, 1, 1, 1}, []byte{0}), []string{"4 dimensions, want 3"}},
		{"images/truncated-header", false, img(4, 5, 5, 0)[:10], []string{"truncated IDX header", "10 bytes", "needs 16"}},
		{"images/truncated-magic", false, []byte{0, 0}, []string{"truncated IDX header", "2 bytes"}},
		{"images/empty-file", false, nil, []string{"truncated IDX header", "0 bytes"}},
		{"images/truncated-data", false, img(4, 5, 5, 99), []string{"truncated", "4 images of 5×5 = 100 bytes", "file has 99", "expected 116"}},
		{"images/truncated-data-gz", false, gzipBytes(img(4, 5, 5, 60)), []string{"truncated", "= 100 bytes", "file has 60"}},
		{"images/trailing-bytes", false, img(4, 5, 5, 103), []string{"3 trailing bytes", "expected 116"}},
		{"images/zero-size", false, img(4, 0, 5, 0), []string{"implausible image size 0×5"}},
		{"images/huge-declared", false, img(1<<32-1, 1<<16, 1<<16, 10), []string{"truncated", "file has 10"}},
		{"images/truncated-gzip-stream", false, fullGz[:len(fullGz)-12], []string{"gzip data is corrupt or truncated"}},
		{"labels/wrong-magic-images-file", true, img(1, 2, 2, 4), []string{"wrong IDX magic 0x00000803", "image file"}},
		{"labels/truncated-header", true, lab(4, 0)[:6], []string{"truncated IDX header", "6 bytes", "needs 8"}},
		{"labels/truncated-data", true, lab(10, 7), []string{"truncated", "declares 10 labels", "file has 7"}},
		{"labels/trailing-bytes", true, lab(10, 12), []string{"2 trailing bytes", "10 labels"}},
		{"labels/trailing-bytes-gz", true, gzipBytes(lab(10, 11)), []string{"1 trailing bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), strings.ReplaceAll(tc.name, "/", "_"))
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			if tc.labels {
				_, err = ReadIDXLabels(path)
			} else {
				_, _, _, _, err = ReadIDXImages(path)
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range append([]string{path}, tc.want...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
	t.Run("missing-file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope")
		if _, _, _, _, err := ReadIDXImages(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("error %v does not name %s", err, path)
		}
	})
}
