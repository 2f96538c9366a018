package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/confcal/confcal/dataset"
)

// pixelByte is the byte of fixture image i at channel c, row y, column x: distinct enough across
// images, channels and positions that any mix-up of order or layout changes some value.
func pixelByte(i, c, y, x int) byte { return byte(i*7 + c*50 + y*3 + x*5) }

// fixtureLabel is the label of fixture image i.
func fixtureLabel(i int) int { return (i*3 + 1) % 10 }

// fixtureSet returns n fixture images whose bytes are pixelByte(first+i, …), labels fixtureLabel.
func fixtureSet(n, first int, name string) *dataset.Set {
	s := &dataset.Set{
		Images: make([]float32, n*3072), Labels: make([]int, n),
		N: n, C: 3, H: 32, W: 32, Name: name, Source: "fixture " + name,
	}
	for i := range n {
		s.Labels[i] = fixtureLabel(first + i)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					s.Images[i*3072+c*1024+y*32+x] = float32(pixelByte(first+i, c, y, x)) / 255
				}
			}
		}
	}
	return s
}

// checkFixture checks that s holds fixture images first, first+1, … exactly.
func checkFixture(t *testing.T, s *dataset.Set, n, first int) {
	t.Helper()
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if s.N != n || s.C != 3 || s.H != 32 || s.W != 32 {
		t.Fatalf("got N=%d C=%d H=%d W=%d, want N=%d 3×32×32", s.N, s.C, s.H, s.W, n)
	}
	for i := range n {
		if s.Labels[i] != fixtureLabel(first+i) {
			t.Fatalf("label %d = %d, want %d", i, s.Labels[i], fixtureLabel(first+i))
		}
		img := s.Image(i)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					want := float64(pixelByte(first+i, c, y, x)) / 255
					if got := float64(img[c*1024+y*32+x]); math.Abs(got-want) > 1e-7 {
						t.Fatalf("image %d (c=%d, y=%d, x=%d) = %v, want %v", i, c, y, x, got, want)
					}
				}
			}
		}
	}
}

// writeFixtureArchive writes an archive of nTrain and nTest fixture images into dir; the test
// images continue the numbering of the training ones.
func writeFixtureArchive(t *testing.T, dir string, nTrain, nTest int) string {
	t.Helper()
	p := filepath.Join(dir, ArchiveName)
	if err := WriteArchive(p, fixtureSet(nTrain, 0, "train"), fixtureSet(nTest, nTrain, "test")); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// record returns a record of label with the given pixel bytes set (index into the 3072 pixels).
func record(label byte, pixels map[int]byte) []byte {
	r := make([]byte, RecordSize)
	r[0] = label
	for j, v := range pixels {
		r[1+j] = v
	}
	return r
}

func TestReadBatchHandBuilt(t *testing.T) {
	// Record 0: label 3, red plane value 255 at row 0, column 1.
	// Record 1: label 7, red (0,0) = 1, green (2,5) = 51, blue (31,31) = 128.
	data := append(record(3, map[int]byte{1: 255}),
		record(7, map[int]byte{0: 1, 1024 + 2*32 + 5: 51, 2048 + 31*32 + 31: 128})...)
	images, labels, err := ReadBatch(bytes.NewReader(data), "hand.bin")
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 2*3072 || len(labels) != 2 || labels[0] != 3 || labels[1] != 7 {
		t.Fatalf("got %d values, labels %v", len(images), labels)
	}
	// NCHW: index = i·3072 + c·1024 + y·32 + x.
	want := map[int]float32{
		1:                  1,         // image 0, red, (0,1)
		3072:               1.0 / 255, // image 1, red, (0,0)
		3072 + 1024 + 69:   0.2,       // image 1, green, (2,5): 51/255
		3072 + 2048 + 1023: 128.0 / 255,
	}
	for j, v := range images {
		w := want[j] // 0 where not listed
		if math.Abs(float64(v-w)) > 1e-7 {
			t.Errorf("images[%d] = %v, want %v", j, v, w)
		}
	}
}

func TestReadBatchErrors(t *testing.T) {
	two := append(record(1, nil), record(2, nil)...)
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, []string{"x.bin", "empty (0 bytes)", "3073"}},
		{"one-byte-short", two[:3072], []string{"x.bin", "3072 bytes is not a multiple", "record 0 is truncated after 3072"}},
		{"truncated-second-record", two[:3073+100], []string{"x.bin", "3173 bytes", "record 1 is truncated after 100"}},
		{"trailing-byte", append(bytes.Clone(two), 9), []string{"x.bin", "6147 bytes", "record 2 is truncated after 1"}},
		{"label-10", append(record(1, nil), record(10, nil)...), []string{"x.bin", "record 1", "label 10"}},
		{"label-255", append(record(255, nil), record(2, nil)...), []string{"x.bin", "record 0", "label 255"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			images, labels, err := ReadBatch(bytes.NewReader(tc.data), "x.bin")
			wantErr(t, err, tc.want...)
			if images != nil || labels != nil {
				t.Error("data returned with an error")
			}
		})
	}
	t.Run("reader-error", func(t *testing.T) {
		_, _, err := ReadBatch(iotest.ErrReader(io.ErrUnexpectedEOF), "x.bin")
		wantErr(t, err, "reading x.bin", "unexpected EOF")
	})
}

