package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/nbutil"
	"github.com/confcal/confcal/experiment"
	"github.com/confcal/confcal/report"
)

// extraPart is an experiment's own part beside the regimes' runs (MNIST's Figure 3(c)(d)): run after
// them (not in sweeps), and report re-renders it from its saved results.
type extraPart struct {
	name   string
	run    func(b backends.Backend, cfg experiment.Config, d *experiment.Data, dir string, log io.Writer) error
	report func(dir string) error
}

// runImages runs the experiment of an in-distribution data set (cifar10, svhn, mnist), and its extra
// part if any.
func runImages(spec experiment.Spec, args []string, extra *extraPart) error {
	fs := flag.NewFlagSet(spec.Name, flag.ContinueOnError)
	set := fs.String("set", "", `hyperparameters "name=value;..." (preset=quick|paper first); see experiment.Defaults`)
	out := fs.String("out", "", "output directory: runs/<key>/{checkpoint.bin,result.json}, report.md, figures/ (default: out_dir or ./out/"+spec.Name+"-<preset>[-standin])")
	sweep := fs.Bool("sweep", false, "run the App. B hyperparameter sweep (sweep_beta × sweep_batch × sweep_lr per regime) instead of one run per regime")
	shard := fs.String("shard", "0/1", "with -sweep: run only trials k with k mod n == i (i/n), for splitting a sweep over machines; "+
		"without it, a Slurm job array task (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job pod (JOB_COMPLETION_INDEX of JOB_COMPLETIONS) runs its own shard")
	skipExtra := new(bool)
	if extra != nil {
		skipExtra = fs.Bool("no-extra", false, "skip "+extra.name)
	}
	onlyReport := fs.Bool("report", false, "only (re)write report.md and the figures from the saved results (with -sweep: and fail when a trial of the sweep has no result)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg, err := spec.Config(*set)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = cfg.OutDir
	}
	if dir == "" {
		dir = nbutil.OutDir(spec.OutName(cfg))
	}
	shardSet := false
	fs.Visit(func(f *flag.Flag) { shardSet = shardSet || f.Name == "shard" })
	sh, shardFrom := experiment.Shard{I: 0, N: 1}, ""
	if *sweep && !*onlyReport {
		if sh, shardFrom, err = experiment.ResolveShard(*shard, shardSet, os.Getenv); err != nil {
			return err
		}
	} else if shardSet {
		if _, err := experiment.ParseShard(*shard); err != nil {
			return err
		}
	}
	if !*onlyReport {
		b, err := backend.New()
		if err != nil {
			return err
		}
		d, err := spec.LoadData(cfg, os.Stdout)
		if err != nil {
			return err
		}
		what := "real data"
		if d.StandIn {
			what = "GENERATED STAND-IN data in the real formats, not the real data sets"
		}
		fmt.Printf("%s: preset %s, backend %s, %s: %d training / %d test images, OOD sets %v, output %s\n",
			spec.Name, cfg.Preset, b.Name(), what, d.Train.N, d.Test.N, d.OODNames, dir)
		if *sweep {
			n := len(experiment.Grid(cfg))
			fmt.Printf("sweep: %d trials in all, shard %d/%d (%s)\n", n, sh.I, sh.N, shardFrom)
			var rs []*experiment.RunResult
			if rs, err = experiment.Sweep(b, cfg, d, dir, sh, os.Stdout); err == nil && sh.N > 1 {
				// One shard's report would show only its own trials: the report is written once,
				// after every shard (e.g. by a job that depends on the whole array).
				fmt.Printf("sweep shard %d/%d done: %d trial(s) in %s; when every shard is done, write the report with\n  confcal %s -sweep -report -out %s -set %q\n",
					sh.I, sh.N, len(rs), filepath.Join(dir, "runs"), spec.Name, dir, *set)
				return nil
			}
		} else {
			if _, err = experiment.Run(b, cfg, d, dir, os.Stdout); err == nil && extra != nil && !*skipExtra {
				err = extra.run(b, cfg, d, dir, os.Stdout)
			}
		}
		if err != nil {
			return err
		}
	}
	if *onlyReport && extra != nil {
		if err := extra.report(dir); err != nil {
			return err
		}
	}
	path, err := report.Write(dir)
	if err != nil {
		return err
	}
	md, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Println(string(md))
	fmt.Printf("wrote %s and %s\n", path, filepath.Join(dir, "figures"))
	if *sweep && *onlyReport {
		return sweepComplete(spec, cfg, dir)
	}
	return nil
}

// sweepComplete says how many trials of cfg's sweep have a result in dir and fails, listing them,
// when some have none (a shard failed or has not run).
func sweepComplete(spec experiment.Spec, cfg experiment.Config, dir string) error {
	rs, err := experiment.LoadResults(dir)
	if err != nil {
		return err
	}
	grid := experiment.Grid(cfg)
	missing := experiment.MissingTrials(cfg, rs, spec.Name)
	fmt.Printf("sweep: %d of %d trials have results in %s\n", len(grid)-len(missing), len(grid), filepath.Join(dir, "runs"))
	if len(missing) == 0 {
		return nil
	}
	var sb strings.Builder
	for k, tr := range missing {
		if k == 10 {
			fmt.Fprintf(&sb, "\n  ... and %d more", len(missing)-k)
			break
		}
		fmt.Fprintf(&sb, "\n  %s β=%g batch=%d lr=%g", tr.Regime, tr.Beta, tr.Batch, tr.LR)
	}
	return errors.Errorf("the sweep is incomplete: %d of %d trials have no result (rerun their shards; finished trials are skipped):%s", len(missing), len(grid), sb.String())
}
