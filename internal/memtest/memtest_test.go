package memtest

import (
	"runtime"
	"strings"
	"testing"
)

var sink []byte

// TestChild allocates and touches as many megabytes as its case says.
func TestChild(t *testing.T) {
	c := Child(t)
	mb := map[string]int{"small": 40, "large": 400}[c]
	sink = make([]byte, mb<<20)
	for i := 0; i < len(sink); i += 4096 {
		sink[i] = 1
	}
	runtime.KeepAlive(sink)
}

// TestLimitIsHard checks that the child is stopped when it goes over its budget and not before,
// and that the peak resident memory is measured.
func TestLimitIsHard(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux")
	}
	peak, out, err := run("TestChild", "small", 200)
	if err != nil {
		t.Fatalf("40 MB within a 200 MB budget: %v\n%s", err, out)
	}
	if peak < 40<<20 || peak > 200<<20 {
		t.Errorf("peak resident memory %d bytes, want 40–200 MB", peak)
	}
	_, out, err = run("TestChild", "large", 200)
	if err == nil {
		t.Fatalf("400 MB within a 200 MB budget succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "out of memory") {
		t.Errorf("the child failed without the runtime's out-of-memory abort:\n%s", out)
	}
}