func TestWriteBatch(t *testing.T) {
	s := fixtureSet(3, 5, "w")
	var buf bytes.Buffer
	if err := WriteBatch(&buf, s); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 3*3073 {
		t.Fatalf("%d bytes, want %d", buf.Len(), 3*3073)
	}
	// The bytes themselves: record 1 is fixture image 6.
	b := buf.Bytes()
	if b[3073] != byte(fixtureLabel(6)) || b[3073+1+1024+32*4+7] != pixelByte(6, 1, 4, 7) {
		t.Errorf("record 1 starts %v", b[3073:3073+4])
	}
	images, labels, err := ReadBatch(&buf, "w")
	if err != nil {
		t.Fatal(err)
	}
	checkFixture(t, &dataset.Set{Images: images, Labels: labels, N: 3, C: 3, H: 32, W: 32}, 3, 5)

	t.Run("rounding", func(t *testing.T) {
		r := fixtureSet(1, 0, "r")
		for j := range r.Images {
			r.Images[j] = 0
		}
		r.Images[0], r.Images[1], r.Images[2], r.Images[3] = 0.5, 0.2, 1, 0.0019 // 127.5→128, 51, 255, 0.48→0
		var buf bytes.Buffer
		if err := WriteBatch(&buf, r); err != nil {
			t.Fatal(err)
		}
		if got := buf.Bytes()[1:5]; !bytes.Equal(got, []byte{128, 51, 255, 0}) {
			t.Errorf("bytes %v, want [128 51 255 0]", got)
		}
	})

	for _, tc := range []struct {
		name string
		mod  func(s *dataset.Set) *dataset.Set
		want string
	}{
		{"nil", func(*dataset.Set) *dataset.Set { return nil }, "nil"},
		{"grey", func(s *dataset.Set) *dataset.Set {
			return &dataset.Set{Images: s.Images[:1024], Labels: s.Labels[:1], N: 1, C: 1, H: 32, W: 32, Name: "g"}
		}, "1×32×32"},
		{"empty", func(s *dataset.Set) *dataset.Set {
			return &dataset.Set{N: 0, C: 3, H: 32, W: 32, Name: "e"}
		}, "no images"},
		{"label-10", func(s *dataset.Set) *dataset.Set { s.Labels[2] = 10; return s }, "label 10 of image 2"},
		{"label-ood", func(s *dataset.Set) *dataset.Set { s.Labels[0] = -1; return s }, "label -1 of image 0"},
		{"value-above-1", func(s *dataset.Set) *dataset.Set { s.Images[3072+2048+33] = 1.5; return s },
			"image 1 has the value 1.5 at (channel 2, row 1, column 1)"},
		{"nan", func(s *dataset.Set) *dataset.Set { s.Images[7] = float32(math.NaN()); return s }, "value NaN"},
		{"lengths", func(s *dataset.Set) *dataset.Set { s.Labels = s.Labels[:2]; return s }, "2 labels for 3 images"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteBatch(&buf, tc.mod(fixtureSet(3, 0, "bad")))
			wantErr(t, err, "cifar.WriteBatch", tc.want)
			if buf.Len() != 0 {
				t.Errorf("%d bytes written before the error", buf.Len())
			}
		})
	}
}

