package mnist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/confcal/confcal/internal/atomicfile"
)

// mirrors are the canonical MNIST mirrors, tried in order (replaceable in tests). yann.lecun.com is
// the original site; the others are the copies torchvision and TensorFlow use.
var mirrors = []string{
	"https://ossci-datasets.s3.amazonaws.com/mnist/",
	"https://storage.googleapis.com/cvdf-datasets/mnist/",
	"http://yann.lecun.com/exdb/mnist/",
}

// sha256s are the SHA-256 digests of the four canonical .gz files (the GoMNIST module's copies are
// byte-identical); replaceable in tests.
var sha256s = map[string]string{
	"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
	"train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
	"t10k-images-idx3-ubyte.gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
	"t10k-labels-idx1-ubyte.gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

// Download timeouts: connecting and waiting for the response headers must be quick (offline, the
// download fails within seconds and Load goes on); a transfer that makes no progress for stallTimeout
// is abandoned.
var (
	connectTimeout = 5 * time.Second
	headerTimeout  = 10 * time.Second
	stallTimeout   = 30 * time.Second
)

// downloadFile fetches name into cacheDir from the first mirror that delivers it with the right
// SHA-256, reporting progress, and returns its path. A file already in cacheDir is kept as it is.
func downloadFile(cacheDir, name string, progress io.Writer) (string, error) {
	path := filepath.Join(cacheDir, name)
	if fileExists(path) {
		return path, nil
	}
	want, ok := sha256s[name]
	if !ok {
		return "", fmt.Errorf("no known SHA-256 for %s", name)
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: connectTimeout}).DialContext,
		TLSHandshakeTimeout:   connectTimeout,
		ResponseHeaderTimeout: headerTimeout,
	}}
	defer client.CloseIdleConnections()
	var errs []string
	for _, m := range mirrors {
		url := m + name
		err := fetch(client, url, path, want, progress)
		if err == nil {
			return path, nil
		}
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in the message
		}
		errs = append(errs, fmt.Sprintf("%s: %v", url, err))
	}
	return "", errors.New(strings.Join(errs, "; "))
}

// fetch downloads url to path (atomically), checking its SHA-256 against want.
func fetch(client *http.Client, url, path, want string, progress io.Writer) error {
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

	// Watchdog: cancel the request when no bytes arrive for stallTimeout.
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	stalled := make(chan struct{})
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(stallTimeout / 10)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if time.Since(time.Unix(0, last.Load())) > stallTimeout {
					close(stalled)
					cancel()
					return
				}
			}
		}
	}()

	fmt.Fprintf(progress, "mnist: downloading %s", url)
	if resp.ContentLength > 0 {
		fmt.Fprintf(progress, " (%.1f MB)", float64(resp.ContentLength)/1e6)
	}
	fmt.Fprintln(progress)
	h := sha256.New()
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		buf := make([]byte, 1<<16)
		var got int64
		lastReport := time.Now()
		for {
			k, rerr := resp.Body.Read(buf)
			if k > 0 {
				last.Store(time.Now().UnixNano())
				got += int64(k)
				h.Write(buf[:k])
				if _, err := w.Write(buf[:k]); err != nil {
					return err
				}
				if time.Since(lastReport) >= time.Second {
					lastReport = time.Now()
					if resp.ContentLength > 0 {
						fmt.Fprintf(progress, "mnist:   %s %3.0f%% (%.1f of %.1f MB)\n", filepath.Base(path),
							100*float64(got)/float64(resp.ContentLength), float64(got)/1e6, float64(resp.ContentLength)/1e6)
					} else {
						fmt.Fprintf(progress, "mnist:   %s %.1f MB\n", filepath.Base(path), float64(got)/1e6)
					}
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				select {
				case <-stalled:
					return fmt.Errorf("no data for %v after %d bytes", stallTimeout, got)
				default:
					return rerr
				}
			}
		}
		if resp.ContentLength > 0 && got != resp.ContentLength {
			return fmt.Errorf("got %d bytes, the server announced %d", got, resp.ContentLength)
		}
		if sum := hex.EncodeToString(h.Sum(nil)); sum != want {
			return fmt.Errorf("SHA-256 mismatch: got %s, want %s", sum, want)
		}
		fmt.Fprintf(progress, "mnist:   %s done (%.1f MB, SHA-256 ok)\n", filepath.Base(path), float64(got)/1e6)
		return nil
	})
	return err
}
