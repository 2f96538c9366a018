// Package atomicfile writes files so that readers never see a half-written one: the data goes to a
// temporary file in the same directory, which is synced and then renamed over the destination, and
// the directory is synced so that the rename survives a crash.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// StaleAge is how long a temporary file of a write may go unmodified before a later write of the
// same destination takes it for the leftover of a killed process and removes it. A live writer
// keeps writing to its file; a variable so that tests can shorten it.
var StaleAge = time.Hour

// tempPrefix returns the prefix of the temporary files of writes to path.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// WriteFile writes data to path atomically, creating the parent directory if needed.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write calls fill with a writer to a temporary file beside path and, if fill and the write succeed,
// renames the temporary file to path and syncs the directory. On any error the temporary file is
// removed and path is left untouched. Temporary files of earlier writes of path that were left
// behind (a killed process) and have not been modified for StaleAge are removed first.
func Write(path string, perm os.FileMode, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating directory for %s: %w", path, err)
	}
	RemoveStale(path)
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("setting mode of %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp, path, err)
	}
	if err := syncDirFn(dir); err != nil {
		// The file is in place; only its durability across a crash is in doubt.
		return fmt.Errorf("syncing the directory of %s after renaming it: %w", path, err)
	}
	return nil
}

// syncDir fsyncs the directory dir, so that a rename in it is on disk. File systems that cannot
// sync a directory (EINVAL, e.g. some network file systems) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// syncDirFn is syncDir, replaceable in tests.
var syncDirFn = syncDir

// RemoveStale removes the temporary files that writes of path left behind (names
// ".<base>.tmp-*" beside it) and that have not been modified for StaleAge. Errors are ignored: a
// leftover that cannot be removed only takes space.
func RemoveStale(path string) {
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < StaleAge {
			continue
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
}