// tarEntry is an entry of a hand-made archive.
type tarEntry struct {
	name string
	data []byte
	typ  byte // 0: regular file
}

// makeTarGz returns a tar.gz of the entries.
func makeTarGz(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Size: int64(len(e.data)), Mode: 0o644, Typeflag: tar.TypeReg}
		if e.typ != 0 {
			h.Typeflag, h.Size = e.typ, 0
			if e.typ == tar.TypeSymlink {
				h.Linkname = "elsewhere"
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write(e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// batchBytes returns fixture images first… as batch bytes.
func batchBytes(t testing.TB, n, first int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteBatch(&buf, fixtureSet(n, first, "b")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fullEntries returns the entries of a valid archive: batch k holds 2 images, test 3.
func fullEntries(t testing.TB, prefix string) []tarEntry {
	var e []tarEntry
	for k, f := range TrainBatchFiles {
		e = append(e, tarEntry{name: prefix + f, data: batchBytes(t, 2, 2*k)})
	}
	return append(e, tarEntry{name: prefix + TestBatchFile, data: batchBytes(t, 3, 10)})
}

func TestWriteArchiveLayout(t *testing.T) {
	dir := t.TempDir()
	p := writeFixtureArchive(t, dir, 12, 4)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	type ent struct {
		name string
		size int64
	}
	var got []ent
	contents := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ent{h.Name, h.Size})
		contents[h.Name], _ = io.ReadAll(tr)
	}
	// 12 training images over 5 batches: 3, 3, 2, 2, 2.
	want := []ent{
		{"cifar-10-batches-bin/", 0},
		{"cifar-10-batches-bin/batches.meta.txt", int64(len("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"))},
		{"cifar-10-batches-bin/data_batch_1.bin", 3 * 3073},
		{"cifar-10-batches-bin/data_batch_2.bin", 3 * 3073},
		{"cifar-10-batches-bin/data_batch_3.bin", 2 * 3073},
		{"cifar-10-batches-bin/data_batch_4.bin", 2 * 3073},
		{"cifar-10-batches-bin/data_batch_5.bin", 2 * 3073},
		{"cifar-10-batches-bin/readme.html", int64(len(contents["cifar-10-batches-bin/readme.html"]))},
		{"cifar-10-batches-bin/test_batch.bin", 4 * 3073},
	}
	if len(got) != len(want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %v, want %v", i, got[i], want[i])
		}
	}
	if m := string(contents["cifar-10-batches-bin/batches.meta.txt"]); !strings.HasPrefix(m, "airplane\nautomobile\n") {
		t.Errorf("batches.meta.txt = %q", m)
	}
	if r := string(contents["cifar-10-batches-bin/readme.html"]); !strings.Contains(r, "fixture train") || strings.Contains(r, StandInMarker) {
		t.Errorf("readme.html = %q", r)
	}
	// data_batch_3.bin holds images 6 and 7.
	b3 := contents["cifar-10-batches-bin/data_batch_3.bin"]
	if b3[0] != byte(fixtureLabel(6)) || b3[3073] != byte(fixtureLabel(7)) || b3[3073+1+5] != pixelByte(7, 0, 0, 5) {
		t.Errorf("data_batch_3.bin does not hold images 6 and 7")
	}

	// Deterministic.
	p2 := writeFixtureArchive(t, t.TempDir(), 12, 4)
	raw2, _ := os.ReadFile(p2)
	if !bytes.Equal(raw, raw2) {
		t.Error("two archives of the same sets differ")
	}

	// Errors.
	wantErr(t, WriteArchive(filepath.Join(dir, "a.tar.gz"), fixtureSet(4, 0, "t4"), fixtureSet(1, 0, "u")), "train has 4 images, want at least 5")
	wantErr(t, WriteArchive(filepath.Join(dir, "b.tar.gz"), fixtureSet(5, 0, "t5"), &dataset.Set{C: 3, H: 32, W: 32, Name: "u0"}), "test", "no images")
	for _, f := range []string{"a.tar.gz", "b.tar.gz"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s written despite the error", f)
		}
	}
}

func TestLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := writeFixtureArchive(t, dir, 12, 4)
	opt := Options{Dir: dir, CacheDir: t.TempDir(), Subset: true}
	tr, err := Load("train", opt)
	if err != nil {
		t.Fatal(err)
	}
	checkFixture(t, tr, 12, 0)
	if tr.Name != "cifar10-train" || !strings.Contains(tr.Source, p) || !strings.Contains(tr.Source, "data_batch_5.bin") {
		t.Errorf("Name %q, Source %q", tr.Name, tr.Source)
	}
	te, err := Load("test", opt)
	if err != nil {
		t.Fatal(err)
	}
	checkFixture(t, te, 4, 12)
	if te.Name != "cifar10-test" || !strings.Contains(te.Source, p) || !strings.Contains(te.Source, TestBatchFile) {
		t.Errorf("Name %q, Source %q", te.Name, te.Source)
	}
	if _, err := Load("validation", opt); err == nil || !strings.Contains(err.Error(), `"validation"`) {
		t.Errorf("split validation: error %v", err)
	}
}

