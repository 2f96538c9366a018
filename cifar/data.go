package cifar

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/confcal/confcal/dataset"
)

// The binary version of CIFAR-10.
const (
	// ArchiveName is the file name of the binary version of CIFAR-10.
	ArchiveName = "cifar-10-binary.tar.gz"
	// BatchesDir is the folder the archive's files are in (and that extracting it creates).
	BatchesDir = "cifar-10-batches-bin"
	// TestBatchFile is the file of the test split.
	TestBatchFile = "test_batch.bin"
	// MetaFile holds the class names, one a line.
	MetaFile = "batches.meta.txt"
	// ReadmeFile is the archive's description; WriteStandIn marks stand-in archives there.
	ReadmeFile = "readme.html"
	// ImageSide is the height and width of the images.
	ImageSide = 32
	// ImageChannels is the number of colour planes (red, green, blue).
	ImageChannels = 3
	// ImageBytes is the number of pixel bytes of a record: 1,024 red, 1,024 green, 1,024 blue.
	ImageBytes = ImageChannels * ImageSide * ImageSide
	// RecordSize is the size of a record: one label byte and the pixel bytes.
	RecordSize = 1 + ImageBytes
	// BatchImages is the number of records of each batch file of the real data set (five training
	// batches and the test batch). No reader accepts a batch of more; Load requires exactly this
	// many unless Options.Subset is set or the files are a stand-in (WriteStandIn).
	BatchImages = 10000
	// maxBatchBytes is the size of a batch of BatchImages records.
	maxBatchBytes = BatchImages * RecordSize
	// NumClasses is the number of classes; a label byte is below it.
	NumClasses = 10
	// CacheSub is the folder of the cache directory (dataset.CacheDir) that the archive goes to.
	CacheSub = "cifar10"
	// StandInMarker is written into the readme of an archive of generated images (WriteStandIn);
	// Load puts it into the Source of what it reads from such an archive.
	StandInMarker = "generated stand-in, NOT CIFAR-10"
)

// TrainBatchFiles are the files of the training split, in order.
var TrainBatchFiles = [5]string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}

// ClassNames are the names of the labels 0–9 (batches.meta.txt).
var ClassNames = [NumClasses]string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// Archive is where the binary version of CIFAR-10 is downloaded from and its SHA-256 (the file is
// 170,052,171 bytes). A variable so that tests can point it elsewhere.
var Archive = dataset.Remote{
	Name:   ArchiveName,
	URLs:   []string{"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"},
	SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
	Size:   170052171,
}

// Options says where Load looks for CIFAR-10.
type Options struct {
	// Dir is a directory of the user's holding cifar-10-binary.tar.gz, the extracted
	// cifar-10-batches-bin folder, or the .bin files themselves; "" for none. Files found there that
	// are invalid are an error, not skipped.
	Dir string
	// CacheDir is where the archive is downloaded to and looked for; "" means dataset.CacheDir's
	// default ($CONFCAL_DATA/cifar10 or os.UserCacheDir()/confcal/cifar10).
	CacheDir string
	// Download allows fetching the archive into CacheDir (SHA-256 checked).
	Download bool
	// Progress receives download progress lines; nil means os.Stderr.
	Progress io.Writer
	// Subset accepts files that hold fewer images than CIFAR-10 (a deliberate subset, or a copy of
	// one's own): without it every batch file must hold BatchImages records and an archive must be
	// the published one (its SHA-256). Stand-ins (WriteStandIn) are recognised by their readme
	// and need no Subset.
	Subset bool
}

// SplitFiles returns the names of the batch files of split, "train" or "test", in order.
func SplitFiles(split string) ([]string, error) {
	switch split {
	case "train":
		return TrainBatchFiles[:], nil
	case "test":
		return []string{TestBatchFile}, nil
	}
	return nil, fmt.Errorf("cifar: unknown split %q, want \"train\" or \"test\"", split)
}

