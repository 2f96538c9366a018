package cifar

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"

	"github.com/confcal/confcal/dataset"
	"github.com/confcal/confcal/internal/atomicfile"
)

// checkWritable checks that s is a non-empty set of 3×32×32 images in [0,1] with labels 0–9.
func checkWritable(s *dataset.Set) error {
	if s == nil {
		return fmt.Errorf("no set (nil)")
	}
	if err := s.Check(); err != nil {
		return err
	}
	if s.C != ImageChannels || s.H != ImageSide || s.W != ImageSide {
		return fmt.Errorf("set %q: images are %d×%d×%d, CIFAR-10's are %d×%d×%d", s.Name, s.C, s.H, s.W, ImageChannels, ImageSide, ImageSide)
	}
	if s.N == 0 {
		return fmt.Errorf("set %q has no images; a batch file needs at least one record", s.Name)
	}
	for i, l := range s.Labels {
		if l < 0 || l >= NumClasses {
			return fmt.Errorf("set %q: label %d of image %d is not a class 0–%d", s.Name, l, i, NumClasses-1)
		}
	}
	for j, v := range s.Images {
		if !(v >= 0 && v <= 1) { // also NaN
			i := j / ImageBytes
			return fmt.Errorf("set %q: image %d has the value %v at (channel %d, row %d, column %d), want [0,1]",
				s.Name, i, v, j%ImageBytes/(ImageSide*ImageSide), j%(ImageSide*ImageSide)/ImageSide, j%ImageSide)
		}
	}
	return nil
}

// WriteBatch writes s as a CIFAR-10 batch file: for each image a label byte and the 3,072 pixel
// bytes (red, green and blue planes, row-major), each value in [0,1] rounded to the nearest of
// 0/255, …, 255/255. s must hold at least one 3×32×32 image, labels 0–9 and values in [0,1]; it is
// checked before anything is written.
func WriteBatch(w io.Writer, s *dataset.Set) error {
	if err := checkWritable(s); err != nil {
		return fmt.Errorf("cifar.WriteBatch: %w", err)
	}
	return writeRecords(w, s)
}

// writeRecords writes the records of s, already checked.
func writeRecords(w io.Writer, s *dataset.Set) error {
	rec := make([]byte, RecordSize)
	for i := range s.N {
		rec[0] = byte(s.Labels[i])
		for j, v := range s.Image(i) {
			rec[1+j] = byte(math.Round(float64(v) * 255))
		}
		if _, err := w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

// batchView returns images [a, b) of s, sharing its slices.
func batchView(s *dataset.Set, a, b int) *dataset.Set {
	return &dataset.Set{
		Images: s.Images[a*ImageBytes : b*ImageBytes], Labels: s.Labels[a:b],
		N: b - a, C: s.C, H: s.H, W: s.W, Name: s.Name, Source: s.Source,
	}
}

// archiveTime is the modification time of the entries WriteArchive writes (fixed, so that the same
// sets give the same bytes).
var archiveTime = time.Date(2009, 6, 5, 0, 0, 0, 0, time.UTC)

// WriteArchive writes train and test as a cifar-10-binary.tar.gz at path (atomically), in the
// layout of the real archive: the folder cifar-10-batches-bin/ holding batches.meta.txt (the class
// names), data_batch_1.bin … data_batch_5.bin (train, in order, split as evenly as possible, the
// first batches taking one image more), readme.html (saying what wrote the file and the sets'
// Source) and test_batch.bin. The output is deterministic. train needs 5 to 50,000 images, test
// 1 to 10,000 (BatchImages a batch); both must be writable by WriteBatch.
func WriteArchive(path string, train, test *dataset.Set) error {
	if err := checkWritable(train); err != nil {
		return fmt.Errorf("cifar.WriteArchive %s: train: %w", path, err)
	}
	if err := checkWritable(test); err != nil {
		return fmt.Errorf("cifar.WriteArchive %s: test: %w", path, err)
	}
	nb := len(TrainBatchFiles)
	if train.N < nb {
		return fmt.Errorf("cifar.WriteArchive %s: train has %d images, want at least %d (one a batch file)", path, train.N, nb)
	}
	if train.N > nb*BatchImages || test.N > BatchImages {
		return fmt.Errorf("cifar.WriteArchive %s: %d training and %d test images, want at most %d and %d (%d a batch file)",
			path, train.N, test.N, nb*BatchImages, BatchImages, BatchImages)
	}
	readme := fmt.Sprintf("<html><body>\n<p>CIFAR-10 binary layout written by github.com/confcal/confcal/cifar.WriteArchive.</p>\n"+
		"<p>train (%d images): %s</p>\n<p>test (%d images): %s</p>\n</body></html>\n",
		train.N, html.EscapeString(train.Source), test.N, html.EscapeString(test.Source))
	meta := strings.Join(ClassNames[:], "\n") + "\n"

	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
		if err != nil {
			return err
		}
		zw.Name = strings.TrimSuffix(ArchiveName, ".gz")
		tw := tar.NewWriter(zw)
		if err := tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeDir, Name: BatchesDir + "/", Mode: 0o755, ModTime: archiveTime, Format: tar.FormatUSTAR,
		}); err != nil {
			return err
		}
		file := func(name string, size int64, fill func(io.Writer) error) error {
			if err := tw.WriteHeader(&tar.Header{
				Typeflag: tar.TypeReg, Name: BatchesDir + "/" + name, Size: size, Mode: 0o644, ModTime: archiveTime, Format: tar.FormatUSTAR,
			}); err != nil {
				return err
			}
			if err := fill(tw); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		}
		text := func(s string) func(io.Writer) error {
			return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
		}
		records := func(s *dataset.Set) func(io.Writer) error {
			return func(w io.Writer) error { return writeRecords(w, s) }
		}
		if err := file(MetaFile, int64(len(meta)), text(meta)); err != nil {
			return err
		}
		start := 0
		for k, name := range TrainBatchFiles {
			n := train.N / nb
			if k < train.N%nb {
				n++
			}
			if err := file(name, int64(n)*RecordSize, records(batchView(train, start, start+n))); err != nil {
				return err
			}
			start += n
		}
		if err := file(ReadmeFile, int64(len(readme)), text(readme)); err != nil {
			return err
		}
		if err := file(TestBatchFile, int64(test.N)*RecordSize, records(test)); err != nil {
			return err
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return zw.Close()
	})
}