// extract writes the regular files of the archive at p into dir, keeping their paths.
func extract(t *testing.T, p, dir string) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, _ := io.ReadAll(tr)
		dst := filepath.Join(dir, filepath.FromSlash(h.Name))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadExtractedLayouts(t *testing.T) {
	dir := t.TempDir()
	extract(t, writeFixtureArchive(t, t.TempDir(), 7, 3), dir)
	batches := filepath.Join(dir, BatchesDir)
	for _, d := range []string{dir, batches} {
		for _, split := range []string{"train", "test"} {
			s, err := Load(split, Options{Dir: d, CacheDir: t.TempDir(), Subset: true})
			if err != nil {
				t.Fatal(err)
			}
			if split == "train" {
				checkFixture(t, s, 7, 0)
				if !strings.Contains(s.Source, filepath.Join(batches, "data_batch_1.bin")) || !strings.Contains(s.Source, "data_batch_5.bin") {
					t.Errorf("Source %q", s.Source)
				}
			} else {
				checkFixture(t, s, 3, 7)
				if s.Source != filepath.Join(batches, TestBatchFile) {
					t.Errorf("Source %q", s.Source)
				}
			}
			if s.Name != "cifar10-"+split {
				t.Errorf("Name %q", s.Name)
			}
		}
	}

	// A batch missing: the error says which, and where else was looked.
	os.Remove(filepath.Join(batches, "data_batch_3.bin"))
	cache := t.TempDir()
	_, err := Load("train", Options{Dir: dir, CacheDir: cache})
	wantErr(t, err, "cannot load the train split", batches+" has some of the batch files but not data_batch_3.bin",
		cache, "downloading is off", Archive.URLs[0])
	if _, err := Load("test", Options{Dir: dir, CacheDir: cache, Subset: true}); err != nil {
		t.Errorf("test split without data_batch_3.bin: %v", err)
	}

	// An invalid batch in the directory is an error, not skipped.
	os.WriteFile(filepath.Join(batches, TestBatchFile), make([]byte, 3073*2+10), 0o644)
	_, err = Load("test", Options{Dir: dir, CacheDir: cache})
	wantErr(t, err, filepath.Join(batches, TestBatchFile), "6156 bytes")
}

