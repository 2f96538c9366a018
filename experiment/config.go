package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/params"
)

// Hyperparameters of a run, as context parameters: each can be set with -set name=value (in the
// command line and in the notebooks), and is saved under the same name in every result.json.
// Defaults holds their values in the paper's setting (App. B); the data-set specs add presets.
const (
	ParamSeed = "seed" // seeds the data subsets and splits, the initialisation and every draw of training
	// ParamDataDir is a directory holding the data files (default: the cache, $CONFCAL_DATA).
	ParamDataDir  = "data_dir"
	ParamDownload = "download" // download missing data files into the cache
	// ParamDataSubset accepts data files of fewer images than the real sets (a deliberate subset);
	// otherwise their counts and published checksums are checked.
	ParamDataSubset = "data_subset"
	ParamStandIn    = "standin" // use generated stand-in data in the real file formats instead of the real data
	ParamOutDir     = "out_dir" // results and checkpoints (default: ./out/<data set>-<preset>)
	// ParamChannels is the number of image channels (0: the data set's own; MNIST: 1, or 3 as the paper).
	ParamChannels = "channels"

	ParamModel = "model" // vgg13 (Fig. 6), alexnet (App. B) or simplecnn (Fig. 2)
	ParamWidth = "width" // filter and unit counts × this (1: the paper's networks)
	// ParamCNNSizes sets simplecnn's filters and units "conv1,conv2,fc1,fc2" (empty: the paper's
	// 128,256,1024,256 × width).
	ParamCNNSizes = "cnn_sizes"

	ParamTrainN = "train_n" // training images used (0: all)
	ParamTestN  = "test_n"  // in-distribution test images used (0: all)
	ParamOODN   = "ood_n"   // images per OOD set, validation included (0: all; 10,000 + val_n for generated sets)
	// ParamValN is the number of OOD validation images per OOD set (App. B: 1,000), and of
	// in-distribution calibration images (taken from the test set).
	ParamValN = "val_n"

	ParamEpochs = "epochs"
	ParamBatch  = "batch"
	ParamLR     = "lr" // the classifier's Adam learning rate
	// ParamDecayEpoch: the learning rate is multiplied by lr_decay from this epoch on (0-based;
	// 0: never).
	ParamDecayEpoch = "lr_decay_epoch"
	ParamDecay      = "lr_decay" // App. B: "drop the learning rate by 0.1 at 60 epoch"
	ParamBeta       = "beta"     // β of the confidence loss (eq. 1), of eq. 3 and of the joint loss

	ParamGANWidth  = "gan_width"  // DCGAN filter counts × this (1: 128/256/512)
	ParamGANZ      = "gan_z"      // latent dimension
	ParamGANLR     = "gan_lr"     // the DCGANs' Adam learning rate
	ParamGANBeta1  = "gan_beta1"  // DCGAN's Adam β1
	ParamGANEpochs = "gan_epochs" // epochs of a pre-trained GAN (conf-gan's original GAN; Figure 3's GANs)
	// ParamPTWeight weighs the pull-away term in joint-pt (Zhao et al. 2017 use 0.1; the paper gives none).
	ParamPTWeight = "pt_weight"

	ParamRegimes = "regimes" // the regimes run, comma-separated, or "all"
	ParamODIN    = "odin"    // also evaluate the ODIN detector (grid chosen on the validation split)
	ParamODINT   = "odin_t"  // ODIN's temperatures (App. C.3)
	ParamODINEps = "odin_eps"
	// ParamGuidedN is the number of in-distribution and OOD images per set whose guided-backprop maps
	// are saved (Fig. 5).
	ParamGuidedN = "guided_n"

	// The App. B hyperparameter sweep (the sweep command only): from:to:step or a comma list each.
	ParamSweepBeta  = "sweep_beta"
	ParamSweepBatch = "sweep_batch"
	ParamSweepLR    = "sweep_lr"
)

