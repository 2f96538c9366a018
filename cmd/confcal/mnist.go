package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/nbutil"
	"github.com/confcal/confcal/confcal/params"
	"github.com/confcal/confcal/confcal/plots"
	"github.com/confcal/confcal/mnist"
)

func runMNIST(args []string) error {
	fs := flag.NewFlagSet("mnist", flag.ContinueOnError)
	set := fs.String("set", "", `hyperparameters "name=value;..." (preset=quick|paper first); see mnist.NewContext`)
	out := fs.String("out", nbutil.OutDir("mnist"), "directory for results.json and the figures")
	parts := fs.String("run", "gan,benchmark", "what to run: gan (Figure 3(c)(d)), benchmark (the OOD table), or both")
	report := fs.Bool("report", false, "train nothing: re-render Figure 3(c)(d) and print the tables from <out>/results.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.Errorf("unexpected arguments %q", fs.Args())
	}
	if *report {
		return reportMNIST(*out)
	}
	runGAN, runBench := false, false
	for _, p := range splitList(*parts) {
		switch p {
		case "gan":
			runGAN = true
		case "benchmark":
			runBench = true
		default:
			return errors.Errorf("-run: unknown part %q (want gan, benchmark)", p)
		}
	}
	ctx, err := mnist.NewContext("quick")
	if err != nil {
		return err
	}
	if err := params.Apply(ctx, *set, mnist.Presets); err != nil {
		return err
	}
	cfg, err := mnist.ConfigFromContext(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	b, err := backend.New()
	if err != nil {
		return err
	}
	d, err := mnist.LoadData(cfg)
	if err != nil {
		return err
	}
	fmt.Printf("mnist: preset %s, backend %s, %d training / %d test images, output %s\n", cfg.Preset, b.Name(), d.Train.N, d.Test.N, *out)
	res := &mnist.Results{Config: cfg, Backend: b.Name(), TrainN: d.Train.N, TestN: d.Test.N}
	if runGAN {
		if res.GAN, err = mnist.RunGANs(b, cfg, d, os.Stdout); err != nil {
			return err
		}
		png, err := mnist.GANFigure(res.GAN)
		if err != nil {
			return err
		}
		if err := plots.SavePNG(filepath.Join(*out, mnist.GANFile), png); err != nil {
			return err
		}
		fmt.Println(mnist.GANSummary(res.GAN))
	}
	if runBench {
		if res.Benchmark, err = mnist.RunBenchmark(b, cfg, d, os.Stdout); err != nil {
			return err
		}
		fmt.Println(mnist.Table(res))
	}
	path, err := mnist.Update(*out, func(r *mnist.Results) {
		gan, bench := r.GAN, r.Benchmark
		*r = *res
		if res.GAN == nil {
			r.GAN = gan
		}
		if res.Benchmark == nil {
			r.Benchmark = bench
		}
	})
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", path)
	fmt.Printf("mnist: done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// reportMNIST prints the tables of a finished run and re-renders its figure.
func reportMNIST(out string) error {
	res, err := mnist.LoadResults(out)
	if err != nil {
		return err
	}
	if res.GAN != nil {
		png, err := mnist.GANFigure(res.GAN)
		if err != nil {
			return err
		}
		path := filepath.Join(out, mnist.GANFile)
		if err := plots.SavePNG(path, png); err != nil {
			return err
		}
		fmt.Println(mnist.GANSummary(res.GAN))
		fmt.Printf("wrote %s\n\n", path)
	}
	if len(res.Benchmark) > 0 {
		fmt.Println(mnist.Table(res))
	}
	return nil
}
