// Package nbutil holds the few helpers the notebooks share: where an experiment writes its results
// and figures, and showing markdown and images inline when running under GoNB (and printing them
// when not, so the same code serves the command line).
package nbutil

import (
	"fmt"
	"os"
	"path/filepath"

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

// Markdown shows markdown inline in a notebook, or prints it.
func Markdown(md string) {
	if gonbui.IsNotebook {
		gonbui.DisplayMarkdown(md)
		gonbui.Sync()
		return
	}
	fmt.Println(md)
}

// PNG shows a PNG inline in a notebook and waits until the front end has it (without the wait an
// image displayed just before the program exits can be lost); outside a notebook it does nothing.
func PNG(png []byte) {
	if !gonbui.IsNotebook || len(png) == 0 {
		return
	}
	gonbui.DisplayPng(png)
	gonbui.Sync()
}