// Config is the typed, validated view of a run's hyperparameters. It is saved (JSON) under the
// parameters' names.
type Config struct {
	Preset     string
	Seed       int
	DataDir    string
	Download   bool
	DataSubset bool // accept data files of fewer images than the real sets (the loaders' Subset)
	StandIn    bool
	OutDir     string
	Channels   int

	Model    string
	Width    float64
	CNNSizes string

	TrainN, TestN, OODN, ValN int

	Epochs      int
	Batch       int
	LR          float64
	DecayEpoch  int
	DecayFactor float64
	Beta        float64

	GANWidth  float64
	GANZ      int
	GANLR     float64
	GANBeta1  float64
	GANEpochs int
	PTWeight  float64

	RegimeList string
	ODIN       bool
	// ODINGrid, ODINEpsGrid and the Sweep* lists are the texts of the lists; ConfigFromContext
	// parses them into the fields below.
	ODINTGrid, ODINEpsGrid string
	GuidedN                int

	SweepBeta, SweepBatch, SweepLR string

	// Parsed lists.
	Regimes                        []Regime
	ODINTemperatures, ODINEpsilons []float64
	SweepBetas                     []float64
	SweepBatches                   []int
	SweepLRs                       []float64
}

// param is one hyperparameter: its name, its default value and the Config field it fills.
type param struct {
	key   string
	def   any
	field func(c *Config) any // a pointer to the field
}

// paramTable lists every hyperparameter once.
var paramTable = []param{
	{params.Key, "paper", func(c *Config) any { return &c.Preset }},
	{ParamSeed, 42, func(c *Config) any { return &c.Seed }},
	{ParamDataDir, "", func(c *Config) any { return &c.DataDir }},
	{ParamDownload, false, func(c *Config) any { return &c.Download }},
	{ParamDataSubset, false, func(c *Config) any { return &c.DataSubset }},
	{ParamStandIn, false, func(c *Config) any { return &c.StandIn }},
	{ParamOutDir, "", func(c *Config) any { return &c.OutDir }},
	{ParamChannels, 0, func(c *Config) any { return &c.Channels }},
	{ParamModel, "vgg13", func(c *Config) any { return &c.Model }},
	{ParamWidth, 1.0, func(c *Config) any { return &c.Width }},
	{ParamCNNSizes, "", func(c *Config) any { return &c.CNNSizes }},
	{ParamTrainN, 0, func(c *Config) any { return &c.TrainN }},
	{ParamTestN, 0, func(c *Config) any { return &c.TestN }},
	{ParamOODN, 0, func(c *Config) any { return &c.OODN }},
	{ParamValN, 1000, func(c *Config) any { return &c.ValN }},
	{ParamEpochs, 100, func(c *Config) any { return &c.Epochs }},
	{ParamBatch, 128, func(c *Config) any { return &c.Batch }},
	{ParamLR, 0.0002, func(c *Config) any { return &c.LR }},
	{ParamDecayEpoch, 60, func(c *Config) any { return &c.DecayEpoch }},
	{ParamDecay, 0.1, func(c *Config) any { return &c.DecayFactor }},
	{ParamBeta, 1.0, func(c *Config) any { return &c.Beta }},
	{ParamGANWidth, 1.0, func(c *Config) any { return &c.GANWidth }},
	{ParamGANZ, 100, func(c *Config) any { return &c.GANZ }},
	{ParamGANLR, 0.0002, func(c *Config) any { return &c.GANLR }},
	{ParamGANBeta1, 0.5, func(c *Config) any { return &c.GANBeta1 }},
	{ParamGANEpochs, 100, func(c *Config) any { return &c.GANEpochs }},
	{ParamPTWeight, 0.1, func(c *Config) any { return &c.PTWeight }},
	{ParamRegimes, "ce,conf-seen,conf-gan,joint,joint-pt,kplus1", func(c *Config) any { return &c.RegimeList }},
	{ParamODIN, true, func(c *Config) any { return &c.ODIN }},
	{ParamODINT, "1,10,100,500,1000", func(c *Config) any { return &c.ODINTGrid }},
	{ParamODINEps, "0,0.0001,0.001,0.01", func(c *Config) any { return &c.ODINEpsGrid }},
	{ParamGuidedN, 4, func(c *Config) any { return &c.GuidedN }},
	{ParamSweepBeta, "0:2:0.1", func(c *Config) any { return &c.SweepBeta }},
	{ParamSweepBatch, "64,128", func(c *Config) any { return &c.SweepBatch }},
	{ParamSweepLR, "0.001,0.0005,0.0002", func(c *Config) any { return &c.SweepLR }},
}

