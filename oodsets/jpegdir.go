package oodsets

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // the ODIN sets are JPEGs; PNG files in a user's folder are read as well
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confcal/confcal/dataset"
	"github.com/confcal/confcal/internal/atomicfile"
)

// Size is the side, in pixels, of the images of the resized ODIN sets (and of the stand-ins).
const Size = 32

// Limits that keep a corrupt or hostile archive from exhausting memory: a 32×32 JPEG takes a few
// kilobytes, so an image entry over maxEntryBytes is an error, and so is an archive whose image
// entries add up to more than maxTotalBytes (the real archives hold about 20 MB of JPEGs) or that
// holds more images than the set (Source.Images, or defaultMaxImages when that is 0); of the
// stand-in marker only the first maxMarkerBytes are read.
const (
	maxEntryBytes    = 1 << 20
	maxMarkerBytes   = 4 << 10
	defaultMaxImages = 100000
)

// maxTotalBytes is a variable so that the fuzz test can lower it.
var maxTotalBytes int64 = 256 << 20

// markerName is the base name of the file WriteStandIn puts into the archives of stand-ins; Load
// names a set in which it finds one "<name>-standin".
const markerName = "STAND-IN.txt"

// standInPrefix starts the Source of every stand-in set.
const standInPrefix = "generated stand-in, NOT "

// entry is an image file of an archive or a folder.
type entry struct {
	name string // path in the archive, or relative to the folder's parent, with "/" separators
	data []byte // the file's bytes (archives); nil for folders, whose files are read when decoded
	file string // the file to read when data is nil
}

// collection is what an archive or a folder holds: its image files and, for stand-ins, the text of
// the stand-in marker.
type collection struct {
	origin  string // the archive or folder, for messages and Set.Source
	entries []entry
	standIn bool
	marker  string // the marker's text (possibly empty) when standIn
	md5     string // the archive's MD5 (hex) when it was computed
}

// tooMany is the error for a collection of more than max images.
func tooMany(origin string, max int) error {
	return fmt.Errorf("%s: more than %d images, more than the set holds; not one of the resized ODIN sets", origin, max)
}

// cleanEntryName returns the path of a tar entry name without "./" and redundant separators, or
// an error when it is absolute or leads outside the archive ("..").
func cleanEntryName(origin, name string) (string, error) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%s: entry %q leads outside the archive (absolute or ..); want relative paths", origin, name)
	}
	return clean, nil
}

// isImageName reports whether name is that of an image file: .jpg, .jpeg or .png in any case, not
// an AppleDouble "._" file (macOS metadata that some archives carry beside each file).
func isImageName(name string) bool {
	base := path.Base(name)
	if strings.HasPrefix(base, "._") {
		return false
	}
	switch strings.ToLower(path.Ext(base)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// readArchive reads a gzipped tar from r as a stream, keeping the bytes of its image entries
// (regular files with an image extension) and noting a stand-in marker; other entries are skipped.
// origin names the archive in errors. The gzip stream is read to its end, so a truncated or corrupt
// archive is an error even where the tar itself ends early. An entry name that is absolute or has
// "..", an entry present twice and more than maxImages image entries are errors.
func readArchive(r io.Reader, origin string, maxImages int) (*collection, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: not a gzip file (want a .tar.gz archive of JPEGs): %w", origin, err)
	}
	tr := tar.NewReader(zr)
	c := &collection{origin: origin}
	var total int64
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: corrupt or truncated tar.gz archive after %d images: %w", origin, len(c.entries), err)
		}
		name, err := cleanEntryName(origin, hdr.Name)
		if err != nil {
			return nil, err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if seen[name] {
			return nil, fmt.Errorf("%s: entry %s appears twice; an archive holds each file once", origin, name)
		}
		seen[name] = true
		if path.Base(name) == markerName {
			b, err := io.ReadAll(io.LimitReader(tr, maxMarkerBytes))
			if err != nil {
				return nil, fmt.Errorf("%s: entry %s: %w", origin, name, err)
			}
			c.standIn, c.marker = true, string(b)
			continue
		}
		if !isImageName(name) {
			continue
		}
		if len(c.entries) >= maxImages {
			return nil, tooMany(origin, maxImages)
		}
		if hdr.Size > maxEntryBytes {
			return nil, fmt.Errorf("%s: entry %s is %d bytes, more than a %d×%d image needs (limit %d)",
				origin, name, hdr.Size, Size, Size, maxEntryBytes)
		}
		if total += hdr.Size; total > maxTotalBytes {
			return nil, fmt.Errorf("%s: the image entries exceed %d bytes in all; not an archive of %d×%d images",
				origin, maxTotalBytes, Size, Size)
		}
		data := make([]byte, hdr.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return nil, fmt.Errorf("%s: entry %s: corrupt or truncated archive: %w", origin, name, err)
		}
		c.entries = append(c.entries, entry{name: name, data: data})
	}
	// Read what follows the tar's end (padding) so that gzip checks its length and CRC.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("%s: corrupt or truncated gzip stream after the tar's end: %w", origin, err)
	}
	return c, nil
}

