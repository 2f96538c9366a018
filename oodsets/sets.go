package oodsets

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/confcal/confcal/dataset"
)

// Source describes one of the ODIN archives: the set's short name, its title, the folder its images
// are in (inside the archive, or extracted) and the file to download.
type Source struct {
	// Name is the set's short name, the Name of the sets Load returns: "tinyimagenet" or "lsun".
	Name string
	// Title is the set's name in reports, e.g. "TinyImageNet (resize)".
	Title string
	// Folder is the archive's top folder (and the folder `tar -xzf` makes), e.g. "Imagenet_resize".
	// The ODIN archives hold their images in Folder/Folder/.
	Folder string
	// Images is the number of images the published archive holds. Load reads no more than this
	// (100,000 when it is 0) and, unless Options.Subset is set or the files are a stand-in, requires
	// exactly this many.
	Images int
	// Remote is the archive: its file name, where to download it and its MD5.
	Remote dataset.Remote
}

// TinyImageNet is TinyImageNet (resize) of Liang et al.: the 10,000 test images of TinyImageNet
// (200 classes) downsampled to 32×32, as JPEGs in Imagenet_resize.tar.gz. The URLs are the Dropbox
// link of the ODIN repository's README (github.com/facebookresearch/odin), as a direct download.
var TinyImageNet = Source{
	Name:   "tinyimagenet",
	Title:  "TinyImageNet (resize)",
	Folder: "Imagenet_resize",
	Images: 10000,
	Remote: dataset.Remote{
		Name: "Imagenet_resize.tar.gz",
		URLs: []string{
			"https://www.dropbox.com/s/kp3my3412u5k9rl/Imagenet_resize.tar.gz?dl=1",
			"https://www.dropbox.com/s/raw/kp3my3412u5k9rl/Imagenet_resize.tar.gz",
		},
		MD5: "0f9ff11d45babf2eff5fe12281d1ac31",
	},
}

// LSUN is LSUN (resize) of Liang et al.: the 10,000 test images of LSUN (10 scene categories)
// downsampled to 32×32, as JPEGs in LSUN_resize.tar.gz. The URLs are the Dropbox link of the ODIN
// repository's README, as a direct download.
var LSUN = Source{
	Name:   "lsun",
	Title:  "LSUN (resize)",
	Folder: "LSUN_resize",
	Images: 10000,
	Remote: dataset.Remote{
		Name: "LSUN_resize.tar.gz",
		URLs: []string{
			"https://www.dropbox.com/s/moqh2wh8696c3yl/LSUN_resize.tar.gz?dl=1",
			"https://www.dropbox.com/s/raw/moqh2wh8696c3yl/LSUN_resize.tar.gz",
		},
		MD5: "278b7b31c8cb7e804a1465a8ce03a2dc",
	},
}

// Options says where Load looks for a set and how much of it to read.
type Options struct {
	// Dir is a directory of the user's holding the archive (e.g. Dir/Imagenet_resize.tar.gz) or the
	// folder extracted from it (Dir/Imagenet_resize/…), or the extracted folder itself; "" for none.
	// Files found there that are invalid are an error, not skipped.
	Dir string
	// CacheDir is where downloads go and are looked for; "" means dataset.CacheDir's default for the
	// set's Name ($CONFCAL_DATA/<name> or os.UserCacheDir()/confcal/<name>).
	CacheDir string
	// Download allows fetching the archive into CacheDir (MD5 checked).
	Download bool
	// Progress receives download progress lines; nil means os.Stderr.
	Progress io.Writer
	// N is the number of images to read, the first N by path; 0 means all.
	N int
	// Subset accepts an archive or folder of fewer images than the published one (a partial
	// folder, a deliberate subset). Without it an archive must be the published one (its MD5) or
	// hold Source.Images images, and a folder must hold Source.Images images. Stand-ins
	// (WriteStandIn) are recognised by their marker file and need no Subset.
	Subset bool
}

// maxImages is the most images Load reads of src.
func (src Source) maxImages() int {
	if src.Images > 0 {
		return src.Images
	}
	return defaultMaxImages
}

// checkCount checks what was read of src against the published set, unless subset or c is a
// stand-in: an archive must have the published MD5 or src.Images images (and then, being another
// file, it is refused for its MD5), a folder src.Images images.
func (src Source) checkCount(c *collection, subset bool) error {
	if subset || c.standIn || src.Images == 0 {
		return nil
	}
	want := strings.ToLower(src.Remote.MD5)
	if c.md5 != "" && c.md5 == want {
		return nil
	}
	if len(c.entries) != src.Images {
		return fmt.Errorf("%s holds %d images, %s has %d (set Options.Subset to load a deliberate subset)", c.origin, len(c.entries), src.Title, src.Images)
	}
	if c.md5 != "" && want != "" {
		return fmt.Errorf("%s: MD5 %s, want %s (that of the published %s); set Options.Subset to load an archive of your own", c.origin, c.md5, want, src.Remote.Name)
	}
	return nil
}

