package experiment

import (
	"io"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/params"
)

// Spec describes an in-distribution data set's experiment (package cifar or svhn): its name,
// its hyperparameter defaults and presets, and how to load its data and OOD sets.
type Spec struct {
	Name     string
	Classes  int
	Defaults map[string]any
	Presets  params.Presets
	// LoadData loads the data of a run (real, or generated stand-ins when cfg.StandIn).
	LoadData func(cfg Config, log io.Writer) (*Data, error)
}

// NewContext returns a context with Defaults, the spec's defaults and the preset.
func (s Spec) NewContext(preset string) (*context.Context, error) {
	return NewContext(s.Defaults, s.Presets, preset)
}

// Config applies settings ("name=value;…", preset=NAME first) on top of the quick preset and
// returns the validated config.
func (s Spec) Config(settings string) (Config, error) {
	ctx, err := s.NewContext("quick")
	if err != nil {
		return Config{}, err
	}
	if err := params.Apply(ctx, settings, s.Presets); err != nil {
		return Config{}, err
	}
	return ConfigFromContext(ctx)
}

// OutName is the name of the output folder of a config: data set, preset and, for generated
// stand-in data, "-standin" (so that reports never mix quick runs, full runs or stand-in data).
func (s Spec) OutName(cfg Config) string {
	n := s.Name + "-" + cfg.Preset
	if cfg.StandIn {
		n += "-standin"
	}
	return n
}

// LoadOrStandIn loads the real data of the config; when they cannot be loaded and the config does
// not already ask for stand-ins, it says why on log and falls back to generated stand-in data in the
// real formats (the notebooks' behaviour; the command line asks for standin=true explicitly). It
// returns the config actually used.
func (s Spec) LoadOrStandIn(cfg Config, log io.Writer) (*Data, Config, error) {
	if !cfg.StandIn {
		d, err := s.LoadData(cfg, log)
		if err == nil {
			return d, cfg, nil
		}
		logf(log, "%s: the real data sets could not be loaded, so this run uses GENERATED STAND-IN data in the real file formats (not CIFAR-10/SVHN/TinyImageNet/LSUN; numbers do not compare with the paper). To use the real data, put the files in data_dir or the cache, or set download=true. The error was:\n%v", s.Name, err)
		cfg.StandIn = true
	}
	d, err := s.LoadData(cfg, log)
	return d, cfg, err
}
