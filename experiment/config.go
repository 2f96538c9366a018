package experiment

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/params"
)

// Defaults are the hyperparameters of a run and their values in the paper's setting (App. B); the
// data set packages (cifar, svhn) add presets on top. Every one can be changed with -set.
var Defaults = map[string]any{
	"seed":     42,
	"data_dir": "",    // directory holding the data files (default: the cache, $CONFCAL_DATA)
	"download": false, // download missing data files into the cache
	// accept data files of fewer images than the real sets (a deliberate subset); otherwise their
	// counts and published checksums are checked
	"data_subset": false,
	"standin":     false, // use generated stand-in data in the real file formats instead of the real data
	"out_dir":     "",    // results and checkpoints (default: ./out/<data set>)

	"model": "vgg13", // vgg13 (Fig. 6), alexnet (App. B) or simplecnn (Fig. 2)
	"width": 1.0,     // filter and unit counts × this (1: the paper's networks)

	"train_n": 0,    // training images used (0: all)
	"test_n":  0,    // in-distribution test images used (0: all)
	"ood_n":   0,    // images per OOD set, validation included (0: all)
	"val_n":   1000, // OOD validation images per OOD set (App. B: 1,000), and in-distribution calibration images

	"epochs":         100,
	"batch":          128,
	"lr":             0.0002,
	"lr_decay_epoch": 60,  // the learning rate is multiplied by lr_decay from this epoch on (0-based)
	"lr_decay":       0.1, // App. B: "drop the learning rate by 0.1 at 60 epoch"
	"beta":           1.0, // β of the confidence loss, eq. 3 and the joint loss

	"gan_width":  1.0, // DCGAN filter counts × this
	"gan_z":      100, // latent dimension
	"gan_lr":     0.0002,
	"gan_beta1":  0.5, // DCGAN's Adam β1
	"gan_epochs": 100, // epochs of the original GAN pre-trained for the conf-gan regime
	"pt_weight":  0.1, // weight of the pull-away term in joint-pt (Zhao et al. 2017 use 0.1; the paper gives none)

	"regimes":  "ce,conf-seen,conf-gan,joint,joint-pt,kplus1",
	"odin":     true,                  // also evaluate the ODIN detector (grid chosen on the validation split)
	"odin_t":   "1,10,100,500,1000",   // ODIN's temperatures (App. C.3)
	"odin_eps": "0,0.0001,0.001,0.01", // ODIN's perturbation magnitudes (App. C.3)
	"guided_n": 4,                     // in-distribution and OOD images per set whose guided-backprop maps are saved (Fig. 5)

	// Hyperparameter sweep (App. B); used by the sweep command only.
	"sweep_beta":  "0:2:0.1", // from:to:step or a comma list
	"sweep_batch": "64,128",
	"sweep_lr":    "0.001,0.0005,0.0002",
}

// NewContext returns a context holding Defaults, then the given data-set defaults, then the preset.
func NewContext(dataDefaults map[string]any, presets params.Presets, preset string) (*context.Context, error) {
	ctx := context.New()
	ctx.SetParams(Defaults)
	ctx.SetParams(dataDefaults)
	ctx.SetParam(params.Key, preset)
	if err := params.Apply(ctx, params.Key+"="+preset, presets); err != nil {
		return nil, err
	}
	return ctx, nil
}

