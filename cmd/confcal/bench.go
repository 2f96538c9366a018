package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/train"
)

// benchCase is one timed training step.
type benchCase struct {
	batch int
	build func(ctx *context.Context) (*train.Step, func(r *rand.Rand) []any, error)
}

func images(r *rand.Rand, n int) *tensors.Tensor {
	v := make([]float32, n*3*32*32)
	for i := range v {
		v[i] = r.Float32()
	}
	return tensors.FromFlatDataAndDimensions(v, n, 3, 32, 32)
}

func labels(r *rand.Rand, n int) *tensors.Tensor {
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(r.IntN(10))
	}
	return tensors.FromFlatDataAndDimensions(v, n)
}

func normal(r *rand.Rand, n, d int) *tensors.Tensor {
	v := make([]float32, n*d)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(v, n, d)
}

// classifierCase is the confidence-loss step: cross entropy on a batch + β KL on an equal OOD batch.
func classifierCase(batch int, fn models.Fn) benchCase {
	return benchCase{batch: batch, build: func(ctx *context.Context) (*train.Step, func(r *rand.Rand) []any, error) {
		net := models.Net{Scope: models.ClassifierScope, Fn: fn}
		step, err := train.Classifier(backend.Must(), ctx, train.ClassifierConfig{
			Net: net, Opt: optim.Adam{Scope: net.Scope, LearningRate: 1e-3}, Beta: 1})
		return step, func(r *rand.Rand) []any { return []any{images(r, batch), labels(r, batch), images(r, batch)} }, err
	}}
}

var benchCases = map[string]benchCase{
	"simplecnn": classifierCase(32, models.SimpleCNN(10, 128, 256, 1024, 256)),
	"vgg13":     classifierCase(8, models.VGG13(10, 1)),
	"dcgan": {batch: 32, build: func(ctx *context.Context) (*train.Step, func(r *rand.Rand) []any, error) {
		gen := models.Net{Scope: models.GeneratorScope, Fn: models.DCGANGenerator(3, 1)}
		disc := models.Net{Scope: models.DiscriminatorScope, Fn: models.DCGANDiscriminator(1)}
		step, err := train.GAN(backend.Must(), ctx, train.GANConfig{Generator: gen, Discriminator: disc,
			OptG: optim.Adam{Scope: gen.Scope, LearningRate: 1e-3, Beta1: 0.5},
			OptD: optim.Adam{Scope: disc.Scope, LearningRate: 1e-3, Beta1: 0.5}})
		return step, func(r *rand.Rand) []any { return []any{images(r, 32), normal(r, 32, 100)} }, err
	}},
}

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	names := fs.String("models", "simplecnn,dcgan,vgg13", "models to time: simplecnn (batch 32), dcgan (D+G, batch 32), vgg13 (batch 8)")
	steps := fs.Int("steps", 5, "timed steps after the first (compile) step")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed steps of the first model of -models to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var profile *os.File
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return errors.Wrap(err, "-cpuprofile")
		}
		defer f.Close()
		profile = f
	}
	if *steps < 1 {
		return errors.Errorf("-steps must be >= 1, got %d", *steps)
	}
	b, err := backend.New()
	if err != nil {
		return err
	}
	fmt.Printf("backend %s (%s)\n", b.Name(), backend.Config())
	for _, name := range strings.Split(*names, ",") {
		c, ok := benchCases[name]
		if !ok {
			return errors.Errorf("-models: unknown model %q (known: simplecnn, dcgan, vgg13)", name)
		}
		ctx := context.New()
		if err := ctx.SetRNGStateFromSeed(1); err != nil {
			return err
		}
		step, inputs, err := c.build(ctx)
		if err != nil {
			return err
		}
		r := rand.New(rand.NewPCG(1, 2))
		in := inputs(r)
		t0 := time.Now()
		if _, err := step.Run(in...); err != nil {
			return errors.Wrap(err, name)
		}
		first := time.Since(t0)
		if profile != nil {
			if err := pprof.StartCPUProfile(profile); err != nil {
				return errors.Wrap(err, "-cpuprofile")
			}
		}
		times := make([]time.Duration, *steps)
		for i := range times {
			in := inputs(r)
			t0 := time.Now()
			if _, err := step.Run(in...); err != nil {
				return errors.Wrap(err, name)
			}
			times[i] = time.Since(t0)
		}
		if profile != nil {
			pprof.StopCPUProfile()
			profile = nil // one model per profile: the first of -models
		}
		slices.Sort(times)
		med := times[len(times)/2]
		fmt.Printf("RESULT model=%s batch=%d first_step_s=%.3f median_step_ms=%.1f images_per_s=%.1f\n",
			name, c.batch, first.Seconds(), float64(med.Microseconds())/1000, float64(c.batch)/med.Seconds())
	}
	return nil
}
