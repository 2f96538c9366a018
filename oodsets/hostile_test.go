package oodsets

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confcal/confcal/internal/memtest"
)

// hostileBudgetMB is the address space a hostile case may use on top of the test binary's: room for a
// whole real set (10,000 images: 123 MB of float32 pixels and some 20 MB of JPEGs, about 270 MB
// resident at the peak, more address space when the garbage collector runs late on a busy machine),
// far below the 4.9–8 GB the former bombs took.
const hostileBudgetMB = 768

// writeManyEntries writes dir/Imagenet_resize.tar.gz holding n image entries named
// Imagenet_resize/Imagenet_resize/<i>.jpg, each with data (fast gzip, streamed to the file).
func writeManyEntries(t *testing.T, dir string, n int, data []byte) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, TinyImageNet.Remote.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	for i := range n {
		h := &tar.Header{Name: fmt.Sprintf("Imagenet_resize/Imagenet_resize/%06d.jpg", i), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// hostileCases are archives a hostile user could give Load (as TinyImageNet, with Options.Subset
// so that only the limits are at stake) and what the error must say.
var hostileCases = map[string]struct {
	make func(t *testing.T, dir string)
	want []string
}{
	// 1.4 MB: 400,000 zero-byte image entries.
	"400000-empty-entries": {func(t *testing.T, dir string) { writeManyEntries(t, dir, 400000, nil) },
		[]string{"more than 10000 images"}},
	// 40,000 copies of one valid JPEG.
	"40000-copies-of-a-jpeg": {func(t *testing.T, dir string) {
		writeManyEntries(t, dir, 40000, solidJPEG(t, Size, Size, color.RGBA{200, 100, 50, 255}, 90))
	}, []string{"more than 10000 images"}},
	// 10,000 copies: as many as the set has, accepted (the memory of a whole set).
	"10000-copies-of-a-jpeg": {func(t *testing.T, dir string) {
		writeManyEntries(t, dir, 10000, solidJPEG(t, Size, Size, color.RGBA{200, 100, 50, 255}, 90))
	}, nil},
}

// TestHostileChild runs one hostile case under memtest's limit (see TestHostileArchives).
func TestHostileChild(t *testing.T) {
	c := hostileCases[memtest.Child(t)]
	dir := t.TempDir()
	c.make(t, dir)
	s, err := Load(TinyImageNet, Options{Dir: dir, CacheDir: t.TempDir(), Subset: true})
	if c.want == nil {
		if err != nil || s.N != TinyImageNet.Images {
			t.Fatalf("%v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted: %d images", s.N)
	}
	for _, w := range append(c.want, filepath.Join(dir, TinyImageNet.Remote.Name)) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// TestHostileArchives: archives of too many entries get clear errors before their images are
// decoded, within a hard memory limit.
func TestHostileArchives(t *testing.T) {
	if testing.Short() {
		t.Skip("writes archives of up to 400,000 entries")
	}
	memtest.RunCases(t, "TestHostileChild", hostileCases, hostileBudgetMB)
}

// TestArchiveEntries: an entry present twice, or leading outside the archive, is an error; a file
// linked twice in a folder counts once.
func TestArchiveEntries(t *testing.T) {
	jpg := solidJPEG(t, Size, Size, color.RGBA{10, 20, 30, 255}, 90)
	const d = "Imagenet_resize/Imagenet_resize/"
	for _, tc := range []struct {
		name    string
		entries []tarEntry
		want    string
	}{
		{"same-entry-3-times", []tarEntry{{name: d + "a.jpg", data: jpg}, {name: d + "a.jpg", data: jpg}, {name: d + "a.jpg", data: jpg}}, "entry " + d + "a.jpg appears twice"},
		{"same-entry-spelt-twice", []tarEntry{{name: d + "a.jpg", data: jpg}, {name: "./" + d + "/a.jpg", data: jpg}}, "appears twice"},
		{"marker-outside", []tarEntry{{name: d + "a.jpg", data: jpg}, {name: "../" + markerName, data: []byte(standInPrefix + "x")}}, `entry "../STAND-IN.txt" leads outside the archive`},
		{"image-outside", []tarEntry{{name: d + "../../../a.jpg", data: jpg}}, "leads outside the archive"},
		{"absolute", []tarEntry{{name: "/tmp/a.jpg", data: jpg}}, "leads outside the archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeArchiveFile(t, dir, TinyImageNet, tarGz(t, tc.entries...))
			s, err := loadDir(t, TinyImageNet, dir, 0)
			if err == nil {
				t.Fatalf("accepted: %d images named %q", s.N, s.Name)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q, want it to name %s and say %q", err, p, tc.want)
			}
		})
	}

	// In a folder, links to one file count once, and so does a link to another file's folder.
	dir := filepath.Join(t.TempDir(), "Imagenet_resize")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "a.jpg"), jpg, 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "b.jpg"), jpg, 0o644)
	os.Symlink(filepath.Join(dir, "a.jpg"), filepath.Join(dir, "link-a.jpg"))
	os.Symlink("../a.jpg", filepath.Join(dir, "sub", "rel-a.jpg"))
	os.Symlink(filepath.Join(dir, "sub", "b.jpg"), filepath.Join(dir, "link-b.jpg"))
	s, err := loadDir(t, TinyImageNet, dir, 0)
	if err != nil || s.N != 2 {
		t.Fatalf("2 files behind 5 names: %v, want 2 images", err)
	}
}

// TestCountsChecked: without Options.Subset an archive or folder must hold the set's 10,000
// images (an archive: or be the published one); with it fewer load; stand-ins need no opt-out.
func TestCountsChecked(t *testing.T) {
	data, _ := validArchive(t, 5)
	dir := t.TempDir()
	p := writeArchiveFile(t, dir, TinyImageNet, data)
	_, err := Load(TinyImageNet, Options{Dir: dir, CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), p+" holds 5 images, TinyImageNet (resize) has 10000") {
		t.Errorf("5 images without Subset: %v", err)
	}
	if s, err := Load(TinyImageNet, Options{Dir: dir, CacheDir: t.TempDir(), Subset: true}); err != nil || s.N != 5 {
		t.Errorf("with Subset: %v", err)
	}
	// The published MD5 stands for the count (a file with it is the published archive).
	src := TinyImageNet
	src.Remote.MD5 = md5Hex(data)
	if s, err := Load(src, Options{Dir: dir, CacheDir: t.TempDir()}); err != nil || s.N != 5 {
		t.Errorf("with the archive's MD5 as the published one: %v", err)
	}
	sdir := t.TempDir()
	if _, err := WriteStandIn(sdir, LSUN, 7, 1); err != nil {
		t.Fatal(err)
	}
	if s, err := Load(LSUN, Options{Dir: sdir, CacheDir: t.TempDir()}); err != nil || s.N != 7 {
		t.Errorf("stand-in: %v", err)
	}
}

func md5Hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}