// check returns an error when src lacks what Load needs.
func (src Source) check() error {
	if src.Name == "" || src.Folder == "" || src.Remote.Name == "" {
		return fmt.Errorf("oodsets: incomplete Source %+v: Name, Folder and Remote.Name are needed", src)
	}
	if strings.ContainsAny(src.Folder, `/\`) || src.Folder == "." || src.Folder == ".." {
		return fmt.Errorf("oodsets: Source %q: Folder %q must be a single folder name", src.Name, src.Folder)
	}
	return nil
}

// Load returns the images of src as a set of N×3×32×32 float32 in [0,1], labels −1, ordered by the
// images' paths in the archive (deterministic), Name src.Name, Source the file read. Grey JPEGs are
// expanded to 3 channels; any image that is not 32×32 is an error naming it (the sets are
// pre-resized), and so are a corrupt or truncated JPEG, archive or gzip stream and an archive with
// no images. Files that are not images are skipped. A stand-in written by WriteStandIn is named
// src.Name + "-standin", with a Source that says so.
//
// Sources, in order: opt.Dir (the archive in it; else opt.Dir itself when its name is src.Folder,
// i.e. it is the extracted folder; else the extracted folder in it); the archive in opt.CacheDir; if opt.Download, the archive downloaded into
// opt.CacheDir (MD5 checked). When none works the error names every place tried, the expected
// path in the cache and the URLs.
func Load(src Source, opt Options) (*dataset.Set, error) {
	if err := src.check(); err != nil {
		return nil, err
	}
	if opt.N < 0 {
		return nil, fmt.Errorf("oodsets: Options.N is %d, want ≥ 0 (0 = all images)", opt.N)
	}
	var tried []string

	// 1. The user's directory.
	if opt.Dir != "" {
		set, found, err := loadFromDir(src, opt.Dir, opt.N, opt.Subset)
		if found {
			return set, err
		}
		tried = append(tried, err.Error())
	}

	// 2. The cache, or a download into it.
	cacheDir, err := dataset.CacheDir(opt.CacheDir, src.Name)
	if err != nil {
		tried = append(tried, "cache: "+err.Error())
	} else {
		r := src.Remote
		if opt.Subset {
			r.MD5, r.SHA256 = "", "" // a cached subset cannot have the published checksum
		}
		p, err := dataset.Fetch(cacheDir, r, opt.Download, opt.Progress)
		if err != nil {
			tried = append(tried, "cache: "+err.Error())
		} else {
			// Fetch checked the checksum (without Subset).
			set, err := loadArchiveFile(src, p, opt.N, true)
			if err != nil {
				return nil, fmt.Errorf("oodsets: %w (delete %s to download it again)", err, p)
			}
			return set, nil
		}
	}
	return nil, fmt.Errorf("oodsets: cannot load %s; tried:\n  %s", src.Title, strings.Join(tried, "\n  "))
}

// loadFromDir reads src from the user's directory dir: the archive, the extracted folder, or dir
// itself when it is the extracted folder. found is false (and err says what is missing) when dir
// holds none of them.
func loadFromDir(src Source, dir string, n int, subset bool) (set *dataset.Set, found bool, err error) {
	archive := filepath.Join(dir, src.Remote.Name)
	if st, err := os.Stat(archive); err == nil && st.Mode().IsRegular() {
		set, err := loadArchiveFile(src, archive, n, subset)
		return set, true, err
	}
	// dir is the extracted folder (the outer or, in the ODIN layout Folder/Folder, the inner one).
	clean := filepath.Clean(dir)
	if filepath.Base(clean) == src.Folder && isDir(clean) {
		set, err := loadFolder(src, clean, filepath.Dir(clean), n, subset)
		return set, true, err
	}
	if folder := filepath.Join(dir, src.Folder); isDir(folder) {
		set, err := loadFolder(src, folder, dir, n, subset)
		return set, true, err
	}
	if !isDir(dir) {
		return nil, false, fmt.Errorf("data directory %s does not exist", dir)
	}
	return nil, false, fmt.Errorf("data directory %s holds neither %s nor a folder %s", dir, src.Remote.Name, src.Folder)
}

// loadArchiveFile reads the archive at path; lenient skips the count and checksum checks (a
// subset, or a file whose checksum was checked already).
func loadArchiveFile(src Source, path string, n int, lenient bool) (*dataset.Set, error) {
	c, err := readArchiveFile(path, src.maxImages(), !lenient && src.Remote.MD5 != "")
	if err != nil {
		return nil, err
	}
	if err := src.checkCount(c, lenient); err != nil {
		return nil, err
	}
	return c.toSet(src, n)
}

// loadFolder reads the images below folder, named by their paths relative to base.
func loadFolder(src Source, folder, base string, n int, subset bool) (*dataset.Set, error) {
	c, err := readFolder(folder, base, src.maxImages())
	if err != nil {
		return nil, err
	}
	if err := src.checkCount(c, subset); err != nil {
		return nil, err
	}
	return c.toSet(src, n)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// GaussianNoise returns n images of 3×32×32 values drawn independently from N(0.5, 1) and clipped to
// [0,1] (the paper's synthetic Gaussian noise, App. B), labels −1, deterministic in seed; see
// dataset.GaussianNoise. It panics if n < 0.
func GaussianNoise(n int, seed uint64) *dataset.Set {
	s, err := dataset.GaussianNoise(n, 3, Size, Size, seed)
	if err != nil {
		panic("oodsets: " + err.Error())
	}
	return s
}