// Load returns the "train" (50,000 images) or "test" (10,000 images) split of CIFAR-10 as a set of
// 3×32×32 images in [0,1] named "cifar10-train" or "cifar10-test", whose Source names the files
// read. What is read from an archive or folder that WriteStandIn made is named
// "cifar10-standin-train" or "cifar10-standin-test" and its Source says it is not CIFAR-10.
//
// Sources, in order: opt.Dir (the .bin files, a cifar-10-batches-bin folder, or the archive);
// the cache directory (the same layouts); if opt.Download, the archive downloaded into the cache
// (SHA-256 checked; offline it fails within seconds). Invalid files in opt.Dir or in the cache are
// an error. When no source has the data, the error names every place tried, the URL and the path
// the archive is expected at.
func Load(split string, opt Options) (*dataset.Set, error) {
	files, err := SplitFiles(split)
	if err != nil {
		return nil, err
	}
	var tried []string

	// 1. The user's directory.
	if opt.Dir != "" {
		l, err := findLayout(opt.Dir, files)
		if err == nil {
			return l.load(split, opt.Subset)
		}
		tried = append(tried, "data directory "+err.Error())
	}

	// 2. The cache.
	cacheDir, err := dataset.CacheDir(opt.CacheDir, CacheSub)
	if err != nil {
		tried = append(tried, "cache: "+err.Error())
		return nil, fmt.Errorf("cifar: cannot load the %s split; tried:\n  %s", split, strings.Join(tried, "\n  "))
	}
	l, err := findLayout(cacheDir, files)
	if err == nil {
		s, err := l.load(split, opt.Subset)
		if err != nil {
			return nil, fmt.Errorf("cifar: the cached copy is invalid (delete it to download it again): %w", err)
		}
		return s, nil
	}
	tried = append(tried, "cache "+err.Error())

	// 3. Download (dataset.Fetch words the error when downloading is off).
	p, err := dataset.Fetch(cacheDir, Archive, opt.Download, opt.Progress)
	if err != nil {
		tried = append(tried, "download: "+err.Error())
		return nil, fmt.Errorf("cifar: cannot load the %s split; tried:\n  %s", split, strings.Join(tried, "\n  "))
	}
	return loadArchive(p, split, opt.Subset)
}

// layout is where a split's files were found: an archive, or a folder holding the .bin files.
type layout struct {
	archive string // path of the archive, or ""
	dir     string // folder of the .bin files when archive is ""
	files   []string
}

// findLayout looks in dir for the files of a split: the .bin files in dir itself, in
// dir/cifar-10-batches-bin, or dir/cifar-10-binary.tar.gz. The error says what is missing where.
func findLayout(dir string, files []string) (layout, error) {
	var partial []string
	for _, d := range []string{dir, filepath.Join(dir, BatchesDir)} {
		var missing []string
		for _, f := range files {
			if !isFile(filepath.Join(d, f)) {
				missing = append(missing, f)
			}
		}
		if len(missing) == 0 {
			return layout{dir: d, files: files}, nil
		}
		if len(missing) < len(files) {
			partial = append(partial, fmt.Sprintf("%s has some of the batch files but not %s", d, strings.Join(missing, ", ")))
		}
	}
	if a := filepath.Join(dir, ArchiveName); isFile(a) {
		return layout{archive: a, files: files}, nil
	}
	msg := fmt.Sprintf("%s: no %s, no %s folder, no %s", dir, strings.Join(files, ", "), BatchesDir, ArchiveName)
	if len(partial) > 0 {
		msg += " (" + strings.Join(partial, "; ") + ")"
	}
	return layout{}, errors.New(msg)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// load reads the split from where findLayout found it; subset is Options.Subset.
func (l layout) load(split string, subset bool) (*dataset.Set, error) {
	if l.archive != "" {
		return loadArchive(l.archive, split, subset)
	}
	batches := make([]rawBatch, len(l.files))
	var sources []string
	var infos []os.FileInfo
	for i, f := range l.files {
		p := filepath.Join(l.dir, f)
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cifar: %w", err)
		}
		for j, other := range infos {
			if os.SameFile(st, other) {
				return nil, fmt.Errorf("cifar: %s is the same file as %s (a link); each batch must be a file of its own", p, filepath.Join(l.dir, l.files[j]))
			}
		}
		infos = append(infos, st)
		data, err := readBatchFile(p)
		if err != nil {
			return nil, err
		}
		batches[i] = rawBatch{name: p, data: data}
		sources = append(sources, p)
	}
	var readme []byte
	if p := filepath.Join(l.dir, ReadmeFile); isFile(p) {
		readme, _ = readCapped(p, maxReadmeBytes) // only looked at for the stand-in marker
	}
	s, err := decodeSet(batches, split, strings.Join(sources, ", "), readme, !subset)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// maxReadmeBytes is the most of a readme that is read (for the stand-in marker).
const maxReadmeBytes = 1 << 20

// readBatchFile reads a batch file, refusing one larger than a batch of BatchImages records
// before reading it.
func readBatchFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	if err := checkSize(p, st.Size()); err != nil {
		return nil, err
	}
	return readRecords(f, p, st.Size())
}