// Defaults are the hyperparameters of a run and their values in the paper's setting (App. B), by
// name (the Param* constants); the data-set specs add presets on top.
var Defaults = func() map[string]any {
	m := map[string]any{}
	for _, p := range paramTable {
		if p.key != params.Key {
			m[p.key] = p.def
		}
	}
	return m
}()

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

// ConfigFromContext reads and validates the hyperparameters of ctx; errors name the parameter.
func ConfigFromContext(ctx *context.Context) (Config, error) {
	var c Config
	for _, p := range paramTable {
		switch f := p.field(&c).(type) {
		case *int:
			*f = context.GetParamOr(ctx, p.key, -1)
		case *float64:
			*f = context.GetParamOr(ctx, p.key, math.NaN())
		case *string:
			*f = context.GetParamOr(ctx, p.key, "")
		case *bool:
			*f = context.GetParamOr(ctx, p.key, false)
		}
	}
	if err := c.parseLists(false); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// parseLists parses the list parameters into the typed fields; with lenient, empty lists are left
// empty (a config saved without them) instead of being errors.
func (c *Config) parseLists(lenient bool) error {
	if lenient && c.RegimeList == "" && c.SweepBeta == "" && c.ODINTGrid == "" {
		return nil
	}
	var err error
	if c.Regimes, err = ParseRegimes(c.RegimeList); err != nil {
		return err
	}
	if c.SweepBetas, err = parseFloats(ParamSweepBeta, c.SweepBeta); err != nil {
		return err
	}
	batches, err := parseFloats(ParamSweepBatch, c.SweepBatch)
	if err != nil {
		return err
	}
	c.SweepBatches = nil
	for _, v := range batches {
		if v != math.Trunc(v) || v < 2 {
			return fmt.Errorf("%s: %v is not a batch size (an integer >= 2)", ParamSweepBatch, v)
		}
		c.SweepBatches = append(c.SweepBatches, int(v))
	}
	if c.SweepLRs, err = parseFloats(ParamSweepLR, c.SweepLR); err != nil {
		return err
	}
	if c.ODINTemperatures, err = parseFloats(ParamODINT, c.ODINTGrid); err != nil {
		return err
	}
	if c.ODINEpsilons, err = parseFloats(ParamODINEps, c.ODINEpsGrid); err != nil {
		return err
	}
	for _, v := range c.ODINTemperatures {
		if !(v > 0) {
			return fmt.Errorf("%s: temperatures must be > 0, got %v", ParamODINT, v)
		}
	}
	for _, v := range c.ODINEpsilons {
		if !(v >= 0) {
			return fmt.Errorf("%s: magnitudes must be >= 0, got %v", ParamODINEps, v)
		}
	}
	return nil
}

// MarshalJSON writes the config as an object of its parameters by name.
func (c Config) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for _, p := range paramTable {
		m[p.key] = p.field(&c)
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads a config written by MarshalJSON (parameters by name; lists written as JSON
// arrays by earlier versions are accepted) and parses its lists. Unknown names are ignored.
func (c *Config) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	for _, p := range paramTable {
		raw, ok := m[p.key]
		if !ok {
			continue
		}
		f := p.field(c)
		if err := json.Unmarshal(raw, f); err != nil {
			s, isString := f.(*string)
			var list []any
			if !isString || json.Unmarshal(raw, &list) != nil {
				return fmt.Errorf("config %s: %v", p.key, err)
			}
			parts := make([]string, len(list))
			for i, v := range list {
				parts[i] = fmt.Sprint(v)
			}
			*s = strings.Join(parts, ",")
		}
	}
	return c.parseLists(true)
}

// Validate names the first bad setting.
func (c Config) Validate() error {
	if _, err := c.ClassifierFn(10); err != nil {
		return err
	}
	for _, p := range []struct {
		name   string
		v, min int
	}{{ParamTrainN, c.TrainN, 0}, {ParamTestN, c.TestN, 0}, {ParamOODN, c.OODN, 0}, {ParamValN, c.ValN, 1},
		{ParamEpochs, c.Epochs, 1}, {ParamBatch, c.Batch, 2}, {ParamDecayEpoch, c.DecayEpoch, 0},
		{ParamGANZ, c.GANZ, 1}, {ParamGANEpochs, c.GANEpochs, 1}, {ParamGuidedN, c.GuidedN, 0}} {
		if p.v < p.min {
			return fmt.Errorf("%s must be >= %d, got %d", p.name, p.min, p.v)
		}
	}
	if c.Channels != 0 && c.Channels != 1 && c.Channels != 3 {
		return fmt.Errorf("%s must be 0 (the data set's own), 1 or 3, got %d", ParamChannels, c.Channels)
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
	}{{ParamLR, c.LR}, {ParamGANLR, c.GANLR}, {ParamWidth, c.Width}, {ParamGANWidth, c.GANWidth}, {ParamDecay, c.DecayFactor}} {
		if !(p.v > 0) || math.IsInf(p.v, 0) {
			return fmt.Errorf("%s must be a finite number > 0, got %v", p.name, p.v)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{ParamBeta, c.Beta}, {ParamPTWeight, c.PTWeight}} {
		if !(p.v >= 0) || math.IsInf(p.v, 0) {
			return fmt.Errorf("%s must be a finite number >= 0, got %v", p.name, p.v)
		}
	}
	if !(c.GANBeta1 > 0 && c.GANBeta1 < 1) {
		return fmt.Errorf("%s must be in (0,1), got %v", ParamGANBeta1, c.GANBeta1)
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
		sizes := []int{w(128), w(256), w(1024), w(256)}
		if strings.TrimSpace(c.CNNSizes) != "" {
			v, err := parseFloats(ParamCNNSizes, c.CNNSizes)
			if err != nil {
				return nil, err
			}
			if len(v) != 4 {
				return nil, fmt.Errorf("%s: want 4 sizes conv1,conv2,fc1,fc2, got %q", ParamCNNSizes, c.CNNSizes)
			}
			for i, x := range v {
				if x != math.Trunc(x) || x < 1 || x > 1<<16 {
					return nil, fmt.Errorf("%s: %v is not a layer size (an integer in 1…65536)", ParamCNNSizes, x)
				}
				sizes[i] = int(x)
			}
		}
		return models.SimpleCNN(outputs, sizes[0], sizes[1], sizes[2], sizes[3]), nil
	}
	return nil, fmt.Errorf("%s must be vgg13, alexnet or simplecnn, got %q", ParamModel, c.Model)
}

// classifier returns the classifier as a models.Net (K+1 outputs for the K+1-class regime).
func (c Config) classifier(classes int, regime Regime) models.Net {
	out := classes
	if regime.Spec().ExtraClass {
		out++
	}
	fn, err := c.ClassifierFn(out)
	if err != nil {
		panic(err) // Validate checked the model
	}
	return models.Net{Scope: models.ClassifierScope, Fn: fn}
}

// ganNets returns the DCGAN generator and discriminator for channels-channel images, in scopes
// prefixed by prefix.
func (c Config) ganNets(prefix string, channels int) (gen, disc models.Net) {
	return models.Net{Scope: prefix + models.GeneratorScope, Fn: models.DCGANGenerator(channels, c.GANWidth)},
		models.Net{Scope: prefix + models.DiscriminatorScope, Fn: models.DCGANDiscriminator(c.GANWidth)}
}

// lrAt is the classifier's learning rate in an epoch (App. B: × 0.1 from epoch 60).
func (c Config) lrAt(epoch int) float64 {
	if c.DecayEpoch > 0 && epoch >= c.DecayEpoch {
		return c.LR * c.DecayFactor
	}
	return c.LR
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
