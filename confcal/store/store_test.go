package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/store"
)

type result struct {
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

func (r *result) Validate() error {
	if r.Name == "" {
		return errors.New("no name")
	}
	return nil
}

func TestReadWriteUpdate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "r.json")
	if _, err := store.Read[result](p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want os.ErrNotExist", err)
	}
	if err := store.Update(p, func(r *result) { r.Name, r.Score = "a", 1 }); err != nil {
		t.Fatal(err)
	}
	if err := store.Update(p, func(r *result) { r.Score += 2 }); err != nil {
		t.Fatal(err)
	}
	r, err := store.Read[result](p)
	if err != nil || r.Name != "a" || r.Score != 3 {
		t.Fatalf("read back %+v, %v; want {a 3}", r, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("%d files beside the result, want none (no temp files left)", len(entries)-1)
	}
	for _, tc := range []struct{ name, content, want string }{
		{"not-json", "{oops", "not a results file"},
		{"other-json", `{"score": 1}`, "no name"},
		{"wrong-type", `{"name": 3}`, "not a results file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(dir, tc.name+".json")
			os.WriteFile(bad, []byte(tc.content), 0o644)
			_, err := store.Read[result](bad)
			if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want an error naming %s and saying %q", err, bad, tc.want)
			}
			before, _ := os.ReadFile(bad)
			if err := store.Update(bad, func(r *result) { r.Name = "x" }); err == nil {
				t.Error("Update over an unreadable file should fail")
			}
			if after, _ := os.ReadFile(bad); string(after) != string(before) {
				t.Error("Update changed a file it could not read")
			}
		})
	}
}
