// Command nbexec executes notebooks headlessly with the GoNB kernel, as the tests do, and fails
// (exit status 1) on any error output — a compile error, a panic, a cell that exits non-zero —
// which `jupyter nbconvert --execute` alone lets pass.
//
//	nbexec [-out dir] [-timeout 30m] notebooks/toy2d.ipynb ...
//
// Each notebook's cells see CONFCAL_OUT=<out>/<name> (where the experiment writes results.json and
// its figures); the executed notebook, with its outputs, is written beside them as
// <out>/<name>/<name>.executed.ipynb. Requires scripts/setup.sh (Jupyter, GoNB).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/confcal/confcal/confcal/nbutil"
	"github.com/confcal/confcal/internal/nbrun"
)

func main() {
	out := flag.String("out", "out", "output directory: each notebook writes into <out>/<notebook name>")
	timeout := flag.Duration("timeout", 30*time.Minute, "limit for each cell")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: nbexec [-out dir] [-timeout 30m] notebook.ipynb ...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := nbrun.Available(); err != nil {
		fmt.Fprintln(os.Stderr, "nbexec:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	failed := false
	for _, nb := range flag.Args() {
		if err := execOne(ctx, nb, *out, *timeout); err != nil {
			fmt.Fprintf(os.Stderr, "nbexec: %s: %v\n", nb, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func execOne(ctx context.Context, nb, out string, timeout time.Duration) error {
	if _, err := os.Stat(nb); err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(nb), ".ipynb")
	dir, err := filepath.Abs(filepath.Join(out, name))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	executed := filepath.Join(dir, name+".executed.ipynb")
	fmt.Printf("executing %s (outputs in %s) ...\n", nb, dir)
	start := time.Now()
	res, err := nbrun.Run(ctx, nb, nbrun.Options{
		Timeout:    timeout,
		Env:        []string{nbutil.OutEnv + "=" + dir},
		OutputPath: executed,
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d code cells, %d images, in %s; executed notebook %s\n", nb, res.Cells, res.Images,
		time.Since(start).Round(time.Second), executed)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() && !strings.HasSuffix(e.Name(), ".ipynb") {
			fmt.Printf("  %s\n", filepath.Join(dir, e.Name()))
		}
	}
	return nil
}