// readCapped returns at most limit bytes of the file at p.
func readCapped(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// readRecords reads the size bytes (already checked by checkSize) of a batch from r, allocating
// as the data arrive rather than by size. name names the batch in errors.
func readRecords(r io.Reader, name string, size int64) ([]byte, error) {
	buf := make([]byte, 0, min(size, 1<<20))
	for int64(len(buf)) < size {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(size, 2*int64(cap(buf))))
			copy(nb, buf)
			buf = nb
		}
		k, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err != nil {
			return nil, fmt.Errorf("cifar: %s: corrupt or truncated after %d of %d bytes: %w", name, len(buf), size, err)
		}
	}
	return buf, nil
}

// LoadArchive reads split, "train" or "test", from the cifar-10-binary.tar.gz at path (see
// ReadArchive), which must be the published archive (its SHA-256, every batch BatchImages records)
// or a stand-in that WriteStandIn wrote.
func LoadArchive(path, split string) (*dataset.Set, error) {
	return loadArchive(path, split, false)
}

// loadArchive reads split from the archive at path. Unless subset, an archive that is not a
// stand-in must hold BatchImages records a batch and have Archive's SHA-256, computed as it is read.
func loadArchive(path, split string, subset bool) (*dataset.Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(f, h), 1<<20)
	s, counts, standIn, err := readArchive(br, path, split)
	if err != nil || subset || standIn {
		return s, err
	}
	// Hash what is left after the gzip stream's end (readArchive read up to it).
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, fmt.Errorf("cifar: reading %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got == strings.ToLower(Archive.SHA256) {
		return s, nil // the published archive
	} else {
		for _, c := range counts {
			if c.n != BatchImages {
				return nil, fmt.Errorf("cifar: %s holds %d records, a CIFAR-10 batch holds %d (set Options.Subset to load a deliberate subset)",
					c.name, c.n, BatchImages)
			}
		}
		return nil, fmt.Errorf("cifar: %s: SHA-256 %s, want %s (that of the published %s); set Options.Subset to load a deliberate subset",
			path, got, Archive.SHA256, ArchiveName)
	}
}

// batchCount is the number of records of a batch.
type batchCount struct {
	name string
	n    int
}

// ReadArchive reads split, "train" or "test", from r, a cifar-10-binary.tar.gz, decoding the tar
// entries as a stream (nothing is extracted to disk); name names r in errors and in the set's
// Source. The batch files are looked for as cifar-10-batches-bin/<file> (or <file> at the top);
// other entries are skipped. The whole stream is read, so that the gzip checksum at its end is
// checked. Errors name the archive and the entry: corrupt gzip or tar data, a batch missing or
// present twice, a batch declaring more than BatchImages records (refused before it is inflated),
// and the batch errors of ReadBatch. Batches of fewer records are accepted (Load checks the counts).
func ReadArchive(r io.Reader, name, split string) (*dataset.Set, error) {
	s, _, _, err := readArchive(r, name, split)
	return s, err
}

