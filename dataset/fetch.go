package dataset

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/confcal/confcal/internal/atomicfile"
)

// Remote is a file that can be downloaded: its name in the cache, the URLs to try in order, its
// checksum (SHA-256 or, where the publisher only gives that, MD5; hex) and, when known, its size.
type Remote struct {
	// Name is the file's name in the cache directory: a plain file name, no path.
	Name string
	URLs []string
	// SHA256 or MD5 is the file's checksum (hex); a download or a cached file that does not match
	// is refused.
	SHA256 string
	MD5    string
	// Size is the file's size in bytes when known (0: unknown). A download announcing or delivering
	// more is abandoned; with Size 0, MaxDownloadBytes caps it.
	Size int64
}

// MaxDownloadBytes caps a download whose size is not known (Remote.Size 0), so that a server that
// sends an endless stream cannot fill the disk. A variable so that tests can lower it.
var MaxDownloadBytes int64 = 4 << 30

// CheckName returns an error unless name is a plain file name: not empty, ".", "..", and without
// a path separator, so that it cannot reach outside the directory it is joined to.
func CheckName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || filepath.Base(name) != name || filepath.IsAbs(name) {
		return fmt.Errorf("%q is not a plain file name (want a name without a path, e.g. data.tar.gz)", name)
	}
	return nil
}

// hasChecksum reports whether r has a checksum to check files against.
func (r Remote) hasChecksum() bool { return r.SHA256 != "" || r.MD5 != "" }

// limit returns the most bytes a download of r may deliver.
func (r Remote) limit() int64 {
	if r.Size > 0 {
		return r.Size
	}
	return MaxDownloadBytes
}

// EnvDataDir is the environment variable that, when set, is the root of the data cache (each data
// set in a folder of its own below it).
const EnvDataDir = "CONFCAL_DATA"

// CacheDir returns the cache directory of the data set named sub: dir itself when it is not empty,
// else $CONFCAL_DATA/sub, else os.UserCacheDir()/confcal/sub.
func CacheDir(dir, sub string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if root := os.Getenv(EnvDataDir); root != "" {
		return filepath.Join(root, sub), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for %s: %v (set $%s)", sub, err, EnvDataDir)
	}
	return filepath.Join(d, "confcal", sub), nil
}

// Download timeouts: connecting and waiting for the response headers must be quick (offline, a
// download fails within seconds); a transfer that makes no progress for StallTimeout is abandoned.
// Variables so that tests can shorten them.
var (
	ConnectTimeout = 5 * time.Second
	HeaderTimeout  = 10 * time.Second
	StallTimeout   = 30 * time.Second
)

// Fetch returns the path of r in cacheDir. A file already there is checked against r's checksum
// (and size) when r has one: a file that does not match is an error naming it and what was
// expected (it is not downloaded again: delete it for that). A missing file, if
// download is true, is downloaded from the first of r.URLs that delivers it with the right checksum
// (and no more than r.Size, or MaxDownloadBytes, bytes), reporting progress to progress (nil:
// os.Stderr), written atomically. The error when the file is absent and cannot be downloaded names
// the expected path and every URL tried. r.Name must be a plain file name (CheckName).
func Fetch(cacheDir string, r Remote, download bool, progress io.Writer) (string, error) {
	if err := CheckName(r.Name); err != nil {
		return "", fmt.Errorf("cannot fetch into %s: %w", cacheDir, err)
	}
	path := filepath.Join(cacheDir, r.Name)
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		if !r.hasChecksum() {
			return path, nil
		}
		if err := Verify(path, r); err != nil {
			return "", fmt.Errorf("the cached file is not the expected one: %v (delete it to fetch it again)", err)
		}
		return path, nil
	}
	if !download {
		return "", fmt.Errorf("%s is not at %s and downloading is off; download it from %s and put it there",
			r.Name, path, strings.Join(r.URLs, " or "))
	}
	if !r.hasChecksum() {
		return "", fmt.Errorf("no known checksum for %s", r.Name)
	}
	progress = orStderr(progress)
	client := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: ConnectTimeout}).DialContext,
		TLSHandshakeTimeout:   ConnectTimeout,
		ResponseHeaderTimeout: HeaderTimeout,
	}}
	defer client.CloseIdleConnections()
	var errs []string
	for _, url := range r.URLs {
		err := fetchURL(client, url, path, r, progress)
		if err == nil {
			return path, nil
		}
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in the message
		}
		errs = append(errs, fmt.Sprintf("%s: %v", url, err))
	}
	return "", fmt.Errorf("%s is not at %s and could not be downloaded (%s)", r.Name, path, strings.Join(errs, "; "))
}