// readArchiveFile reads the archive at path (see readArchive), computing its MD5 when hash is set.
func readArchiveFile(path string, maxImages int, hash bool) (*collection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var src io.Reader = f
	h := md5.New()
	if hash {
		src = io.TeeReader(f, h)
	}
	br := bufio.NewReaderSize(src, 1<<20)
	c, err := readArchive(br, path, maxImages)
	if err != nil {
		return nil, err
	}
	if hash {
		if _, err := io.Copy(io.Discard, br); err != nil { // bytes after the gzip stream
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c.md5 = hex.EncodeToString(h.Sum(nil))
	}
	return c, nil
}

// readFolder lists the image files below root (an extracted archive), naming each by its path
// relative to base, and reads the stand-in marker if there is one. Symbolic links to regular
// files count as files, each file once however many links lead to it. More than maxImages images
// are an error.
func readFolder(root, base string, maxImages int) (*collection, error) {
	c := &collection{origin: root}
	seen := map[string]bool{} // real paths of the files listed
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		isMarker := d.Name() == markerName
		if !isMarker && !isImageName(d.Name()) {
			return nil
		}
		if !d.Type().IsRegular() {
			st, err := os.Stat(p) // follows a symbolic link
			if err != nil || !st.Mode().IsRegular() {
				return nil
			}
		}
		if isMarker {
			b, err := readCapped(p, maxMarkerBytes)
			if err != nil && !errors.Is(err, errTooLarge) {
				return err
			}
			c.standIn, c.marker = true, string(b)
			return nil
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return err
		}
		if real, err = filepath.Abs(real); err != nil {
			return err
		}
		if seen[real] {
			return nil // a second link to a file already listed
		}
		seen[real] = true
		if len(c.entries) >= maxImages {
			return tooMany(root, maxImages)
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		c.entries = append(c.entries, entry{name: filepath.ToSlash(rel), file: p})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the folder %s: %w", root, err)
	}
	return c, nil
}

var errTooLarge = errors.New("file too large")

// readCapped reads at most limit bytes of the file at p; a longer file gives its first limit bytes
// and errTooLarge.
func readCapped(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return b[:limit], errTooLarge
	}
	return b, nil
}