func TestReadArchiveErrors(t *testing.T) {
	const d = "cifar-10-batches-bin/"
	valid := makeTarGz(t, fullEntries(t, d))
	without := func(name string) []tarEntry {
		var out []tarEntry
		for _, e := range fullEntries(t, d) {
			if e.name != d+name {
				out = append(out, e)
			}
		}
		return out
	}
	replaced := func(name string, data []byte, typ byte) []tarEntry {
		e := fullEntries(t, d)
		for i := range e {
			if e[i].name == d+name {
				e[i].data, e[i].typ = data, typ
			}
		}
		return e
	}
	badLabel := batchBytes(t, 3, 10)
	badLabel[2*3073] = 12
	flipped := bytes.Clone(valid)
	flipped[len(flipped)/2] ^= 0x55
	badCRC := bytes.Clone(valid)
	badCRC[len(badCRC)-6] ^= 1 // the CRC-32 is in the last 8 bytes, before the size

	for _, tc := range []struct {
		name  string
		data  []byte
		split string
		want  []string
	}{
		{"not-gzip", []byte("this is not a gzip file at all"), "test", []string{"a.tgz", "not a readable gzip file"}},
		{"empty-file", nil, "train", []string{"a.tgz", "not a readable gzip file"}},
		{"truncated", valid[:len(valid)/2], "test", []string{"a.tgz", "corrupt or truncated"}},
		{"flipped-byte", flipped, "test", []string{"a.tgz", "corrupt"}},
		{"bad-crc", badCRC, "test", []string{"a.tgz", "corrupt gzip data", "checksum"}},
		{"gzip-not-tar", makeGzip(t, bytes.Repeat([]byte("garbage!"), 200)), "test", []string{"a.tgz", "corrupt or truncated archive"}},
		{"no-test-batch", makeTarGz(t, without(TestBatchFile)), "test", []string{"a.tgz", "has no cifar-10-batches-bin/test_batch.bin"}},
		{"no-batch-3", makeTarGz(t, without("data_batch_3.bin")), "train", []string{"a.tgz", "has no cifar-10-batches-bin/data_batch_3.bin"}},
		{"batch-size", makeTarGz(t, replaced("data_batch_2.bin", make([]byte, 2*3073-5), 0)), "train",
			[]string{"a.tgz:cifar-10-batches-bin/data_batch_2.bin", "6141 bytes", "record 1 is truncated after 3068"}},
		{"bad-label", makeTarGz(t, replaced(TestBatchFile, badLabel, 0)), "test",
			[]string{"a.tgz:cifar-10-batches-bin/test_batch.bin", "record 2", "label 12"}},
		{"duplicate", makeTarGz(t, append(fullEntries(t, d), tarEntry{name: "./" + d + TestBatchFile, data: batchBytes(t, 1, 0)})), "test",
			[]string{"a.tgz", "test_batch.bin twice"}},
		{"symlink", makeTarGz(t, replaced(TestBatchFile, nil, tar.TypeSymlink)), "test",
			[]string{"a.tgz:cifar-10-batches-bin/test_batch.bin", "not a regular file"}},
		{"other-folder", makeTarGz(t, fullEntries(t, "other/")), "test", []string{"has no cifar-10-batches-bin/test_batch.bin"}},
		{"bad-split", valid, "val", []string{`"val"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadArchive(bytes.NewReader(tc.data), "a.tgz", tc.split)
			wantErr(t, err, tc.want...)
			if s != nil {
				t.Error("set returned with an error")
			}
		})
	}

	// What is there still loads: the train split of the archive without test_batch.bin, the
	// entries at the top of the archive or with "./".
	for name, data := range map[string][]byte{
		"no-test-batch": makeTarGz(t, without(TestBatchFile)),
		"top":           makeTarGz(t, fullEntries(t, "")),
		"dot-slash":     makeTarGz(t, fullEntries(t, "./"+d)),
	} {
		s, err := ReadArchive(bytes.NewReader(data), "a.tgz", "train")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkFixture(t, s, 10, 0)
	}

	// An invalid archive in the user's directory is an error (not skipped in favour of the cache).
	dir := t.TempDir()
	p := filepath.Join(dir, ArchiveName)
	os.WriteFile(p, flipped, 0o644)
	_, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir()})
	wantErr(t, err, p, "corrupt")
	if strings.Contains(err.Error(), "download") {
		t.Errorf("error %q: went on to the download", err)
	}
}

func makeGzip(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withArchive replaces Archive for the test.
func withArchive(t *testing.T, r dataset.Remote) {
	old := Archive
	Archive = r
	t.Cleanup(func() { Archive = old })
}

func TestCacheAndDownload(t *testing.T) {
	raw, err := os.ReadFile(writeFixtureArchive(t, t.TempDir(), 6, 2))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/kriz/"+ArchiveName {
			http.NotFound(w, r)
			return
		}
		w.Write(raw)
	}))
	defer srv.Close()
	url := srv.URL + "/kriz/" + ArchiveName

	t.Run("download-then-cache", func(t *testing.T) {
		withArchive(t, dataset.Remote{Name: ArchiveName, URLs: []string{srv.URL + "/missing", url}, SHA256: hex.EncodeToString(sum[:])})
		cache := filepath.Join(t.TempDir(), "cache")
		hits.Store(0)
		var progress strings.Builder
		s, err := Load("test", Options{CacheDir: cache, Download: true, Progress: &progress})
		if err != nil {
			t.Fatal(err)
		}
		checkFixture(t, s, 2, 6)
		if !strings.Contains(s.Source, filepath.Join(cache, ArchiveName)) || !strings.Contains(progress.String(), "SHA-256 ok") {
			t.Errorf("Source %q, progress %q", s.Source, progress.String())
		}
		if hits.Load() != 2 {
			t.Errorf("%d requests, want 2 (the missing URL, then the right one)", hits.Load())
		}
		// Now from the cache, with downloading off: no request.
		s, err = Load("train", Options{Dir: t.TempDir(), CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		checkFixture(t, s, 6, 0)
		if hits.Load() != 2 {
			t.Errorf("the cached archive was downloaded again")
		}
	})
	t.Run("wrong-sha256", func(t *testing.T) {
		withArchive(t, dataset.Remote{Name: ArchiveName, URLs: []string{url}, SHA256: strings.Repeat("ab", 32)})
		cache := t.TempDir()
		_, err := Load("test", Options{CacheDir: cache, Download: true, Progress: io.Discard})
		wantErr(t, err, "SHA-256 mismatch", url, filepath.Join(cache, ArchiveName))
		if entries, _ := os.ReadDir(cache); len(entries) != 0 {
			t.Errorf("the cache holds %d entries after a failed download", len(entries))
		}
	})
	t.Run("offline-names-url-and-path", func(t *testing.T) {
		// The real Archive: downloading off, nothing anywhere.
		dir, cache := t.TempDir(), t.TempDir()
		_, err := Load("train", Options{Dir: dir, CacheDir: cache})
		wantErr(t, err, "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", filepath.Join(cache, ArchiveName),
			"downloading is off", dir, "data_batch_1.bin")
	})
	t.Run("unreachable-fails-fast", func(t *testing.T) {
		dead := "http://127.0.0.1:1/kriz/" + ArchiveName
		withArchive(t, dataset.Remote{Name: ArchiveName, URLs: []string{dead}, SHA256: hex.EncodeToString(sum[:])})
		cache := t.TempDir()
		start := time.Now()
		_, err := Load("test", Options{CacheDir: cache, Download: true, Progress: io.Discard})
		wantErr(t, err, dead, filepath.Join(cache, ArchiveName), "could not be downloaded")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("default-cache-dir", func(t *testing.T) {
		root := t.TempDir()
		t.Setenv(dataset.EnvDataDir, root)
		_, err := Load("test", Options{})
		wantErr(t, err, filepath.Join(root, "cifar10", ArchiveName))
	})
	t.Run("invalid-cached-archive", func(t *testing.T) {
		withArchive(t, dataset.Remote{Name: ArchiveName, URLs: []string{url}, SHA256: hex.EncodeToString(sum[:])})
		cache := t.TempDir()
		os.WriteFile(filepath.Join(cache, ArchiveName), raw[:len(raw)-100], 0o644)
		hits.Store(0)
		_, err := Load("test", Options{CacheDir: cache, Download: true, Progress: io.Discard})
		wantErr(t, err, "cached copy is invalid", "delete it", filepath.Join(cache, ArchiveName))
		if hits.Load() != 0 {
			t.Error("downloaded although a cached copy is there")
		}
	})
}

func TestStandIn(t *testing.T) {
	a, b := StandIn(103, "train", 7), StandIn(103, "train", 7)
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	if a.N != 103 || a.C != 3 || a.H != 32 || a.W != 32 || a.Name != "cifar10-standin-train" ||
		!strings.HasPrefix(a.Source, StandInMarker) || !strings.Contains(a.Source, "seed 7") {
		t.Fatalf("N=%d %d×%d×%d Name %q Source %q", a.N, a.C, a.H, a.W, a.Name, a.Source)
	}
	if !equalSets(a, b) {
		t.Error("same arguments, different sets")
	}
	if c := StandIn(103, "train", 8); sameImages(a, c) > 0 {
		t.Errorf("seeds 7 and 8 share %d images", sameImages(a, c))
	}
	te := StandIn(103, "test", 7)
	if te.Name != "cifar10-standin-test" || sameImages(a, te) > 0 {
		t.Errorf("test: Name %q, %d images shared with train", te.Name, sameImages(a, te))
	}
	// Balanced labels (103 = 10·10 + 3: classes 0–2 once more), in random order.
	count := make([]int, 10)
	inOrder := true
	for i, l := range a.Labels {
		count[l]++
		inOrder = inOrder && l == i%10
	}
	for k, c := range count {
		if want := 10 + btoi(k < 3); c != want {
			t.Errorf("class %d: %d images, want %d", k, c, want)
		}
	}
	if inOrder {
		t.Error("labels in cyclic order")
	}
	// Values are multiples of 1/255 in [0,1], and the images are not flat.
	for j, v := range a.Images {
		if q := float64(v) * 255; v < 0 || v > 1 || math.Abs(q-math.Round(q)) > 1e-4 {
			t.Fatalf("value %d = %v", j, v)
		}
	}
	for i := range a.N {
		lo, hi := float32(1), float32(0)
		for _, v := range a.Image(i) {
			lo, hi = min(lo, v), max(hi, v)
		}
		if hi-lo < 0.3 {
			t.Errorf("image %d spans only [%v, %v]", i, lo, hi)
		}
	}
	if s := StandIn(0, "test", 1); s.N != 0 || s.Check() != nil {
		t.Error("StandIn(0) is not an empty set")
	}
	for _, bad := range []func(){func() { StandIn(-1, "train", 1) }, func() { StandIn(3, "val", 1) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			bad()
		}()
	}
}

// TestStandInClassCues checks that each class carries its designed hue: the mean colour of the
// most saturated pixels (the object's) has the class's hue within 40° for nearly every image.
func TestStandInClassCues(t *testing.T) {
	s := StandIn(500, "test", 3)
	ok := 0
	for i := range s.N {
		img := s.Image(i)
		type px struct{ r, g, b, sat float64 }
		var pixels []px
		for p := range 1024 {
			r, g, b := float64(img[p]), float64(img[1024+p]), float64(img[2048+p])
			mx, mn := max(r, g, b), min(r, g, b)
			if mx > 0 {
				pixels = append(pixels, px{r, g, b, (mx - mn) / mx})
			}
		}
		// Mean colour of the 40 most saturated pixels (the object covers about 100 or more).
		for a := 0; a < 40; a++ {
			for j := a + 1; j < len(pixels); j++ {
				if pixels[j].sat > pixels[a].sat {
					pixels[a], pixels[j] = pixels[j], pixels[a]
				}
			}
		}
		var r, g, b float64
		for _, p := range pixels[:40] {
			r, g, b = r+p.r, g+p.g, b+p.b
		}
		h := hueOf(r, g, b)
		d := math.Abs(math.Mod(h-standInClasses[s.Labels[i]].hue+540, 360) - 180)
		if d <= 40 {
			ok++
		}
	}
	if ok < 460 {
		t.Errorf("%d of 500 images have their class's hue within 40°, want ≥ 460", ok)
	}
}

// TestStandInStripes checks that each class carries its designed stripes: horizontal stripes make
// the brightness vary more from row to row than from column to column, vertical ones the reverse.
func TestStandInStripes(t *testing.T) {
	s := StandIn(500, "train", 4)
	ok := 0
	for i := range s.N {
		img := s.Image(i)
		lum := func(y, x int) float64 {
			p := y*32 + x
			return float64(img[p] + img[1024+p] + img[2048+p])
		}
		var ex, ey float64
		for y := range 31 {
			for x := range 31 {
				dx, dy := lum(y, x+1)-lum(y, x), lum(y+1, x)-lum(y, x)
				ex, ey = ex+dx*dx, ey+dy*dy
			}
		}
		if horizontal := standInClasses[s.Labels[i]].angle == 0; horizontal == (ey > ex) {
			ok++
		}
	}
	if ok < 475 {
		t.Errorf("%d of 500 images have their class's stripe direction, want ≥ 475", ok)
	}
}

// hueOf returns the hue in degrees of an RGB colour (any scale).
func hueOf(r, g, b float64) float64 {
	mx, mn := max(r, g, b), min(r, g, b)
	if mx == mn {
		return 0
	}
	var h float64
	switch mx {
	case r:
		h = 60 * math.Mod((g-b)/(mx-mn), 6)
	case g:
		h = 60 * ((b-r)/(mx-mn) + 2)
	default:
		h = 60 * ((r-g)/(mx-mn) + 4)
	}
	return math.Mod(h+360, 360)
}

func TestHSV(t *testing.T) {
	for _, tc := range []struct {
		h, s, v float64
		want    [3]float64
	}{
		{0, 1, 1, [3]float64{1, 0, 0}},
		{120, 1, 1, [3]float64{0, 1, 0}},
		{240, 1, 0.5, [3]float64{0, 0, 0.5}},
		{60, 1, 1, [3]float64{1, 1, 0}},
		{300, 0.5, 1, [3]float64{1, 0.5, 1}},
		{-60, 1, 1, [3]float64{1, 0, 1}},
		{90, 0, 0.3, [3]float64{0.3, 0.3, 0.3}},
	} {
		got := hsv(tc.h, tc.s, tc.v)
		for c := range 3 {
			if math.Abs(got[c]-tc.want[c]) > 1e-12 {
				t.Errorf("hsv(%v, %v, %v) = %v, want %v", tc.h, tc.s, tc.v, got, tc.want)
				break
			}
		}
	}
}

func TestWriteStandInLoads(t *testing.T) {
	dir := t.TempDir()
	p, err := WriteStandIn(dir, 23, 11, 5)
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(dir, ArchiveName) {
		t.Errorf("path %q", p)
	}
	for _, tc := range []struct {
		split string
		n     int
	}{{"train", 23}, {"test", 11}} {
		s, err := Load(tc.split, Options{Dir: dir, CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if !equalSets(s, StandIn(tc.n, tc.split, 5)) {
			t.Errorf("%s: what Load reads differs from StandIn", tc.split)
		}
		if s.Name != "cifar10-standin-"+tc.split || !strings.Contains(s.Source, StandInMarker) || !strings.Contains(s.Source, p) {
			t.Errorf("%s: Name %q, Source %q", tc.split, s.Name, s.Source)
		}
	}
	// Extracted, the readme beside the batches still marks them.
	ex := t.TempDir()
	extract(t, p, ex)
	s, err := Load("test", Options{Dir: ex, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "cifar10-standin-test" || !strings.Contains(s.Source, StandInMarker) {
		t.Errorf("extracted: Name %q, Source %q", s.Name, s.Source)
	}
	if _, err := WriteStandIn(dir, 4, 1, 1); err == nil {
		t.Error("WriteStandIn accepted 4 training images")
	}
}

func equalSets(a, b *dataset.Set) bool {
	if a.N != b.N || a.C != b.C || a.H != b.H || a.W != b.W || len(a.Images) != len(b.Images) {
		return false
	}
	for i := range a.Labels {
		if a.Labels[i] != b.Labels[i] {
			return false
		}
	}
	for j := range a.Images {
		if a.Images[j] != b.Images[j] {
			return false
		}
	}
	return true
}

// sameImages counts the images of a that also appear in b.
func sameImages(a, b *dataset.Set) int {
	seen := map[string]bool{}
	for i := range b.N {
		seen[imageKey(b.Image(i))] = true
	}
	n := 0
	for i := range a.N {
		if seen[imageKey(a.Image(i))] {
			n++
		}
	}
	return n
}

func imageKey(img []float32) string {
	var sb strings.Builder
	for _, v := range img {
		sb.WriteByte(byte(math.Round(float64(v) * 255)))
	}
	return sb.String()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