// orStderr returns w, or os.Stderr when w is nil.
func orStderr(w io.Writer) io.Writer {
	if w == nil {
		return os.Stderr
	}
	return w
}

// newHash returns the hash to check r with and its expected hex digest.
func (r Remote) newHash() (hash.Hash, string, string) {
	if r.SHA256 != "" {
		return sha256.New(), strings.ToLower(r.SHA256), "SHA-256"
	}
	return md5.New(), strings.ToLower(r.MD5), "MD5"
}

// Verify checks the file at path against r's checksum and, when r.Size is known, its size. The
// error names the file and what was expected.
func Verify(path string, r Remote) error {
	if !r.hasChecksum() {
		return fmt.Errorf("%s: no known checksum for %s", path, r.Name)
	}
	h, want, algo := r.newHash()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if r.Size > 0 {
		if st, err := f.Stat(); err == nil && st.Size() != r.Size {
			return fmt.Errorf("%s: %d bytes, want %d (the size of %s)", path, st.Size(), r.Size, r.Name)
		}
	}
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: %s mismatch: got %s, want %s", path, algo, got, want)
	}
	return nil
}

// fetchURL downloads url to path (atomically), checking its checksum.
func fetchURL(client *http.Client, url, path string, r Remote, progress io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}

	// Watchdog: cancel the request when no bytes arrive for StallTimeout.
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	stalled := make(chan struct{})
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(StallTimeout / 10)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if time.Since(time.Unix(0, last.Load())) > StallTimeout {
					close(stalled)
					cancel()
					return
				}
			}
		}
	}()

	limit := r.limit()
	if resp.ContentLength > limit {
		return fmt.Errorf("the server announces %d bytes, want at most %d", resp.ContentLength, limit)
	}
	base := filepath.Base(path)
	fmt.Fprintf(progress, "downloading %s", url)
	if resp.ContentLength > 0 {
		fmt.Fprintf(progress, " (%.1f MB)", float64(resp.ContentLength)/1e6)
	}
	fmt.Fprintln(progress)
	h, want, algo := r.newHash()
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		buf := make([]byte, 1<<16)
		var got int64
		lastReport := time.Now()
		for {
			k, rerr := resp.Body.Read(buf)
			if k > 0 {
				last.Store(time.Now().UnixNano())
				got += int64(k)
				if got > limit {
					return fmt.Errorf("more than %d bytes (the most %s may have); abandoned", limit, r.Name)
				}
				h.Write(buf[:k])
				if _, err := w.Write(buf[:k]); err != nil {
					return err
				}
				if time.Since(lastReport) >= time.Second {
					lastReport = time.Now()
					if resp.ContentLength > 0 {
						fmt.Fprintf(progress, "  %s %3.0f%% (%.1f of %.1f MB)\n", base,
							100*float64(got)/float64(resp.ContentLength), float64(got)/1e6, float64(resp.ContentLength)/1e6)
					} else {
						fmt.Fprintf(progress, "  %s %.1f MB\n", base, float64(got)/1e6)
					}
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				select {
				case <-stalled:
					return fmt.Errorf("no data for %v after %d bytes", StallTimeout, got)
				default:
					return rerr
				}
			}
		}
		if resp.ContentLength > 0 && got != resp.ContentLength {
			return fmt.Errorf("got %d bytes, the server announced %d", got, resp.ContentLength)
		}
		if sum := hex.EncodeToString(h.Sum(nil)); sum != want {
			return fmt.Errorf("%s mismatch: got %s, want %s", algo, sum, want)
		}
		fmt.Fprintf(progress, "  %s done (%.1f MB, %s ok)\n", base, float64(got)/1e6, algo)
		return nil
	})
}