// readArchive is ReadArchive, also returning the record count of each batch and whether the
// readme carries StandInMarker.
func readArchive(r io.Reader, name, split string) (s *dataset.Set, counts []batchCount, standIn bool, err error) {
	files, err := SplitFiles(split)
	if err != nil {
		return nil, nil, false, err
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, false, fmt.Errorf("cifar: %s: not a readable gzip file: %w", name, err)
	}
	want := map[string]int{}
	for i, f := range files {
		want[f] = i
	}
	batches := make([]rawBatch, len(files))
	var readme []byte
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, false, fmt.Errorf("cifar: %s: corrupt or truncated archive (tar/gzip): %w", name, err)
		}
		base, ok := entryBase(hdr.Name)
		if !ok {
			continue
		}
		if base == ReadmeFile && hdr.Typeflag == tar.TypeReg && hdr.Size <= maxReadmeBytes {
			if readme, err = io.ReadAll(tr); err != nil {
				return nil, nil, false, fmt.Errorf("cifar: %s: corrupt or truncated archive at %s (tar/gzip): %w", name, hdr.Name, err)
			}
			continue
		}
		i, ok := want[base]
		if !ok {
			continue
		}
		entry := name + ":" + hdr.Name
		if hdr.Typeflag != tar.TypeReg {
			return nil, nil, false, fmt.Errorf("cifar: %s is not a regular file (tar type %q)", entry, hdr.Typeflag)
		}
		if batches[i].data != nil {
			return nil, nil, false, fmt.Errorf("cifar: %s: the archive holds %s twice (also as %s)", name, base, batches[i].name)
		}
		if err := checkSize(entry, hdr.Size); err != nil {
			return nil, nil, false, err
		}
		data, err := readRecords(tr, entry+" (corrupt or truncated archive, tar/gzip)", hdr.Size)
		if err != nil {
			return nil, nil, false, err
		}
		batches[i] = rawBatch{name: entry, data: data}
	}
	// Reach the end of the gzip stream, which checks its CRC (the tar reader may stop before it).
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, nil, false, fmt.Errorf("cifar: %s: corrupt gzip data at the end of the archive: %w", name, err)
	}
	var missing []string
	for i, b := range batches {
		if b.data == nil {
			missing = append(missing, BatchesDir+"/"+files[i])
		}
	}
	if len(missing) > 0 {
		return nil, nil, false, fmt.Errorf("cifar: %s: the archive has no %s (the %s split needs %s)",
			name, strings.Join(missing, " nor "), split, strings.Join(files, ", "))
	}
	source := fmt.Sprintf("%s (%s/%s)", name, BatchesDir, strings.Join(files, ", "))
	s, err = decodeSet(batches, split, source, readme, false)
	if err != nil {
		return nil, nil, false, err
	}
	for _, b := range batches {
		counts = append(counts, batchCount{b.name, len(b.data) / RecordSize})
	}
	return s, counts, isStandIn(readme), nil
}

// entryBase returns the file name of a tar entry that is at the top of the archive or in
// cifar-10-batches-bin/ (ok false for anything else).
func entryBase(name string) (string, bool) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	dir, base := path.Split(clean)
	if dir == "" || dir == BatchesDir+"/" {
		return base, true
	}
	return "", false
}

// checkSize checks that a batch of size bytes is a positive whole number of records, at most
// BatchImages.
func checkSize(name string, size int64) error {
	if size > maxBatchBytes {
		return fmt.Errorf("cifar: %s: %d bytes, %d records or more; a CIFAR-10 batch holds at most %d records of %d bytes (%d bytes)",
			name, size, size/RecordSize, BatchImages, RecordSize, maxBatchBytes)
	}
	if size <= 0 {
		return fmt.Errorf("cifar: %s: empty (%d bytes), want a positive multiple of %d bytes (one label byte and %d pixel bytes a record)",
			name, size, RecordSize, ImageBytes)
	}
	if size%RecordSize != 0 {
		return fmt.Errorf("cifar: %s: %d bytes is not a multiple of the record size %d: %d whole records, then record %d is truncated after %d of its %d bytes",
			name, size, RecordSize, size/RecordSize, size/RecordSize, size%RecordSize, RecordSize)
	}
	return nil
}

// byteToFloat maps a pixel byte to its value in [0,1].
var byteToFloat = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// rawBatch is the content of a batch file and its name for errors.
type rawBatch struct {
	name string
	data []byte
}

