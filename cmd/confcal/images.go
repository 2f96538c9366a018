package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/nbutil"
	"github.com/confcal/confcal/experiment"
	"github.com/confcal/confcal/report"
)

// runImages runs the Section 3 experiment of an in-distribution data set (cifar10 or svhn).
func runImages(spec experiment.Spec, args []string) error {
	fs := flag.NewFlagSet(spec.Name, flag.ContinueOnError)
	set := fs.String("set", "", `hyperparameters "name=value;..." (preset=quick|paper first); see experiment.Defaults`)
	out := fs.String("out", "", "output directory: runs/<key>/{checkpoint.bin,result.json}, report.md, figures/ (default: out_dir or ./out/"+spec.Name+"-<preset>[-standin])")
	sweep := fs.Bool("sweep", false, "run the App. B hyperparameter sweep (sweep_beta × sweep_batch × sweep_lr per regime) instead of one run per regime")
	shard := fs.String("shard", "0/1", "with -sweep: run only trials k with k mod n == i (i/n), for splitting a sweep over machines")
	onlyReport := fs.Bool("report", false, "only (re)write report.md and the figures from the saved results")
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
	if !*onlyReport {
		sh, err := experiment.ParseShard(*shard)
		if err != nil {
			return err
		}
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
			fmt.Printf("sweep: %d trials in all, shard %d/%d\n", n, sh.I, sh.N)
			_, err = experiment.Sweep(b, cfg, d, dir, sh, os.Stdout)
		} else {
			_, err = experiment.Run(b, cfg, d, dir, os.Stdout)
		}
		if err != nil {
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
	return nil
}
