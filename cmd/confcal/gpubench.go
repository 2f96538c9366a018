package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/train"
	"github.com/confcal/confcal/internal/atomicfile"
)

// The gpubench subcommand times the two training steps that dominate the paper's CIFAR-10/SVHN runs,
// built with the project's own models, losses and train package, on whatever backend is in use
// (meant for the XLA backend on a GPU; see docs/gpu.md):
//
//   - vgg13conf: the confidence-loss step (eq. 1) of VGG-13 (models.VGG13(10, width)) with β = 1:
//     cross entropy on a labelled batch + β·KL(U‖p) on an equal-size out-of-distribution batch
//     (train.Classifier);
//   - joint: one iteration of Algorithm 1 (train.Joint): discriminator, generator (non-saturating
//     GAN term + β·KL through the classifier) and classifier (eq. 1 on fresh generated samples),
//     with the DCGAN generator/discriminator of App. B and VGG-13.
//
// bench/torch_gpu.py is the PyTorch peer: the same networks and steps, printing the same fields.

// gpuBenchResult is one model's measurement, printed as a RESULT line and written as JSON.
type gpuBenchResult struct {
	Impl          string         `json:"impl"`
	Model         string         `json:"model"`
	Backend       string         `json:"backend"`
	BackendConfig string         `json:"backend_config"`
	XLAFlags      string         `json:"xla_flags,omitempty"`
	Batch         int            `json:"batch"`
	Width         float64        `json:"width"`
	Warmup        int            `json:"warmup"`
	Steps         int            `json:"steps"`
	FirstStepS    float64        `json:"first_step_s"`
	MedianMS      float64        `json:"median_ms"`
	P90MS         float64        `json:"p90_ms"`
	MeanMS        float64        `json:"mean_ms"`
	MinMS         float64        `json:"min_ms"`
	ImagesPerS    float64        `json:"images_per_s"`
	LossNames     []string       `json:"loss_names"`
	FirstLosses   []float64      `json:"first_losses"`
	LastLosses    []float64      `json:"last_losses"`
	Params        map[string]int `json:"trainable_params"`
}

// gpuBenchReport is the JSON file written with -json (or -out).
type gpuBenchReport struct {
	Command    string           `json:"command"`
	Time       string           `json:"time"`
	GoVersion  string           `json:"go_version"`
	GOMAXPROCS int              `json:"gomaxprocs"`
	Results    []gpuBenchResult `json:"results"`
	Errors     []string         `json:"errors,omitempty"`
}

// gpuBenchCase builds one step and returns it with the networks whose trainable parameters it
// reports and a function giving the step's inputs for a random batch.
type gpuBenchCase func(b backends.Backend, ctx *context.Context, batch int, width float64) (*train.Step, []string, func(r *rand.Rand) []any, error)

var gpuBenchCases = map[string]gpuBenchCase{
	"vgg13conf": func(b backends.Backend, ctx *context.Context, batch int, width float64) (*train.Step, []string, func(r *rand.Rand) []any, error) {
		net := models.Net{Scope: models.ClassifierScope, Fn: models.VGG13(10, width)}
		step, err := train.Classifier(b, ctx, train.ClassifierConfig{
			Net: net, Opt: optim.Adam{Scope: net.Scope, LearningRate: 1e-3}, Beta: 1})
		inputs := func(r *rand.Rand) []any { return []any{images(r, batch), labels(r, batch), images(r, batch)} }
		return step, []string{models.ClassifierScope}, inputs, err
	},
	"joint": func(b backends.Backend, ctx *context.Context, batch int, width float64) (*train.Step, []string, func(r *rand.Rand) []any, error) {
		const zDim = 100
		gen := models.Net{Scope: models.GeneratorScope, Fn: models.DCGANGenerator(3, width)}
		disc := models.Net{Scope: models.DiscriminatorScope, Fn: models.DCGANDiscriminator(width)}
		net := models.Net{Scope: models.ClassifierScope, Fn: models.VGG13(10, width)}
		step, err := train.Joint(b, ctx, train.JointConfig{
			GAN: train.GANConfig{Generator: gen, Discriminator: disc,
				OptG: optim.Adam{Scope: gen.Scope, LearningRate: 2e-4, Beta1: 0.5},
				OptD: optim.Adam{Scope: disc.Scope, LearningRate: 2e-4, Beta1: 0.5}},
			Opt: optim.Adam{Scope: net.Scope, LearningRate: 1e-3}, Net: net, Beta: 1})
		inputs := func(r *rand.Rand) []any {
			return []any{images(r, batch), labels(r, batch), normal(r, batch, zDim), normal(r, batch, zDim)}
		}
		return step, []string{models.DiscriminatorScope, models.GeneratorScope, models.ClassifierScope}, inputs, err
	},
}