// toSet sorts the collection's images by path, keeps the first n (all if n is 0) and decodes them
// into a set named after src (src.Name + "-standin" for a marked stand-in).
func (c *collection) toSet(src Source, n int) (*dataset.Set, error) {
	if len(c.entries) == 0 {
		return nil, fmt.Errorf("%s: no images in it (looked for .jpg, .jpeg and .png files)", c.origin)
	}
	slices.SortStableFunc(c.entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	total := len(c.entries)
	entries := c.entries
	if n > 0 && n < total {
		entries = entries[:n]
	}
	images, err := decodeAll(entries, c.origin)
	if err != nil {
		return nil, err
	}
	labels := make([]int, len(entries))
	for i := range labels {
		labels[i] = -1
	}
	s := &dataset.Set{Images: images, Labels: labels, N: len(entries), C: 3, H: Size, W: Size, Name: src.Name}
	title := src.Title
	if title == "" {
		title = src.Name
	}
	if c.standIn {
		s.Name = src.Name + "-standin"
		desc, _, _ := strings.Cut(strings.TrimSpace(c.marker), "\n")
		if !strings.HasPrefix(desc, standInPrefix) || len(desc) > 300 {
			desc = standInPrefix + title + " (marked by " + markerName + ")"
		}
		s.Source = desc + ", read from " + c.origin
	} else {
		s.Source = title + ", " + c.origin
	}
	if len(entries) < total {
		s.Source += fmt.Sprintf(" (the first %d of %d images by path)", len(entries), total)
	}
	return s, nil
}

// decodeAll decodes the images of entries into N×3×32×32 float32 in [0,1], on GOMAXPROCS
// goroutines. The result, and the error when several images are bad (that of the first bad one in
// entries' order), do not depend on the scheduling.
func decodeAll(entries []entry, origin string) ([]float32, error) {
	const sz = 3 * Size * Size
	n := len(entries)
	out := make([]float32, n*sz)
	errs := make([]error, n)
	var next atomic.Int64
	var firstBad atomic.Int64 // lowest index that failed so far; images after it need no work
	firstBad.Store(int64(n))
	workers := max(1, min(runtime.GOMAXPROCS(0), n/16))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || int64(i) > firstBad.Load() {
					return
				}
				e := entries[i]
				data := e.data
				var err error
				if data == nil {
					data, err = readCapped(e.file, maxEntryBytes)
					if errors.Is(err, errTooLarge) {
						err = fmt.Errorf("%s: more than %d bytes, more than a %d×%d image needs", e.file, maxEntryBytes, Size, Size)
					}
				}
				if err == nil {
					err = decodeInto(data, out[i*sz:(i+1)*sz])
				}
				if err != nil {
					errs[i] = err
					for {
						b := firstBad.Load()
						if int64(i) >= b || firstBad.CompareAndSwap(b, int64(i)) {
							break
						}
					}
				}
			}
		})
	}
	wg.Wait()
	if b := int(firstBad.Load()); b < n {
		return nil, fmt.Errorf("%s: entry %s: %w", origin, entries[b].name, errs[b])
	}
	return out, nil
}

// decodeInto decodes one 32×32 image into dst (3×32×32, channels R, G, B in [0,1]): grey images
// are replicated to the three channels; values are the 8-bit RGB of the image's colour (as
// color.Color.RGBA gives it, shifted right by 8) divided by 255. The size is checked before the
// pixels are decoded, so a header claiming a huge image costs nothing.
func decodeInto(data []byte, dst []float32) error {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("corrupt or truncated image: %w", err)
	}
	if err != nil {
		return fmt.Errorf("not a readable JPEG or PNG image: %w", err)
	}
	if cfg.Width != Size || cfg.Height != Size {
		return fmt.Errorf("the %s image is %d×%d, want %d×%d (the ODIN sets are pre-resized)", format, cfg.Width, cfg.Height, Size, Size)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("corrupt or truncated %s image: %w", format, err)
	}
	b := img.Bounds()
	if b.Dx() != Size || b.Dy() != Size {
		return fmt.Errorf("the %s image decodes to %d×%d, want %d×%d", format, b.Dx(), b.Dy(), Size, Size)
	}
	const plane = Size * Size
	rp, gp, bp := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	for y := range Size {
		for x := range Size {
			px, py := b.Min.X+x, b.Min.Y+y
			var r, g, bl uint32
			switch m := img.(type) {
			case *image.YCbCr:
				yi, ci := m.YOffset(px, py), m.COffset(px, py)
				r, g, bl, _ = color.YCbCr{Y: m.Y[yi], Cb: m.Cb[ci], Cr: m.Cr[ci]}.RGBA()
			case *image.Gray:
				v := uint32(m.Pix[m.PixOffset(px, py)])
				r, g, bl = v<<8, v<<8, v<<8
			default:
				r, g, bl, _ = m.At(px, py).RGBA()
			}
			k := y*Size + x
			rp[k] = float32(r>>8) / 255
			gp[k] = float32(g>>8) / 255
			bp[k] = float32(bl>>8) / 255
		}
	}
	return nil
}

