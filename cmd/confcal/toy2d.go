package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/nbutil"
	"github.com/confcal/confcal/confcal/params"
	"github.com/confcal/confcal/internal/atomicfile"
	"github.com/confcal/confcal/toy2d"
)

func runToy2D(args []string) error {
	fs := flag.NewFlagSet("toy2d", flag.ContinueOnError)
	set := fs.String("set", "", `hyperparameters "name=value;..." (preset=paper|quick first; default paper); see toy2d.NewContext`)
	out := fs.String("out", nbutil.OutDir("toy2d"), "directory for results.json and the figures")
	figs := fs.String("figs", "1,3", "which figures to run: 1, 3 or 1,3")
	report := fs.Bool("report", false, "train nothing: re-render the figures and print the tables from <out>/results.json")
	seeds := fs.Int("seeds", 0, "run the figures for N seeds (seed, seed+1, ...; seed set by -set, default 42) into <out>/seed-<s>/, "+
		"reusing finished seeds, and print the per-seed table (also written to <out>/seeds.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.Errorf("unexpected arguments %q", fs.Args())
	}
	if *seeds < 0 {
		return errors.Errorf("-seeds must be >= 1, got %d", *seeds)
	}
	if *report && *seeds > 0 {
		return errors.New("-report and -seeds do not go together: -seeds already reuses finished seeds")
	}
	if *report {
		res, err := toy2d.Load(*out)
		if err != nil {
			return err
		}
		files, err := toy2d.WriteFigures(res, *out)
		if err != nil {
			return err
		}
		fmt.Println(toy2d.Summary(res))
		fmt.Printf("wrote %s\n", strings.Join(files, " "))
		return nil
	}
	run1, run3 := false, false
	for _, f := range splitList(*figs) {
		switch f {
		case "1":
			run1 = true
		case "3":
			run3 = true
		default:
			return errors.Errorf("-figs: unknown figure %q (want 1, 3 or 1,3)", f)
		}
	}
	ctx, err := toy2d.NewContext(toy2d.DefaultPreset)
	if err != nil {
		return err
	}
	if err := params.Apply(ctx, *set, toy2d.Presets); err != nil {
		return err
	}
	cfg, err := toy2d.ConfigFromContext(ctx)
	if err != nil {
		return err
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Printf("toy2d: preset %s, backend %s, output %s\n", cfg.Preset, b.Name(), *out)
	if *seeds > 0 {
		list := make([]int, *seeds)
		for i := range list {
			list[i] = cfg.Seed + i
		}
		runs, err := toy2d.RunSeeds(b, cfg, list, run1, run3, *out, os.Stdout)
		if err != nil {
			return err
		}
		table := toy2d.SeedTable(runs)
		path := filepath.Join(*out, "seeds.md")
		if err := atomicfile.WriteFile(path, []byte(table), 0o644); err != nil {
			return err
		}
		fmt.Printf("\n%s\nwrote %s\n", table, path)
		return nil
	}
	res := &toy2d.Results{}
	if run1 {
		if res.Fig1, err = toy2d.RunFig1(b, cfg, os.Stdout); err != nil {
			return err
		}
	}
	if run3 {
		if res.Fig3, err = toy2d.RunFig3(b, cfg, os.Stdout); err != nil {
			return err
		}
	}
	path, err := toy2d.Update(*out, func(r *toy2d.Results) {
		if res.Fig1 != nil {
			r.Fig1 = res.Fig1
		}
		if res.Fig3 != nil {
			r.Fig3 = res.Fig3
		}
	})
	if err != nil {
		return err
	}
	files, err := toy2d.WriteFigures(res, *out)
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println(toy2d.Summary(res))
	fmt.Printf("wrote %s %s\n", path, strings.Join(files, " "))
	return nil
}

// splitList splits a comma-separated flag value, trimming spaces and dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