// gpuBenchPool is how many distinct random input batches are cycled through. They are made before
// timing; after its first use a batch stays on the device (GoMLX keeps a tensor's device buffer), so
// step times exclude host-to-device copies, as in the PyTorch script whose data live on the GPU.
const gpuBenchPool = 2

func runGPUBench(args []string) error {
	fs := flag.NewFlagSet("gpubench", flag.ContinueOnError)
	batch := fs.Int("batch", 128, "in-distribution batch size (plus as many OOD or generated images)")
	steps := fs.Int("steps", 50, "timed steps after the first step and the warm-up")
	warmup := fs.Int("warmup", 3, "untimed steps after the first (compile) step")
	names := fs.String("models", "vgg13conf,joint", "steps to time: vgg13conf (VGG-13 confidence loss), joint (Algorithm 1: D + G + classifier)")
	width := fs.Float64("width", 1, "width multiplier of every network (1: the paper's; smaller only for quick CPU checks)")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	outDir := fs.String("out", "", "output folder: writes gpubench.json there (unless -json names a file)")
	seed := fs.Uint64("seed", 1, "seed of the random data and of the variables' initialisation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *batch < 2:
		return errors.Errorf("-batch must be >= 2 (batch norm needs 2 samples), got %d", *batch)
	case *steps < 1:
		return errors.Errorf("-steps must be >= 1, got %d", *steps)
	case *warmup < 0:
		return errors.Errorf("-warmup must be >= 0, got %d", *warmup)
	case !(*width > 0) || math.IsInf(*width, 0):
		return errors.Errorf("-width must be > 0, got %v", *width)
	}
	var list []string
	for _, n := range strings.Split(*names, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, ok := gpuBenchCases[n]; !ok {
			return errors.Errorf("-models: unknown step %q (known: vgg13conf, joint)", n)
		}
		list = append(list, n)
	}
	if len(list) == 0 {
		return errors.New("-models: nothing to run")
	}
	if *jsonPath == "" && *outDir != "" {
		*jsonPath = filepath.Join(*outDir, "gpubench.json")
	}

	b, err := backend.New()
	if err != nil {
		return err
	}
	xlaFlags := os.Getenv("XLA_FLAGS") // read after backend.New, which may add the autotune cache dir
	fmt.Printf("gpubench: backend %s (config %q)\n", b.Description(), backend.Config())
	fmt.Printf("gpubench: XLA_FLAGS=%q GOMAXPROCS=%d %s\n", xlaFlags, runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Printf("gpubench: batch %d (+%d OOD/generated), width %g, warm-up %d, timed steps %d, float32\n",
		*batch, *batch, *width, *warmup, *steps)

	report := gpuBenchReport{Command: "confcal gpubench " + strings.Join(args, " "),
		Time: time.Now().UTC().Format(time.RFC3339), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	var firstErr error
	for _, name := range list {
		res, err := gpuBenchOne(b, name, *batch, *width, *warmup, *steps, *seed)
		if err != nil {
			// Report and go on with the next model: one failing step should not hide the other's numbers.
			fmt.Printf("RESULT impl=confcal model=%s status=error\n", name)
			fmt.Fprintf(os.Stderr, "gpubench %s: %v\n", name, err)
			report.Errors = append(report.Errors, fmt.Sprintf("%s: %v", name, err))
			if firstErr == nil {
				firstErr = errors.Wrap(err, name)
			}
			continue
		}
		res.XLAFlags = xlaFlags
		report.Results = append(report.Results, res)
		if *jsonPath != "" { // rewrite after each model, so a later timeout keeps the earlier numbers
			if err := writeGPUBenchJSON(*jsonPath, report); err != nil {
				return err
			}
		}
	}
	if *jsonPath != "" {
		if err := writeGPUBenchJSON(*jsonPath, report); err != nil {
			return err
		}
		fmt.Printf("gpubench: wrote %s\n", *jsonPath)
	}
	return firstErr
}

// writeGPUBenchJSON writes report to path atomically (a temporary file renamed over it), so that a
// run killed while writing leaves the previous report whole.
func writeGPUBenchJSON(path string, report gpuBenchReport) error {
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o644)
}

// gpuBenchOne builds, compiles and times one step.
func gpuBenchOne(b backends.Backend, name string, batch int, width float64, warmup, steps int, seed uint64) (gpuBenchResult, error) {
	res := gpuBenchResult{Impl: "confcal", Model: name, Backend: b.Name(), BackendConfig: backend.Config(),
		Batch: batch, Width: width, Warmup: warmup, Steps: steps}
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(seed)); err != nil {
		return res, err
	}
	r := rand.New(rand.NewPCG(seed, 2))
	t0 := time.Now()
	step, nets, inputs, err := gpuBenchCases[name](b, ctx, batch, width)
	if err != nil {
		return res, err
	}
	// The input batches are made outside the timed region.
	pool := make([][]any, gpuBenchPool)
	for i := range pool {
		pool[i] = inputs(r)
	}
	buildTime := time.Since(t0)
	t0 = time.Now()
	first, err := step.Run(pool[0]...)
	if err != nil {
		return res, errors.Wrap(err, "first step")
	}
	res.FirstStepS = (buildTime + time.Since(t0)).Seconds()
	res.LossNames, res.FirstLosses = step.Names(), first
	fmt.Printf("[%s] first step (graph build + compile + first run): %.2f s, losses %v=%.4g\n",
		name, res.FirstStepS, res.LossNames, first)
	for i := range warmup {
		if _, err := step.Run(pool[(i+1)%len(pool)]...); err != nil {
			return res, errors.Wrapf(err, "warm-up step %d", i+1)
		}
	}
	times := make([]time.Duration, steps)
	var last []float64
	for i := range times {
		in := pool[(warmup+1+i)%len(pool)]
		t := time.Now()
		last, err = step.Run(in...) // reads the losses back: the step has finished on the device
		times[i] = time.Since(t)
		if err != nil {
			return res, errors.Wrapf(err, "timed step %d", i+1)
		}
	}
	res.LastLosses = last
	res.MedianMS, res.P90MS, res.MeanMS, res.MinMS = durationStats(times)
	res.ImagesPerS = float64(batch) / (res.MedianMS / 1000)
	res.Params = map[string]int{}
	for v := range ctx.IterVariables() {
		for _, n := range nets {
			if v.Trainable && optim.InScope(v.Scope(), n) {
				res.Params[n] += v.Shape().Size()
			}
		}
	}
	fmt.Printf("[%s] last losses %v=%.4g; trainable parameters %v\n", name, res.LossNames, last, res.Params)
	fmt.Printf("[%s] %d steps: median %.2f ms, p90 %.2f ms, mean %.2f ms, min %.2f ms; %.1f images/s (in-distribution images, %d per step)\n",
		name, steps, res.MedianMS, res.P90MS, res.MeanMS, res.MinMS, res.ImagesPerS, batch)
	fmt.Printf("RESULT impl=confcal model=%s backend=%s batch=%d first_step_s=%.2f median_ms=%.3f p90_ms=%.3f images_per_s=%.1f\n",
		name, resultToken(backend.Config()), batch, res.FirstStepS, res.MedianMS, res.P90MS, res.ImagesPerS)
	return res, nil
}

// durationStats returns the median, 90th percentile (nearest rank), mean and minimum of ds in
// milliseconds. ds must not be empty; it is sorted in place.
func durationStats(ds []time.Duration) (median, p90, mean, minimum float64) {
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	n := len(ds)
	if n%2 == 1 {
		median = ms(ds[n/2])
	} else {
		median = (ms(ds[n/2-1]) + ms(ds[n/2])) / 2
	}
	p90 = ms(ds[max(0, int(math.Ceil(0.9*float64(n)))-1)])
	var sum float64
	for _, d := range ds {
		sum += ms(d)
	}
	return median, p90, sum / float64(n), ms(ds[0])
}

// resultToken gives the backend's name from its configuration "name[:options]" ("go", "xla"), as
// one space-free field of a RESULT line.
func resultToken(config string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(config), ":")
	if s == "" {
		return "unknown"
	}
	return s
}
