package notebooks_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/confcal/confcal/internal/nbrun"
)

// TestNotebookMetadata checks that every notebook stores exactly the metadata the installed GoNB
// kernel reports (kernelspec, language_info with the Go release that built gonb): Jupyter compares
// the two when it opens a notebook and, on any difference, marks it modified, and autosave rewrites
// the tracked file although nobody changed it. scripts/setup.sh builds gonb with the Go release the
// notebooks name, so that the kernel reports it on every machine set up that way.
//
// Fix: go run ./cmd/nbexec -metadata notebooks/*.ipynb (and commit the notebooks).
func TestNotebookMetadata(t *testing.T) {
	notebooks := trackedNotebooks(t)
	if err := nbrun.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and the GoNB kernel cannot run: %v", err)
		}
		t.Skip(err)
	}
	md, err := nbrun.KernelMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, nb := range notebooks {
		data, err := os.ReadFile(nb)
		if err != nil {
			t.Fatal(err)
		}
		diffs, err := nbrun.MetadataDiff(data, md)
		if err != nil {
			t.Errorf("%s: %v", nb, err)
			continue
		}
		if len(diffs) > 0 {
			t.Errorf("%s does not store the kernel's metadata, so Jupyter marks it modified on opening:\n  %s\n"+
				"fix: go run ./cmd/nbexec -metadata notebooks/*.ipynb (or build gonb with the Go release the notebooks name: scripts/setup.sh)",
				nb, strings.Join(diffs, "\n  "))
		}
	}
}