// decode checks the records of data (size and labels) and writes their pixels, as values in [0,1],
// to images and their labels to labels (both exactly long enough).
func decode(name string, data []byte, images []float32, labels []int) error {
	if err := checkSize(name, int64(len(data))); err != nil {
		return err
	}
	n := len(data) / RecordSize
	if len(labels) != n || len(images) != n*ImageBytes {
		panic("cifar: decode: output of the wrong size") // callers size them from len(data)
	}
	for i := range n {
		rec := data[i*RecordSize : (i+1)*RecordSize]
		if rec[0] >= NumClasses {
			return fmt.Errorf("cifar: %s: record %d (byte offset %d) has label %d, want 0–%d", name, i, i*RecordSize, rec[0], NumClasses-1)
		}
		labels[i] = int(rec[0])
		dst := images[i*ImageBytes : (i+1)*ImageBytes]
		for j, p := range rec[1:] {
			dst[j] = byteToFloat[p]
		}
	}
	return nil
}

// isStandIn reports whether readme marks a stand-in.
func isStandIn(readme []byte) bool { return bytes.Contains(readme, []byte(StandInMarker)) }

// decodeSet decodes the batches, in order, into one set of the split (concurrently, one goroutine
// a batch). readme is the archive's readme, checked for StandInMarker. With strict, every batch of
// files that are not a stand-in must hold BatchImages records.
func decodeSet(batches []rawBatch, split, source string, readme []byte, strict bool) (*dataset.Set, error) {
	n := 0
	for _, b := range batches {
		if err := checkSize(b.name, int64(len(b.data))); err != nil {
			return nil, err
		}
		k := len(b.data) / RecordSize
		if strict && !isStandIn(readme) && k != BatchImages {
			return nil, fmt.Errorf("cifar: %s holds %d records, a CIFAR-10 batch holds %d (set Options.Subset to load a deliberate subset)",
				b.name, k, BatchImages)
		}
		n += k
	}
	images := make([]float32, n*ImageBytes)
	labels := make([]int, n)
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	start := 0
	for i, b := range batches {
		k := len(b.data) / RecordSize
		imgs, labs := images[start*ImageBytes:(start+k)*ImageBytes], labels[start:start+k]
		wg.Go(func() { errs[i] = decode(b.name, b.data, imgs, labs) })
		start += k
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	name := "cifar10-" + split
	if isStandIn(readme) {
		name = "cifar10-standin-" + split
		source += " [" + StandInMarker + ": its readme says so]"
	}
	return &dataset.Set{
		Images: images, Labels: labels,
		N: n, C: ImageChannels, H: ImageSide, W: ImageSide,
		Name: name, Source: source,
	}, nil
}

// ReadBatch reads a CIFAR-10 batch file (data_batch_1.bin, …, test_batch.bin) from r: a sequence of
// 3,073-byte records, each a label byte (0–9) and the 32×32 red, green and blue planes, row-major.
// It returns the pixels as values in [0,1], N×3×32×32 in that order (NCHW), and the N labels. Real
// batches hold 10,000 records; any positive number up to BatchImages is accepted (no more than a
// batch and one byte is read). name names r in errors: an empty input, more than BatchImages
// records, a size that is not a multiple of 3,073 (with the byte count and the truncated record)
// and a label of 10 or more (with the record's index and the value).
func ReadBatch(r io.Reader, name string) (images []float32, labels []int, err error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBatchBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("cifar: reading %s: %w", name, err)
	}
	if len(data) > maxBatchBytes {
		return nil, nil, fmt.Errorf("cifar: %s: more than %d bytes; a CIFAR-10 batch holds at most %d records of %d bytes", name, maxBatchBytes, BatchImages, RecordSize)
	}
	if err := checkSize(name, int64(len(data))); err != nil {
		return nil, nil, err
	}
	n := len(data) / RecordSize
	images = make([]float32, n*ImageBytes)
	labels = make([]int, n)
	if err := decode(name, data, images, labels); err != nil {
		return nil, nil, err
	}
	return images, labels, nil
}