// Config is the typed, validated view of a run's hyperparameters.
type Config struct {
	Preset   string `json:"preset"`
	Seed     int    `json:"seed"`
	DataDir  string `json:"data_dir,omitempty"`
	Download bool   `json:"download,omitempty"`
	// DataSubset accepts data files of fewer images than the real sets (the loaders' Subset).
	DataSubset bool   `json:"data_subset,omitempty"`
	StandIn    bool   `json:"standin"`
	OutDir     string `json:"out_dir,omitempty"`

	Model string  `json:"model"`
	Width float64 `json:"width"`

	TrainN int `json:"train_n"`
	TestN  int `json:"test_n"`
	OODN   int `json:"ood_n"`
	ValN   int `json:"val_n"`

	Epochs      int     `json:"epochs"`
	Batch       int     `json:"batch"`
	LR          float64 `json:"lr"`
	DecayEpoch  int     `json:"lr_decay_epoch"`
	DecayFactor float64 `json:"lr_decay"`
	Beta        float64 `json:"beta"`

	GANWidth  float64 `json:"gan_width"`
	GANZ      int     `json:"gan_z"`
	GANLR     float64 `json:"gan_lr"`
	GANBeta1  float64 `json:"gan_beta1"`
	GANEpochs int     `json:"gan_epochs"`
	PTWeight  float64 `json:"pt_weight"`

	Regimes []Regime `json:"regimes"`
	ODIN    bool     `json:"odin"`
	// ODINTemperatures and ODINEpsilons span ODIN's grid.
	ODINTemperatures []float64 `json:"odin_t"`
	ODINEpsilons     []float64 `json:"odin_eps"`
	GuidedN          int       `json:"guided_n"`

	SweepBetas   []float64 `json:"sweep_beta"`
	SweepBatches []int     `json:"sweep_batch"`
	SweepLRs     []float64 `json:"sweep_lr"`
}

// ConfigFromContext reads and validates the hyperparameters of ctx; errors name the parameter.
func ConfigFromContext(ctx *context.Context) (Config, error) {
	i := func(k string) int { return context.GetParamOr(ctx, k, -1) }
	f := func(k string) float64 { return context.GetParamOr(ctx, k, math.NaN()) }
	s := func(k string) string { return context.GetParamOr(ctx, k, "") }
	b := func(k string) bool { return context.GetParamOr(ctx, k, false) }
	c := Config{
		Preset: s(params.Key), Seed: i("seed"), DataDir: s("data_dir"), Download: b("download"), DataSubset: b("data_subset"),
		StandIn: b("standin"), OutDir: s("out_dir"),
		Model: s("model"), Width: f("width"),
		TrainN: i("train_n"), TestN: i("test_n"), OODN: i("ood_n"), ValN: i("val_n"),
		Epochs: i("epochs"), Batch: i("batch"), LR: f("lr"), DecayEpoch: i("lr_decay_epoch"),
		DecayFactor: f("lr_decay"), Beta: f("beta"),
		GANWidth: f("gan_width"), GANZ: i("gan_z"), GANLR: f("gan_lr"), GANBeta1: f("gan_beta1"),
		GANEpochs: i("gan_epochs"), PTWeight: f("pt_weight"),
		ODIN: b("odin"), GuidedN: i("guided_n"),
	}
	var err error
	if c.Regimes, err = ParseRegimes(s("regimes")); err != nil {
		return c, err
	}
	if c.SweepBetas, err = parseFloats("sweep_beta", s("sweep_beta")); err != nil {
		return c, err
	}
	var batches []float64
	if batches, err = parseFloats("sweep_batch", s("sweep_batch")); err != nil {
		return c, err
	}
	for _, v := range batches {
		if v != math.Trunc(v) || v < 2 {
			return c, fmt.Errorf("sweep_batch: %v is not a batch size (an integer >= 2)", v)
		}
		c.SweepBatches = append(c.SweepBatches, int(v))
	}
	if c.SweepLRs, err = parseFloats("sweep_lr", s("sweep_lr")); err != nil {
		return c, err
	}
	if c.ODINTemperatures, err = parseFloats("odin_t", s("odin_t")); err != nil {
		return c, err
	}
	if c.ODINEpsilons, err = parseFloats("odin_eps", s("odin_eps")); err != nil {
		return c, err
	}
	for _, v := range c.ODINTemperatures {
		if !(v > 0) {
			return c, fmt.Errorf("odin_t: temperatures must be > 0, got %v", v)
		}
	}
	for _, v := range c.ODINEpsilons {
		if !(v >= 0) {
			return c, fmt.Errorf("odin_eps: magnitudes must be >= 0, got %v", v)
		}
	}
	return c, c.Validate()
}

