package cifar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confcal/confcal/internal/hostile"
	"github.com/confcal/confcal/internal/memtest"
)

// hostileBudgetMB is the address space a hostile case may use on top of the test binary's: enough
// for a whole real test batch (30 MB of records, 123 MB of float32 pixels, about 190 MB resident at
// the peak, more address space when the garbage collector runs late on a busy machine), far below
// the gigabytes the hostile archives claim.
const hostileBudgetMB = 640

// hostileCases are archives and folders a hostile user could give Load, the split to load and
// what the error must say. Each is made at test time and is small on disk.
var hostileCases = map[string]struct {
	split string
	make  func(t *testing.T, dir string)
	want  []string
}{
	// A 4.3 GB sparse entry in a few hundred bytes.
	"sparse-4.3GB-entry": {"test", func(t *testing.T, dir string) {
		writeGz(t, dir, concat(hostile.SparseTarFile(BatchesDir+"/"+TestBatchFile, RecordSize*1400000), hostile.TarEnd()))
	}, []string{TestBatchFile, "4302200000 bytes", "at most 10000 records"}},
	// A 4 MB gzip bomb: an entry declaring 4.3 GB, all of them present (zeros).
	"gzip-bomb-4.3GB": {"test", func(t *testing.T, dir string) {
		const size = RecordSize * 1400000
		os.WriteFile(filepath.Join(dir, ArchiveName), hostile.Gzip(hostile.TarHeader(BatchesDir+"/"+TestBatchFile, size, '0', ""), size+2*hostile.Block, nil), 0o644)
	}, []string{TestBatchFile, "at most 10000 records"}},
	// A smaller sparse entry: 1,000 black images.
	"sparse-1000-records": {"test", func(t *testing.T, dir string) {
		writeGz(t, dir, concat(hostile.SparseTarFile(BatchesDir+"/"+TestBatchFile, RecordSize*1000), hostile.TarEnd()))
	}, []string{TestBatchFile, "holds 1000 records, a CIFAR-10 batch holds 10000", "Options.Subset"}},
	// A full-size batch of black images: the right count, not the published archive.
	"sparse-10000-records": {"test", func(t *testing.T, dir string) {
		writeGz(t, dir, concat(hostile.SparseTarFile(BatchesDir+"/"+TestBatchFile, RecordSize*BatchImages), hostile.TarEnd()))
	}, []string{ArchiveName, "SHA-256", Archive.SHA256}},
	// A 4.3 GB batch file in an extracted folder (a sparse file on disk).
	"sparse-4.3GB-file": {"test", func(t *testing.T, dir string) {
		f, err := os.Create(filepath.Join(dir, TestBatchFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(RecordSize * 1400000); err != nil {
			t.Skipf("no sparse files here: %v", err)
		}
		f.Close()
	}, []string{TestBatchFile, "at most 10000 records"}},
	// Five one-record batches are not CIFAR-10's training set.
	"five-one-record-batches": {"train", func(t *testing.T, dir string) {
		for _, f := range TrainBatchFiles {
			os.WriteFile(filepath.Join(dir, f), make([]byte, RecordSize), 0o644)
		}
	}, []string{"data_batch_1.bin holds 1 records, a CIFAR-10 batch holds 10000"}},
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// writeGz writes tarData, gzipped, as dir's cifar-10-binary.tar.gz.
func writeGz(t *testing.T, dir string, tarData []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, ArchiveName), hostile.Gzip(tarData, 0, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHostileChild runs one hostile case under memtest's limit (see TestHostileArchives).
func TestHostileChild(t *testing.T) {
	c := hostileCases[memtest.Child(t)]
	dir := t.TempDir()
	c.make(t, dir)
	s, err := Load(c.split, Options{Dir: dir, CacheDir: t.TempDir()})
	if err == nil {
		t.Fatalf("accepted: %d images, %s", s.N, s.Source)
	}
	for _, w := range c.want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// TestHostileArchives: size bombs and short batches get clear errors, within a hard memory limit.
func TestHostileArchives(t *testing.T) {
	memtest.RunCases(t, "TestHostileChild", hostileCases, hostileBudgetMB)
}

// TestSubsetOptOut: a deliberate subset loads with Options.Subset, and the same files without it
// are refused (the counts are CIFAR-10's).
func TestSubsetOptOut(t *testing.T) {
	dir := t.TempDir()
	writeFixtureArchive(t, dir, 10, 3)
	if _, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "holds 3 records") {
		t.Errorf("a 3-image test batch without Subset: %v", err)
	}
	s, err := Load("test", Options{Dir: dir, CacheDir: t.TempDir(), Subset: true})
	if err != nil || s.N != 3 {
		t.Fatalf("with Subset: %v", err)
	}
	// LoadArchive is as strict; stand-ins need no opt-out.
	if _, err := LoadArchive(filepath.Join(dir, ArchiveName), "test"); err == nil {
		t.Error("LoadArchive accepted a 3-image test batch")
	}
	p, err := WriteStandIn(t.TempDir(), 5, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := LoadArchive(p, "test"); err != nil || s.N != 2 || s.Name != "cifar10-standin-test" {
		t.Errorf("stand-in: %v", err)
	}
}

// TestLinkedBatchesRefused: a batch file that is a link to another batch of the folder would count
// its images twice; it is an error naming both.
func TestLinkedBatchesRefused(t *testing.T) {
	dir := t.TempDir()
	for _, f := range TrainBatchFiles[:4] {
		os.WriteFile(filepath.Join(dir, f), make([]byte, RecordSize), 0o644)
	}
	last := filepath.Join(dir, TrainBatchFiles[4])
	if err := os.Symlink(filepath.Join(dir, TrainBatchFiles[0]), last); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	_, err := Load("train", Options{Dir: dir, CacheDir: t.TempDir(), Subset: true})
	if err == nil || !strings.Contains(err.Error(), last+" is the same file as "+filepath.Join(dir, TrainBatchFiles[0])) {
		t.Errorf("linked batch: %v", err)
	}
}