// WriteArchive writes the images of s as a gzipped tar of JPEGs (the given quality, 1–100) in the
// layout of the ODIN archives: the folder's directories, then folder/00000.jpg, folder/00001.jpg, …
// (numbered so that sorting by path keeps s's order). s must have 1 channel (grey JPEGs) or 3 (RGB);
// its images may be of any size. folder is a relative path with "/" separators, e.g.
// "Imagenet_resize/Imagenet_resize". The file at path is replaced atomically; the bytes written
// depend only on the arguments.
func WriteArchive(path, folder string, s *dataset.Set, quality int) error {
	return writeArchive(path, folder, s, quality, nil)
}

// extraFile is a file that writeArchive adds after the images.
type extraFile struct {
	name string
	data []byte
}

func writeArchive(file, folder string, s *dataset.Set, quality int, extra []extraFile) error {
	if s == nil {
		return fmt.Errorf("writing %s: no set", file)
	}
	if err := s.Check(); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if s.C != 1 && s.C != 3 {
		return fmt.Errorf("writing %s: set %q has %d channels, want 1 (grey) or 3 (RGB)", file, s.Name, s.C)
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("writing %s: JPEG quality %d, want 1–100", file, quality)
	}
	if folder == "" || path.IsAbs(folder) || path.Clean(folder) != folder || folder == ".." || strings.HasPrefix(folder, "../") || strings.Contains(folder, "\\") {
		return fmt.Errorf("writing %s: folder %q is not a clean relative path with \"/\" separators", file, folder)
	}
	jpegs, err := encodeAll(s, quality)
	if err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	digits := max(5, len(strconv.Itoa(s.N-1)))
	mtime := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC) // fixed, so that the bytes are reproducible
	return atomicfile.Write(file, 0o644, func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		tw := tar.NewWriter(zw)
		parts := strings.Split(folder, "/")
		for i := range parts {
			dir := strings.Join(parts[:i+1], "/") + "/"
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
				return err
			}
		}
		put := func(name string, data []byte) error {
			h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			_, err := tw.Write(data)
			return err
		}
		for i, b := range jpegs {
			if err := put(fmt.Sprintf("%s/%0*d.jpg", folder, digits, i), b); err != nil {
				return err
			}
		}
		for _, e := range extra {
			if err := put(e.name, e.data); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return zw.Close()
	})
}

// encodeAll encodes the images of s as JPEGs, on GOMAXPROCS goroutines. Values are rounded to 8
// bits after clipping to [0,1] (NaN gives 0).
func encodeAll(s *dataset.Set, quality int) ([][]byte, error) {
	out := make([][]byte, s.N)
	errs := make([]error, s.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), s.N/16)) {
		wg.Go(func() {
			var buf bytes.Buffer
			for {
				i := int(next.Add(1) - 1)
				if i >= s.N {
					return
				}
				buf.Reset()
				errs[i] = jpeg.Encode(&buf, toImage(s, i), &jpeg.Options{Quality: quality})
				out[i] = bytes.Clone(buf.Bytes())
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("encoding image %d: %w", i, err)
		}
	}
	return out, nil
}

// toImage returns image i of s as an image.Gray (1 channel) or image.RGBA (3 channels).
func toImage(s *dataset.Set, i int) image.Image {
	px := s.Image(i)
	plane := s.H * s.W
	rect := image.Rect(0, 0, s.W, s.H)
	if s.C == 1 {
		m := image.NewGray(rect)
		for k := range plane {
			m.Pix[k] = to8(px[k])
		}
		return m
	}
	m := image.NewRGBA(rect)
	for k := range plane {
		m.Pix[4*k] = to8(px[k])
		m.Pix[4*k+1] = to8(px[plane+k])
		m.Pix[4*k+2] = to8(px[2*plane+k])
		m.Pix[4*k+3] = 255
	}
	return m
}

// to8 maps v in [0,1] to 0…255, rounding; values outside are clipped and NaN gives 0.
func to8(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(math.Round(float64(v) * 255))
}