// Validate names the first bad setting.
func (c Config) Validate() error {
	if _, err := c.ClassifierFn(10); err != nil {
		return err
	}
	for _, p := range []struct {
		name   string
		v, min int
	}{{"train_n", c.TrainN, 0}, {"test_n", c.TestN, 0}, {"ood_n", c.OODN, 0}, {"val_n", c.ValN, 1},
		{"epochs", c.Epochs, 1}, {"batch", c.Batch, 2}, {"lr_decay_epoch", c.DecayEpoch, 0},
		{"gan_z", c.GANZ, 1}, {"gan_epochs", c.GANEpochs, 1}, {"guided_n", c.GuidedN, 0}} {
		if p.v < p.min {
			return fmt.Errorf("%s must be >= %d, got %d", p.name, p.min, p.v)
		}
	}
	if c.OODN > 0 && c.OODN <= c.ValN {
		return fmt.Errorf("ood_n (%d) must exceed val_n (%d): val_n OOD images are kept for validation", c.OODN, c.ValN)
	}
	if c.TestN > 0 && c.TestN <= c.ValN {
		return fmt.Errorf("test_n (%d) must exceed val_n (%d): val_n test images calibrate the temperature", c.TestN, c.ValN)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"lr", c.LR}, {"gan_lr", c.GANLR}, {"width", c.Width}, {"gan_width", c.GANWidth}, {"lr_decay", c.DecayFactor}} {
		if !(p.v > 0) || math.IsInf(p.v, 0) {
			return fmt.Errorf("%s must be a finite number > 0, got %v", p.name, p.v)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"beta", c.Beta}, {"pt_weight", c.PTWeight}} {
		if !(p.v >= 0) || math.IsInf(p.v, 0) {
			return fmt.Errorf("%s must be a finite number >= 0, got %v", p.name, p.v)
		}
	}
	if !(c.GANBeta1 > 0 && c.GANBeta1 < 1) {
		return fmt.Errorf("gan_beta1 must be in (0,1), got %v", c.GANBeta1)
	}
	return nil
}

// ClassifierFn returns the classifier network of the config for the given number of outputs.
func (c Config) ClassifierFn(outputs int) (models.Fn, error) {
	w := func(n int) int { return max(1, int(math.Round(float64(n)*c.Width))) }
	switch c.Model {
	case "vgg13":
		return models.VGG13(outputs, c.Width), nil
	case "alexnet":
		return models.AlexNet(outputs, c.Width), nil
	case "simplecnn":
		return models.SimpleCNN(outputs, w(128), w(256), w(1024), w(256)), nil
	}
	return nil, fmt.Errorf("model must be vgg13, alexnet or simplecnn, got %q", c.Model)
}

// classifier returns the classifier as a models.Net (K+1 outputs for the K+1-class regime).
func (c Config) classifier(classes int, regime Regime) models.Net {
	out := classes
	if regime == KPlusOne {
		out++
	}
	fn, err := c.ClassifierFn(out)
	if err != nil {
		panic(err) // Validate checked the model name
	}
	return models.Net{Scope: models.ClassifierScope, Fn: fn}
}

// ganNets returns the DCGAN generator and discriminator for channels-channel images, in scopes
// prefixed by prefix.
func (c Config) ganNets(prefix string, channels int) (gen, disc models.Net) {
	return models.Net{Scope: prefix + models.GeneratorScope, Fn: models.DCGANGenerator(channels, c.GANWidth)},
		models.Net{Scope: prefix + models.DiscriminatorScope, Fn: models.DCGANDiscriminator(c.GANWidth)}
}

// parseFloats parses "a,b,c" or "from:to:step" (inclusive, rounded to 1e-9).
func parseFloats(name, s string) ([]float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%s: empty list", name)
	}
	if parts := strings.Split(s, ":"); len(parts) == 3 {
		var v [3]float64
		for k, p := range parts {
			x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not from:to:step (%v)", name, s, err)
			}
			v[k] = x
		}
		if !(v[2] > 0) || v[1] < v[0] || (v[1]-v[0])/v[2] > 1e4 {
			return nil, fmt.Errorf("%s: bad range %q (want from <= to and a step > 0)", name, s)
		}
		var out []float64
		for k := 0; ; k++ {
			x := math.Round((v[0]+float64(k)*v[2])*1e9) / 1e9
			if x > v[1]+1e-9 {
				break
			}
			out = append(out, x)
		}
		return out, nil
	}
	var out []float64
	for _, p := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", name, p)
		}
		out = append(out, x)
	}
	return out, nil
}
