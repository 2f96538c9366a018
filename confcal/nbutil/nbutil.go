// Package nbutil holds the few helpers the notebooks share: where an experiment writes its results
// and figures, and showing markdown and images inline when running under GoNB (and printing them
// when not, so the same code serves the command line).
package nbutil

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
)

// OutEnv names the environment variable that overrides the output directory of every experiment.
const OutEnv = "CONFCAL_OUT"

// OutDir returns the directory where an experiment writes its results and figures: $CONFCAL_OUT if
// set; else, inside a notebook, out/<experiment> at the repository root (the notebooks live in
// notebooks/); else out/<experiment> under the working directory.
func OutDir(experiment string) string {
	if d := os.Getenv(OutEnv); d != "" {
		return d
	}
	if d := os.Getenv("GONB_DIR"); d != "" {
		return filepath.Join(d, "..", "out", experiment)
	}
	return filepath.Join("out", experiment)
}

// Markdown shows markdown inline in a notebook, after everything printed before it, or prints it.
func Markdown(md string) {
	if gonbui.IsNotebook {
		flushStdout()
		gonbui.DisplayMarkdown(md)
		gonbui.Sync()
		return
	}
	fmt.Println(md)
}

// PNG shows a PNG inline in a notebook, after everything printed before it, and waits until the
// front end has it (without the wait an image displayed just before the program exits can be lost);
// outside a notebook it does nothing.
func PNG(png []byte) {
	if !gonbui.IsNotebook || len(png) == 0 {
		return
	}
	flushStdout()
	gonbui.DisplayPng(png)
	gonbui.Sync()
}

// flushStdout makes what the cell printed so far come out before the display that follows.
//
// GoNB (v0.11.1, internal/jpyexec) reads a cell program's stdout and its display data from two
// different pipes, in two goroutines that each publish to Jupyter as they read; nothing orders one
// against the other, and a display sent right after a Printf regularly overtook it (the cell's
// first line landed below its figure). os.Stdout is unbuffered, so there is nothing to flush on
// our side (Sync only matters when stdout is a file). Instead this waits until GoNB has read the
// whole pipe (on Linux: FIONREAD, at most drainWait), then gives its reader a moment to publish
// what it read, which it does without blocking. GoNB acknowledges nothing on stdout, so this is the
// closest to a guarantee a program can get; TestOutputOrder checks it on many lines and displays.
func flushStdout() {
	_ = os.Stdout.Sync()
	deadline := time.Now().Add(drainWait)
	for {
		n, ok := stdoutPending()
		if !ok || n == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(publishGrace)
}

// publishGrace is the pause between GoNB's reading of stdout and the next display.
const publishGrace = 5 * time.Millisecond
