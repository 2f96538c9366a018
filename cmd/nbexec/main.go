// Command nbexec executes notebooks headlessly with the GoNB kernel, as the tests do, and fails
// (exit status 1) on any error output — a compile error, a panic, a cell that exits non-zero —
// which `jupyter nbconvert --execute` alone lets pass.
//
//	nbexec [-out dir] [-timeout 30m] notebooks/toy2d.ipynb ...
//
// Each notebook's cells see CONFCAL_OUT=<out>/<name> (where the experiment writes results.json and
// its figures); the executed notebook, with its outputs, is written beside them as
// <out>/<name>/<name>.executed.ipynb. Requires scripts/setup.sh (Jupyter, GoNB).
//
//	nbexec -metadata notebooks/*.ipynb
//
// writes instead, without executing anything, the metadata the kernel gives a notebook (kernelspec,
// language_info: what Jupyter stores when it opens it) into each notebook, leaving the rest of the
// file as it was. Notebooks that store other metadata are marked modified as soon as Jupyter opens
// them; TestNotebookMetadata (notebooks/) checks the tracked ones.
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
	metadata := flag.Bool("metadata", false, "write the kernel's metadata (kernelspec, language_info) into the notebooks instead of executing them")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: nbexec [-out dir] [-timeout 30m] notebook.ipynb ...\n       nbexec -metadata notebook.ipynb ...")
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
	if *metadata {
		if err := writeMetadata(ctx, flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "nbexec:", err)
			os.Exit(1)
		}
		return
	}
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

// writeMetadata writes the kernel's metadata into each notebook whose metadata differs.
func writeMetadata(ctx context.Context, notebooks []string) error {
	md, err := nbrun.KernelMetadata(ctx)
	if err != nil {
		return err
	}
	for _, nb := range notebooks {
		data, err := os.ReadFile(nb)
		if err != nil {
			return err
		}
		out, changed, err := nbrun.SetMetadata(data, md)
		if err != nil {
			return fmt.Errorf("%s: %w", nb, err)
		}
		if !changed {
			fmt.Printf("%s: metadata already the kernel's\n", nb)
			continue
		}
		st, err := os.Stat(nb)
		if err != nil {
			return err
		}
		if err := os.WriteFile(nb, out, st.Mode().Perm()); err != nil {
			return err
		}
		fmt.Printf("%s: wrote the kernel's metadata\n", nb)
	}
	return nil
}
