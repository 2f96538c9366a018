package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestGPUBenchJSONIsReplacedAtomically: the report is written to a new file that replaces the old
// one by a rename, not rewritten in place; a reader holding the old file (here a hard link to it)
// still sees the old report whole.
func TestGPUBenchJSONIsReplacedAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "gpubench.json")
	if err := writeGPUBenchJSON(path, gpuBenchReport{}); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	held := filepath.Join(dir, "held.json")
	if err := os.Link(path, held); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if err := writeGPUBenchJSON(path, gpuBenchReport{Command: "second"}); err != nil {
		t.Fatal(err)
	}
	var got gpuBenchReport
	if b, err := os.ReadFile(path); err != nil || json.Unmarshal(b, &got) != nil || got.Command != "second" {
		t.Fatalf("new report: %s, %v", b, err)
	}
	if b, _ := os.ReadFile(held); string(b) != string(old) {
		t.Errorf("the old file was rewritten in place: it now holds %s", b)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("files beside the report: %v", entries)
	}
}
