package nbrun

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type wantProblem struct {
	cell int
	kind string
	text string // substring of Problem.Text
}

func checkProblems(t *testing.T, got []Problem, want []wantProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(got), len(want), got)
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Cell != w.cell || g.Kind != w.kind || !strings.Contains(g.Text, w.text) {
			t.Errorf("problem %d = %+v, want cell %d kind %q text containing %q", i, g, w.cell, w.kind, w.text)
		}
	}
}

func TestScan(t *testing.T) {
	for _, tc := range []struct {
		file                string
		cells, images, html int
		problems            []wantProblem
	}{
		{file: "scan_clean.ipynb", cells: 3, images: 1},
		{file: "scan_images.ipynb", cells: 4, images: 3, html: 2},
		{file: "scan_panic.ipynb", cells: 2, problems: []wantProblem{
			// Split over two stream outputs; ANSI removed; "exit status 2" not repeated.
			{1, KindPanic, "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t [[ Cell [1] Line 3 ]] /tmp/"},
		}},
		{file: "scan_exit.ipynb", cells: 4, problems: []wantProblem{
			{0, KindExitStatus, "exit status 1"},
			{2, KindExitStatus, "exit status 3"},
			{3, KindExitStatus, "signal: killed"},
			{4, KindExitStatus, "400 Bad Request\nexit status 1"},
		}},
		{file: "scan_error.ipynb", cells: 5, problems: []wantProblem{
			{0, KindErrorOutput, "ERROR: # gonb_c6509768\nCell[1]: Line 2"},
			{1, KindStderrError, `"%foo" unknown`},
			{2, KindStderrError, "fatal error: concurrent map writes"},
			{3, KindStderrError, "main.go:16] bad"},
			{4, KindStderrError, "GoNB Error:\nfailed to open pipe"},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cells, images, html, problems, err := Scan(readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if cells != tc.cells || images != tc.images || html != tc.html {
				t.Errorf("cells, images, html = %d, %d, %d; want %d, %d, %d",
					cells, images, html, tc.cells, tc.images, tc.html)
			}
			checkProblems(t, problems, tc.problems)
			for _, p := range problems {
				if strings.Contains(p.Text, "\x1b") {
					t.Errorf("problem text has ANSI escapes: %q", p.Text)
				}
			}
		})
	}
}

func TestScanInvalid(t *testing.T) {
	for _, data := range []string{"", "{", `{"nbformat": 3, "cells": []}`, `{"nbformat": 4, "cells": [{"cell_type": "code", "source": 7}]}`} {
		if _, _, _, _, err := Scan([]byte(data)); err == nil {
			t.Errorf("Scan(%q): no error", data)
		}
	}
}

func TestNbconvertProblem(t *testing.T) {
	input, err := parseNotebook(readTestdata(t, "exit.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	stderr := `[NbConvertApp] Converting notebook exit.ipynb to notebook
I1126 17:00:00.918244    7017 dispatcher.go:237] Shutting down
Traceback (most recent call last):
  File "/usr/bin/jupyter-nbconvert", line 33, in <module>
    sys.exit(load_entry_point('nbconvert==6.5.3', 'console_scripts', 'jupyter-nbconvert')())
nbclient.exceptions.CellExecutionError: An error occurred while executing the following cell:
------------------
%%
fmt.Println("exiting with 3")
os.Exit(3)
------------------

# gonb_9cd41ff2
Cell[1]: Line 2

cannot use "not an int" (untyped string constant) as int value in variable declaration

ERROR: # gonb_9cd41ff2
`
	p := nbconvertProblem(stderr, input)
	if p.Cell != 1 || p.Kind != KindNbconvert {
		t.Errorf("got %+v, want cell 1 kind nbconvert", p)
	}
	want := "nbclient.exceptions.CellExecutionError: An error occurred while executing the following cell:\n# gonb_9cd41ff2\nCell[1]: Line 2\n\ncannot use"
	if !strings.HasPrefix(p.Text, want) {
		t.Errorf("text:\n%s\nwant prefix:\n%s", p.Text, want)
	}

	p = nbconvertProblem("something odd\nhappened\n", input)
	if p.Cell != -1 || p.Text != "something odd\nhappened" {
		t.Errorf("got %+v", p)
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"A=1", "PATH=/bin", "B=2"}, []string{"PATH=/x:/bin", "C=3", "A=4", "C=5"})
	want := []string{"B=2", "PATH=/x:/bin", "C=5", "A=4"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// requireJupyter skips the test when the notebook tooling is not installed, except under CI,
// where a silent skip would hide that the notebook tests never ran.
func requireJupyter(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and notebooks cannot run: %v", err)
		}
		t.Skip(err)
	}
}

func runFixture(t *testing.T, name string, opt Options) (*Result, error) {
	t.Helper()
	requireJupyter(t)
	if opt.Timeout == 0 {
		opt.Timeout = 5 * time.Minute
	}
	if opt.OutputPath == "" {
		opt.OutputPath = filepath.Join(t.TempDir(), name)
	}
	start := time.Now()
	res, err := Run(context.Background(), filepath.Join("testdata", name), opt)
	t.Logf("%s: %.1fs", name, time.Since(start).Seconds())
	if err != nil {
		t.Logf("Run error:\n%v", err)
	}
	return res, err
}

func TestRunOK(t *testing.T) {
	res, err := runFixture(t, "ok.ipynb", Options{Env: []string{"NBRUN_FIXTURE_VAR=from-test"}})
	if err != nil {
		if res != nil {
			t.Logf("nbconvert output:\n%s", res.Stderr)
		}
		t.Fatal(err)
	}
	if res.Cells != 2 || res.Images < 1 || len(res.Problems) != 0 {
		t.Errorf("cells=%d images=%d problems=%v; want 2, >=1, none", res.Cells, res.Images, res.Problems)
	}
	data, err := os.ReadFile(res.ExecutedPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "NBRUN_FIXTURE_VAR=from-test") {
		t.Errorf("executed notebook %s does not show the variable passed in Options.Env", res.ExecutedPath)
	}
}

// runFailing runs a fixture that must fail and checks the error names want.
func runFailing(t *testing.T, name string, opt Options, want ...wantProblem) *Result {
	t.Helper()
	res, err := runFixture(t, name, opt)
	if err == nil {
		t.Fatalf("Run(%s) succeeded, want an error", name)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), "["+w.kind+"]") {
			t.Errorf("error does not mention kind %q:\n%v", w.kind, err)
		}
	}
	if res == nil {
		t.Fatalf("no Result with the error")
	}
	checkProblems(t, res.Problems, want)
	return res
}

func TestRunPanic(t *testing.T) {
	res := runFailing(t, "panic.ipynb", Options{}, wantProblem{0, KindPanic, "panic: boom from panic.ipynb"})
	if res.ExecutedPath == "" {
		t.Error("no executed notebook")
	}
}

func TestRunExit(t *testing.T) {
	runFailing(t, "exit.ipynb", Options{},
		wantProblem{0, KindExitStatus, "exit status 1"},
		wantProblem{1, KindExitStatus, "exit status 3"})
}

func TestRunCompileError(t *testing.T) {
	res := runFailing(t, "compile_error.ipynb", Options{},
		wantProblem{0, KindNbconvert, `cannot use "not an int" (untyped string constant) as int value`})
	if res.ExecutedPath != "" {
		t.Errorf("ExecutedPath = %q, want none (nbconvert writes none when a cell fails)", res.ExecutedPath)
	}
}

func TestRunTimeout(t *testing.T) {
	runFailing(t, "timeout.ipynb", Options{Timeout: 5 * time.Second},
		wantProblem{0, KindNbconvert, "CellTimeoutError"})
}

func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	requireJupyter(t)
	start := time.Now()
	res, err := Run(ctx, filepath.Join("testdata", "timeout.ipynb"), Options{Timeout: 10 * time.Minute})
	t.Logf("Run returned after %.1fs: %v", time.Since(start).Seconds(), err)
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("want a cancellation error, got %v", err)
	}
	if res == nil || len(res.Problems) == 0 || res.Problems[0].Kind != KindNbconvert {
		t.Errorf("want a problem of kind nbconvert first, got %+v", res)
	}
	if d := time.Since(start); d > 40*time.Second {
		t.Errorf("Run took %s after a cancel at 8s", d)
	}
}

// TestNoLeftovers runs last (tests run in source order): no process of this test binary's
// runs may be left (they carry NBRUN_RUN_ID=<our pid>.…).
func TestNoLeftovers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	prefix := []byte(fmt.Sprintf("NBRUN_RUN_ID=%d.", os.Getpid()))
	environs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, path := range environs {
		env, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, prefix) {
				cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(path), "cmdline"))
				t.Errorf("left over: %s: %s", path, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
			}
		}
	}
}

func TestRunMissingNotebook(t *testing.T) {
	requireJupyter(t)
	if _, err := Run(context.Background(), filepath.Join("testdata", "nonexistent.ipynb"), Options{}); err == nil {
		t.Error("no error for a missing notebook")
	}
}
