// Package store is the one way results are read and written: a run's JSON file (toy2d's
// results.json, a CIFAR-10/SVHN/MNIST run's result.json, Figure 3(c)(d)'s figure3cd.json), written
// atomically (a temp file, then a rename: a kill never leaves half a file) and read back with errors
// that name the file.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/confcal/confcal/internal/atomicfile"
)

// Validator is implemented by results that can check what was read (e.g. that a file is not some
// other JSON).
type Validator interface {
	Validate() error
}

// Read reads the JSON file at path into a new T. A missing file is an error wrapping
// os.ErrNotExist; a file that is not JSON of T, or that fails T's Validate, an error naming it.
func Read[T any](path string) (*T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%s: not a results file of this kind (%v)", path, err)
	}
	if c, ok := any(v).(Validator); ok {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	return v, nil
}

// Write writes v as indented JSON to path, atomically, creating path's directory.
func Write(path string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o644)
}

// Update reads path (a zero T when there is no file), lets change modify it and writes it back
// atomically: each notebook cell or command adds its own part of a run's results. A file that exists
// but cannot be read is an error, and is left as it is.
func Update[T any](path string, change func(*T)) error {
	v, err := Read[T](path)
	if errors.Is(err, os.ErrNotExist) {
		v, err = new(T), nil
	}
	if err != nil {
		return err
	}
	change(v)
	return Write(path, v)
}
