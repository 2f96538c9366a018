// Package memtest runs hostile-input test cases in a child process under a hard address-space limit,
// so that a reader that allocates what a header or an archive claims fails its test (the child dies
// with "out of memory") instead of exhausting the machine.
//
// The limit is RLIMIT_AS, set by the child itself with setrlimit(2) at the start of its test: the
// address space it already has (VmSize, mostly the Go runtime's reservations) plus the test's
// budget. RLIMIT_AS is enforced by the kernel on every mmap, so an allocation beyond it fails at
// once and the Go runtime aborts with "fatal error: out of memory". debug.SetMemoryLimit is only a
// target for the garbage collector (an allocation beyond it still succeeds), and RLIMIT_RSS is not
// enforced by Linux, so neither would stop a bomb. The parent reports the child's peak resident
// memory (getrusage's ru_maxrss).
package memtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const (
	envCase  = "CONFCAL_MEMTEST_CASE"
	envLimit = "CONFCAL_MEMTEST_BUDGET_MB"
)

// Child is called first thing by a child test. In the parent process (no case set) it skips the
// test. In the child it sets the address-space limit and returns the name of the case to run.
func Child(t *testing.T) string {
	c := os.Getenv(envCase)
	if c == "" {
		t.Skip("child process of a memory-bound test (run by memtest.Run)")
	}
	mb, err := strconv.Atoi(os.Getenv(envLimit))
	if err != nil || mb <= 0 {
		t.Fatalf("memtest: bad %s=%q", envLimit, os.Getenv(envLimit))
	}
	if runtime.GOOS != "linux" {
		t.Skip("memtest: the address-space limit needs Linux")
	}
	vm, err := vmSize()
	if err != nil {
		t.Fatal(err)
	}
	lim := uint64(vm) + uint64(mb)<<20
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim}); err != nil {
		t.Fatalf("memtest: setrlimit(RLIMIT_AS, %d): %v", lim, err)
	}
	return c
}

// vmSize returns the process's address-space size in bytes (VmSize of /proc/self/status).
func vmSize() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("memtest: no VmSize in /proc/self/status")
}

// Run runs the test childTest of the current test binary in a child process for case c, with an
// address-space budget of budgetMB megabytes on top of what the child has when it starts. It fails t
// when the child fails (a failed check, or the runtime's abort when the budget is exceeded), and
// returns the child's peak resident memory in bytes.
func Run(t *testing.T, childTest, c string, budgetMB int) int64 {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("memtest: the address-space limit needs Linux")
	}
	peak, out, err := run(childTest, c, budgetMB)
	if err != nil {
		tail := string(out)
		if len(tail) > 4000 {
			tail = "…" + tail[len(tail)-4000:]
		}
		t.Fatalf("case %s in a child limited to %d MB more address space: %v (peak resident %.1f MB)\n%s",
			c, budgetMB, err, float64(peak)/(1<<20), tail)
	}
	return peak
}

// RunCases runs each case of cases (by name, in sorted order) as a subtest of t through Run, and logs
// each child's peak resident memory.
func RunCases[V any](t *testing.T, childTest string, cases map[string]V, budgetMB int) {
	t.Helper()
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			peak := Run(t, childTest, name, budgetMB)
			t.Logf("%s: peak resident memory %.1f MB", name, float64(peak)/(1<<20))
		})
	}
}

// run runs the child and returns its peak resident memory, its output and why it failed.
func run(childTest, c string, budgetMB int) (peak int64, out []byte, err error) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+childTest+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envCase+"="+c, envLimit+"="+strconv.Itoa(budgetMB))
	out, err = cmd.CombinedOutput()
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			peak = ru.Maxrss << 10 // kilobytes on Linux
		}
	}
	if err == nil && !strings.Contains(string(out), "--- PASS: "+childTest) {
		err = fmt.Errorf("the child did not run %s", childTest)
	}
	return peak, out, err
}
